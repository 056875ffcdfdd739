package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * {@code sys/eventfd.h}. The handle captures errno (first argument: {@link Errno#buffer()}); {@link Posix}
 * applies the {@code >= 0 / -errno} convention. Any thread may call.
 */
public final class SysEventfd {
    private SysEventfd() {}

    public static final int EFD_SEMAPHORE = 1, EFD_CLOEXEC = 02000000, EFD_NONBLOCK = 04000;

    /** int eventfd(unsigned int initval, int flags) */
    public static MethodHandle eventfd_ERRNO() {
        return H_eventfd_ERRNO.H;
    }

    private static final class H_eventfd_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), Errno.CAPTURE);
    }
}
