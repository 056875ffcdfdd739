package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * {@code unistd.h}: descriptors, file I/O, process identity. Constants and {@code static final} handles only.
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
    public static final MethodHandle close_ERRNO = c("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /** ssize_t read(int fd, void *buf, size_t count) */
    public static final MethodHandle read_ERRNO = c("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    /** ssize_t write(int fd, const void *buf, size_t count) */
    public static final MethodHandle write_ERRNO = c("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    /** ssize_t pread(int fd, void *buf, size_t count, off_t offset) */
    public static final MethodHandle pread_ERRNO = c("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    /** ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) */
    public static final MethodHandle pwrite_ERRNO = c("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    /** off_t lseek(int fd, off_t offset, int whence) */
    public static final MethodHandle lseek_ERRNO = c("lseek",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    /** int fsync(int fd) */
    public static final MethodHandle fsync_ERRNO = c("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /** int fdatasync(int fd) */
    public static final MethodHandle fdatasync_ERRNO = c("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /** int ftruncate(int fd, off_t length) */
    public static final MethodHandle ftruncate_ERRNO = c("ftruncate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    /** int dup(int oldfd) */
    public static final MethodHandle dup_ERRNO = c("dup", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /** int dup2(int oldfd, int newfd) */
    public static final MethodHandle dup2_ERRNO = c("dup2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    /** int pipe2(int pipefd[2], int flags) */
    public static final MethodHandle pipe2_ERRNO = c("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    /** int unlink(const char *pathname) */
    public static final MethodHandle unlink_ERRNO = c("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    /** int access(const char *pathname, int mode) */
    public static final MethodHandle access_ERRNO = c("access",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    /** pid_t setsid(void) */
    public static final MethodHandle setsid_ERRNO = c("setsid", FunctionDescriptor.of(JAVA_INT));
    /** pid_t getpid(void) — cannot fail */
    public static final MethodHandle getpid = NativeLibraries.libc("getpid", FunctionDescriptor.of(JAVA_INT));
    /** uid_t getuid(void) — cannot fail */
    public static final MethodHandle getuid = NativeLibraries.libc("getuid", FunctionDescriptor.of(JAVA_INT));
    /** gid_t getgid(void) — cannot fail */
    public static final MethodHandle getgid = NativeLibraries.libc("getgid", FunctionDescriptor.of(JAVA_INT));
}
