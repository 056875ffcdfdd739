package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * {@code poll.h} (with {@code _GNU_SOURCE} for POLLRDHUP). The event bits are also the {@code poll32_events} of
 * io_uring's POLL_ADD. The handle captures errno (first argument: {@link Errno#buffer()}). Any thread may call;
 * poll blocks, so it is never critical.
 */
public final class Poll {
    private Poll() {}

    public static final int POLLIN = 0x001, POLLPRI = 0x002, POLLOUT = 0x004, POLLERR = 0x008, POLLHUP = 0x010,
            POLLNVAL = 0x020, POLLRDHUP = 0x2000;

    /** struct pollfd (8 bytes). */
    public static final StructLayout pollfd = structLayout(
            JAVA_INT.withName("fd"),
            JAVA_SHORT.withName("events"),
            JAVA_SHORT.withName("revents")
    ).withName("pollfd");

    /** int poll(struct pollfd *fds, nfds_t nfds, int timeout) */
    public static MethodHandle poll_ERRNO() {
        return H_poll_ERRNO.H;
    }

    private static final class H_poll_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), Errno.CAPTURE);
    }
}
