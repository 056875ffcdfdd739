package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * {@code sys/uio.h}: {@code struct iovec} and vectored positional I/O. Handles named {@code *_ERRNO} capture errno
 * (first argument: {@link Errno#buffer()}); {@link Posix} applies the {@code >= 0 / -errno} convention.
 * Any thread may call.
 */
public final class SysUio {
    private SysUio() {}

    /** struct iovec (16 bytes): the unit of readv/writev, sendmsg/recvmsg and buffer registration. */
    public static final StructLayout iovec = structLayout(
            JAVA_LONG.withName("iov_base"),   // void * (kept as a 64-bit value: iovec arrays are written in bulk)
            JAVA_LONG.withName("iov_len")
    ).withName("iovec");

    /** ssize_t preadv(int fd, const struct iovec *iov, int iovcnt, off_t offset) */
    public static MethodHandle preadv_ERRNO() {
        return H_preadv_ERRNO.H;
    }

    private static final class H_preadv_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("preadv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG), Errno.CAPTURE);
    }

    /** ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset) */
    public static MethodHandle pwritev_ERRNO() {
        return H_pwritev_ERRNO.H;
    }

    private static final class H_pwritev_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("pwritev", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG), Errno.CAPTURE);
    }
}
