package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

/**
 * Bindings for the libc functions the daemon uses (unistd.h, sys/mman.h, sys/eventfd.h, fcntl.h), in jextract's
 * shape: constants and {@code static final} downcall handles only.
 *
 * <p>Every handle whose name ends in {@code _ERRNO} captures errno ({@link Errno#CAPTURE}): its first argument is
 * the capture buffer ({@link Errno#buffer()}), and it returns the raw libc result (-1 on failure). The shim
 * {@link Posix} applies the project's convention (>= 0 or -errno). Variadic functions are bound with
 * {@code firstVariadicArg}. Any thread may call; none of these are marked critical, since they may block.
 */
public final class Libc {
    private Libc() {}

    private static final Linker.Option[] CAPTURE = {Errno.CAPTURE};

    // ---- sys/mman.h
    public static final int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
    public static final int MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20,
            MAP_POPULATE = 0x8000;
    public static final long MAP_FAILED = -1L;

    /** void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) */
    public static final MethodHandle mmap_ERRNO = NativeLibraries.libc("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), CAPTURE);
    /** int munmap(void *addr, size_t length) */
    public static final MethodHandle munmap_ERRNO = NativeLibraries.libc("munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE);

    // ---- unistd.h
    /** int close(int fd) */
    public static final MethodHandle close_ERRNO = NativeLibraries.libc("close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE);
    /** ssize_t read(int fd, void *buf, size_t count) */
    public static final MethodHandle read_ERRNO = NativeLibraries.libc("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE);
    /** ssize_t write(int fd, const void *buf, size_t count) */
    public static final MethodHandle write_ERRNO = NativeLibraries.libc("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE);
    /** ssize_t pread(int fd, void *buf, size_t count, off_t offset) */
    public static final MethodHandle pread_ERRNO = NativeLibraries.libc("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), CAPTURE);
    /** ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) */
    public static final MethodHandle pwrite_ERRNO = NativeLibraries.libc("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), CAPTURE);
    /** int dup2(int oldfd, int newfd) */
    public static final MethodHandle dup2_ERRNO = NativeLibraries.libc("dup2",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE);
    /** pid_t setsid(void) */
    public static final MethodHandle setsid_ERRNO = NativeLibraries.libc("setsid",
            FunctionDescriptor.of(JAVA_INT), CAPTURE);
    /** pid_t getpid(void) */
    public static final MethodHandle getpid = NativeLibraries.libc("getpid", FunctionDescriptor.of(JAVA_INT));

    // ---- fcntl.h
    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200,
            O_NOCTTY = 0400, O_TRUNC = 01000, O_APPEND = 02000, O_NONBLOCK = 04000, O_DSYNC = 010000,
            O_DIRECT = 040000, O_LARGEFILE = 0100000, O_DIRECTORY = 0200000, O_CLOEXEC = 02000000;
    /** int open(const char *pathname, int flags, ...) — variadic: the mode argument */
    public static final MethodHandle open_ERRNO = NativeLibraries.libc("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Errno.CAPTURE, Linker.Option.firstVariadicArg(2));

    // ---- sys/eventfd.h
    public static final int EFD_SEMAPHORE = 1, EFD_CLOEXEC = 02000000, EFD_NONBLOCK = 04000;
    /** int eventfd(unsigned int initval, int flags) */
    public static final MethodHandle eventfd_ERRNO = NativeLibraries.libc("eventfd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE);
}
