package io.isthmus.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

/**
 * errno capture for downcalls bound with {@link #CAPTURE}: the caller passes {@link #buffer()} as the first
 * argument and reads {@link #last()} right after the call returned a failure.
 *
 * <p>Thread use: the buffer is per thread (a thread-local allocated once in the global arena), so any thread
 * may call; the value read is the one captured by that thread's last call. Also holds errno names for messages.
 */
public final class Errno {
    private Errno() {}

    public static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    /** The JVM's capture-state layout (not a C struct: exempt from the layout probe). */
    @Derived public static final StructLayout LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final ThreadLocal<MemorySegment> BUFFER =
            ThreadLocal.withInitial(() -> Arena.global().allocate(LAYOUT));

    /** This thread's capture buffer. */
    public static MemorySegment buffer() {
        return BUFFER.get();
    }

    /** errno captured by this thread's last capturing call. */
    public static int last() {
        return (int) ERRNO.get(BUFFER.get(), 0L);
    }

    /** errno read from a given capture buffer. */
    public static int of(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    public static final int EPERM = 1, ENOENT = 2, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, EBADF = 9,
            EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19,
            ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOTTY = 25, EFBIG = 27,
            ENOSPC = 28, ESPIPE = 29, EROFS = 30, EPIPE = 32, ERANGE = 34, ENOSYS = 38, ENOTSUP = 95,
            EOPNOTSUPP = 95, EADDRINUSE = 98, EADDRNOTAVAIL = 99, ECONNABORTED = 103, ECONNRESET = 104, ENOTCONN = 107,
            ESHUTDOWN = 108, ETIMEDOUT = 110, ECONNREFUSED = 111, EALREADY = 114, EINPROGRESS = 115,
            ECANCELED = 125, EOVERFLOW = 75, ENOTSOCK = 88, ETIME = 62;

    /** The glibc strerror text of an errno value (the subset the daemon reports), for QEMU-style messages. */
    public static String message(int errno) {
        return switch (Math.abs(errno)) {
            case EPERM -> "Operation not permitted";
            case ENOENT -> "No such file or directory";
            case EINTR -> "Interrupted system call";
            case EIO -> "Input/output error";
            case ENXIO -> "No such device or address";
            case E2BIG -> "Argument list too long";
            case EBADF -> "Bad file descriptor";
            case EAGAIN -> "Resource temporarily unavailable";
            case ENOMEM -> "Cannot allocate memory";
            case EACCES -> "Permission denied";
            case EFAULT -> "Bad address";
            case EBUSY -> "Device or resource busy";
            case EEXIST -> "File exists";
            case ENODEV -> "No such device";
            case ENOTDIR -> "Not a directory";
            case EISDIR -> "Is a directory";
            case EINVAL -> "Invalid argument";
            case ENFILE -> "Too many open files in system";
            case EMFILE -> "Too many open files";
            case ENOTTY -> "Inappropriate ioctl for device";
            case EFBIG -> "File too large";
            case ENOSPC -> "No space left on device";
            case ESPIPE -> "Illegal seek";
            case EROFS -> "Read-only file system";
            case EPIPE -> "Broken pipe";
            case ERANGE -> "Numerical result out of range";
            case ENOSYS -> "Function not implemented";
            case EOVERFLOW -> "Value too large for defined data type";
            case ENOTSUP -> "Operation not supported";
            case EADDRINUSE -> "Address already in use";
            case EADDRNOTAVAIL -> "Cannot assign requested address";
            case ECONNABORTED -> "Software caused connection abort";
            case ECONNRESET -> "Connection reset by peer";
            case ENOTCONN -> "Transport endpoint is not connected";
            case ESHUTDOWN -> "Cannot send after transport endpoint shutdown";
            case ETIMEDOUT -> "Connection timed out";
            case ECONNREFUSED -> "Connection refused";
            case EALREADY -> "Operation already in progress";
            case EINPROGRESS -> "Operation now in progress";
            case ECANCELED -> "Operation canceled";
            default -> "Unknown error " + Math.abs(errno);
        };
    }

    /** The symbolic name of an errno value (e.g. "ENOENT"), for logs and exception messages. */
    public static String name(int errno) {
        return switch (Math.abs(errno)) {
            case EPERM -> "EPERM"; case ENOENT -> "ENOENT"; case EINTR -> "EINTR"; case EIO -> "EIO";
            case ENXIO -> "ENXIO"; case EBADF -> "EBADF"; case EAGAIN -> "EAGAIN"; case ENOMEM -> "ENOMEM";
            case EACCES -> "EACCES"; case EFAULT -> "EFAULT"; case EBUSY -> "EBUSY"; case EEXIST -> "EEXIST";
            case ENODEV -> "ENODEV"; case ENOTDIR -> "ENOTDIR"; case EISDIR -> "EISDIR"; case EINVAL -> "EINVAL";
            case EMFILE -> "EMFILE"; case ENOTTY -> "ENOTTY"; case EFBIG -> "EFBIG"; case ENOSPC -> "ENOSPC";
            case ESPIPE -> "ESPIPE"; case EROFS -> "EROFS"; case EPIPE -> "EPIPE"; case ERANGE -> "ERANGE";
            case ENOSYS -> "ENOSYS"; case EOVERFLOW -> "EOVERFLOW"; case ENOTSUP -> "ENOTSUP";
            case EADDRINUSE -> "EADDRINUSE"; case EADDRNOTAVAIL -> "EADDRNOTAVAIL"; case ECONNRESET -> "ECONNRESET"; case ENOTCONN -> "ENOTCONN";
            case ETIMEDOUT -> "ETIMEDOUT"; case ECONNREFUSED -> "ECONNREFUSED"; case ECANCELED -> "ECANCELED";
            case ESHUTDOWN -> "ESHUTDOWN"; case ECONNABORTED -> "ECONNABORTED";
            default -> "errno " + Math.abs(errno);
        };
    }
}
