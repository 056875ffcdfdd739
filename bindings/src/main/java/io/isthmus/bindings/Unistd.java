package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * {@code unistd.h}: descriptors, file I/O, process identity. Constants and handles only.
 *
 * <p>Handles named {@code *_ERRNO} capture errno ({@link Errno#CAPTURE}): their first argument is the capture
 * buffer ({@link Errno#buffer()}) and they return the raw libc result (-1 on failure); {@link Posix} turns that
 * into {@code >= 0} or {@code -errno}. Any thread may call; none is critical (they may block).
 */
public final class Unistd {
    private Unistd() {}

    public static final int STDIN_FILENO = 0, STDOUT_FILENO = 1, STDERR_FILENO = 2;
    public static final int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;
    public static final int F_OK = 0, X_OK = 1, W_OK = 2, R_OK = 4;

    private static MethodHandle c(String name, FunctionDescriptor fd) {
        return NativeLibraries.libc(name, fd, Errno.CAPTURE);
    }

    /** int close(int fd) */
    public static MethodHandle close_ERRNO() {
        return H_close_ERRNO.H;
    }

    private static final class H_close_ERRNO {
        static final MethodHandle H = c("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    /** ssize_t read(int fd, void *buf, size_t count) */
    public static MethodHandle read_ERRNO() {
        return H_read_ERRNO.H;
    }

    private static final class H_read_ERRNO {
        static final MethodHandle H = c("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    }

    /** ssize_t write(int fd, const void *buf, size_t count) */
    public static MethodHandle write_ERRNO() {
        return H_write_ERRNO.H;
    }

    private static final class H_write_ERRNO {
        static final MethodHandle H = c("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    }

    /** ssize_t pread(int fd, void *buf, size_t count, off_t offset) */
    public static MethodHandle pread_ERRNO() {
        return H_pread_ERRNO.H;
    }

    private static final class H_pread_ERRNO {
        static final MethodHandle H = c("pread", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    }

    /** ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) */
    public static MethodHandle pwrite_ERRNO() {
        return H_pwrite_ERRNO.H;
    }

    private static final class H_pwrite_ERRNO {
        static final MethodHandle H = c("pwrite", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    }

    /** off_t lseek(int fd, off_t offset, int whence) */
    public static MethodHandle lseek_ERRNO() {
        return H_lseek_ERRNO.H;
    }

    private static final class H_lseek_ERRNO {
        static final MethodHandle H = c("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    }

    /** int fsync(int fd) */
    public static MethodHandle fsync_ERRNO() {
        return H_fsync_ERRNO.H;
    }

    private static final class H_fsync_ERRNO {
        static final MethodHandle H = c("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    /** int fdatasync(int fd) */
    public static MethodHandle fdatasync_ERRNO() {
        return H_fdatasync_ERRNO.H;
    }

    private static final class H_fdatasync_ERRNO {
        static final MethodHandle H = c("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    /** int ftruncate(int fd, off_t length) */
    public static MethodHandle ftruncate_ERRNO() {
        return H_ftruncate_ERRNO.H;
    }

    private static final class H_ftruncate_ERRNO {
        static final MethodHandle H = c("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    }

    /** int dup(int oldfd) */
    public static MethodHandle dup_ERRNO() {
        return H_dup_ERRNO.H;
    }

    private static final class H_dup_ERRNO {
        static final MethodHandle H = c("dup", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    /** int dup2(int oldfd, int newfd) */
    public static MethodHandle dup2_ERRNO() {
        return H_dup2_ERRNO.H;
    }

    private static final class H_dup2_ERRNO {
        static final MethodHandle H = c("dup2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    /** int pipe2(int pipefd[2], int flags) */
    public static MethodHandle pipe2_ERRNO() {
        return H_pipe2_ERRNO.H;
    }

    private static final class H_pipe2_ERRNO {
        static final MethodHandle H = c("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** int unlink(const char *pathname) */
    public static MethodHandle unlink_ERRNO() {
        return H_unlink_ERRNO.H;
    }

    private static final class H_unlink_ERRNO {
        static final MethodHandle H = c("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** int access(const char *pathname, int mode) */
    public static MethodHandle access_ERRNO() {
        return H_access_ERRNO.H;
    }

    private static final class H_access_ERRNO {
        static final MethodHandle H = c("access", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** int chdir(const char *path) */
    public static MethodHandle chdir_ERRNO() {
        return H_chdir_ERRNO.H;
    }

    private static final class H_chdir_ERRNO {
        static final MethodHandle H = c("chdir", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** pid_t setsid(void) */
    public static MethodHandle setsid_ERRNO() {
        return H_setsid_ERRNO.H;
    }

    private static final class H_setsid_ERRNO {
        static final MethodHandle H = c("setsid", FunctionDescriptor.of(JAVA_INT));
    }

    /** pid_t getpid(void) — cannot fail */
    public static MethodHandle getpid() {
        return H_getpid.H;
    }

    private static final class H_getpid {
        static final MethodHandle H = NativeLibraries.libc("getpid", FunctionDescriptor.of(JAVA_INT));
    }

    /** uid_t getuid(void) — cannot fail */
    public static MethodHandle getuid() {
        return H_getuid.H;
    }

    private static final class H_getuid {
        static final MethodHandle H = NativeLibraries.libc("getuid", FunctionDescriptor.of(JAVA_INT));
    }

    /** gid_t getgid(void) — cannot fail */
    public static MethodHandle getgid() {
        return H_getgid.H;
    }

    private static final class H_getgid {
        static final MethodHandle H = NativeLibraries.libc("getgid", FunctionDescriptor.of(JAVA_INT));
    }
}
