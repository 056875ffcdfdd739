package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * {@code sys/mman.h} (with {@code _GNU_SOURCE}): mappings and memfd. Handles named {@code *_ERRNO} capture errno
 * (first argument: {@link Errno#buffer()}); {@link Posix} applies the {@code >= 0 / -errno} convention.
 * Any thread may call.
 */
public final class SysMman {
    private SysMman() {}

    public static final int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    public static final int MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20,
            MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000, MAP_LOCKED = 0x2000, MAP_HUGETLB = 0x40000;
    public static final long MAP_FAILED = -1L;
    public static final int MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_HUGETLB = 4;
    public static final int MADV_NORMAL = 0, MADV_RANDOM = 1, MADV_SEQUENTIAL = 2, MADV_WILLNEED = 3,
            MADV_DONTNEED = 4, MADV_DONTFORK = 10, MADV_DODUMP = 17, MADV_DONTDUMP = 16;

    /** void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) */
    public static MethodHandle mmap_ERRNO() {
        return H_mmap_ERRNO.H;
    }

    private static final class H_mmap_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("mmap", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), Errno.CAPTURE);
    }

    /** int munmap(void *addr, size_t length) */
    public static MethodHandle munmap_ERRNO() {
        return H_munmap_ERRNO.H;
    }

    private static final class H_munmap_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), Errno.CAPTURE);
    }

    /** int madvise(void *addr, size_t length, int advice) */
    public static MethodHandle madvise_ERRNO() {
        return H_madvise_ERRNO.H;
    }

    private static final class H_madvise_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), Errno.CAPTURE);
    }

    /** int memfd_create(const char *name, unsigned int flags) */
    public static MethodHandle memfd_create_ERRNO() {
        return H_memfd_create_ERRNO.H;
    }

    private static final class H_memfd_create_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Errno.CAPTURE);
    }
}
