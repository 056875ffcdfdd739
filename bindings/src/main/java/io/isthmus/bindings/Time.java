package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * {@code time.h}: {@code struct timespec} and clock_gettime. The handle captures errno (first argument:
 * {@link Errno#buffer()}). Any thread may call.
 */
public final class Time {
    private Time() {}

    public static final int CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_BOOTTIME = 7;

    /** struct timespec (16 bytes on LP64). */
    public static final StructLayout timespec = structLayout(
            JAVA_LONG.withName("tv_sec"),
            JAVA_LONG.withName("tv_nsec")
    ).withName("timespec");

    /** int clock_gettime(clockid_t clockid, struct timespec *tp) */
    public static MethodHandle clock_gettime_ERRNO() {
        return H_clock_gettime_ERRNO.H;
    }

    private static final class H_clock_gettime_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("clock_gettime", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), Errno.CAPTURE);
    }
}
