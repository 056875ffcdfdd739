package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * {@code sys/stat.h}: {@code struct stat} (x86-64 glibc layout, proven by the layout probe), fstat/stat and the
 * file-type bits. Handles named {@code *_ERRNO} capture errno (first argument: {@link Errno#buffer()});
 * {@link Posix} applies the {@code >= 0 / -errno} convention. Any thread may call.
 */
public final class SysStat {
    private SysStat() {}

    public static final int S_IFMT = 0170000, S_IFSOCK = 0140000, S_IFLNK = 0120000, S_IFREG = 0100000,
            S_IFBLK = 060000, S_IFDIR = 040000, S_IFCHR = 020000, S_IFIFO = 010000;

    /** struct stat (144 bytes on x86-64). */
    public static final StructLayout stat = structLayout(
            JAVA_LONG.withName("st_dev"),
            JAVA_LONG.withName("st_ino"),
            JAVA_LONG.withName("st_nlink"),
            JAVA_INT.withName("st_mode"),
            JAVA_INT.withName("st_uid"),
            JAVA_INT.withName("st_gid"),
            paddingLayout(4),
            JAVA_LONG.withName("st_rdev"),
            JAVA_LONG.withName("st_size"),
            JAVA_LONG.withName("st_blksize"),
            JAVA_LONG.withName("st_blocks"),
            Time.timespec.withName("st_atim"),
            Time.timespec.withName("st_mtim"),
            Time.timespec.withName("st_ctim"),
            sequenceLayout(3, JAVA_LONG).withName("__glibc_reserved")
    ).withName("stat");

    /** int fstat(int fd, struct stat *statbuf) */
    public static MethodHandle fstat_ERRNO() {
        return H_fstat_ERRNO.H;
    }

    private static final class H_fstat_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("fstat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), Errno.CAPTURE);
    }

    /** int stat(const char *pathname, struct stat *statbuf) */
    public static MethodHandle stat_ERRNO() {
        return H_stat_ERRNO.H;
    }

    private static final class H_stat_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("stat", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), Errno.CAPTURE);
    }
}
