package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * {@code fcntl.h} (with {@code _GNU_SOURCE}, which also brings {@code linux/falloc.h}): open flags, fcntl commands
 * including open-file-description locks, fallocate modes.
 *
 * <p>{@code open}, {@code openat} and {@code fcntl} are variadic: bound with {@code firstVariadicArg}, one handle
 * per argument type. Handles named {@code *_ERRNO} capture errno (first argument: {@link Errno#buffer()});
 * {@link Posix} applies the {@code >= 0 / -errno} convention. Any thread may call.
 */
public final class Fcntl {
    private Fcntl() {}

    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3, O_CREAT = 0100, O_EXCL = 0200,
            O_NOCTTY = 0400, O_TRUNC = 01000, O_APPEND = 02000, O_NONBLOCK = 04000, O_DSYNC = 010000,
            O_DIRECT = 040000, O_LARGEFILE = 0, O_DIRECTORY = 0200000, O_NOFOLLOW = 0400000,
            O_NOATIME = 01000000, O_CLOEXEC = 02000000, O_SYNC = 04010000, O_PATH = 010000000,
            O_TMPFILE = 020200000;
    public static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200,
            AT_EMPTY_PATH = 0x1000;

    public static final int F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5,
            F_SETLK = 6, F_SETLKW = 7, F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38,
            F_DUPFD_CLOEXEC = 1030, F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032;
    public static final int FD_CLOEXEC = 1;
    public static final short F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;

    public static final int FALLOC_FL_KEEP_SIZE = 0x01, FALLOC_FL_PUNCH_HOLE = 0x02, FALLOC_FL_NO_HIDE_STALE = 0x04,
            FALLOC_FL_COLLAPSE_RANGE = 0x08, FALLOC_FL_ZERO_RANGE = 0x10, FALLOC_FL_INSERT_RANGE = 0x20,
            FALLOC_FL_UNSHARE_RANGE = 0x40;

    /** struct flock (32 bytes on LP64): the argument of F_GETLK/F_SETLK and the F_OFD_* commands. */
    public static final StructLayout flock = structLayout(
            JAVA_SHORT.withName("l_type"),
            JAVA_SHORT.withName("l_whence"),
            paddingLayout(4),
            JAVA_LONG.withName("l_start"),
            JAVA_LONG.withName("l_len"),
            JAVA_INT.withName("l_pid"),
            paddingLayout(4)
    ).withName("flock");

    /** int open(const char *pathname, int flags, ... mode_t mode) */
    public static MethodHandle open_ERRNO() {
        return H_open_ERRNO.H;
    }

    private static final class H_open_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Errno.CAPTURE, Linker.Option.firstVariadicArg(2));
    }

    /** int openat(int dirfd, const char *pathname, int flags, ... mode_t mode) */
    public static MethodHandle openat_ERRNO() {
        return H_openat_ERRNO.H;
    }

    private static final class H_openat_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("openat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Errno.CAPTURE, Linker.Option.firstVariadicArg(3));
    }

    /** int fcntl(int fd, int cmd, ... int arg) — F_GETFL/F_SETFL/F_GETFD/F_SETFD/F_DUPFD* */
    public static MethodHandle fcntl_int_ERRNO() {
        return H_fcntl_int_ERRNO.H;
    }

    private static final class H_fcntl_int_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Errno.CAPTURE, Linker.Option.firstVariadicArg(2));
    }

    /** int fcntl(int fd, int cmd, ... struct flock *lock) — F_GETLK/F_SETLK/F_OFD_* */
    public static MethodHandle fcntl_ptr_ERRNO() {
        return H_fcntl_ptr_ERRNO.H;
    }

    private static final class H_fcntl_ptr_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), Errno.CAPTURE, Linker.Option.firstVariadicArg(2));
    }

    /** int fallocate(int fd, int mode, off_t offset, off_t len) */
    public static MethodHandle fallocate_ERRNO() {
        return H_fallocate_ERRNO.H;
    }

    private static final class H_fallocate_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("fallocate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Errno.CAPTURE);
    }
}
