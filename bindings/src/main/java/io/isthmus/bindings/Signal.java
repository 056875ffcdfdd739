package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/** {@code signal.h}: kill and the signal numbers the daemon uses. Captures errno; any thread may call. */
public final class Signal {
    private Signal() {}

    public static final int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGUSR1 = 10, SIGUSR2 = 12,
            SIGPIPE = 13, SIGTERM = 15, SIGCHLD = 17;

    /** int kill(pid_t pid, int sig) */
    public static MethodHandle kill_ERRNO() {
        return H_kill_ERRNO.H;
    }

    private static final class H_kill_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), Errno.CAPTURE);
    }
}
