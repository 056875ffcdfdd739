package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

/**
 * {@code sys/ioctl.h}: the variadic {@code ioctl}, bound with {@code firstVariadicArg} for a pointer or an int
 * argument. Request numbers of block devices and file systems are in {@link LinuxFs}. Handles capture errno
 * (first argument: {@link Errno#buffer()}); {@link Posix} applies the {@code >= 0 / -errno} convention.
 * Any thread may call.
 */
public final class SysIoctl {
    private SysIoctl() {}

    public static final long FIONREAD = 0x541B, FIONBIO = 0x5421, FIOCLEX = 0x5451;

    /** int ioctl(int fd, unsigned long request, ... void *argp) */
    public static MethodHandle ioctl_ptr_ERRNO() {
        return H_ioctl_ptr_ERRNO.H;
    }

    private static final class H_ioctl_ptr_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Errno.CAPTURE, Linker.Option.firstVariadicArg(2));
    }

    /** int ioctl(int fd, unsigned long request, ... int arg) */
    public static MethodHandle ioctl_int_ERRNO() {
        return H_ioctl_int_ERRNO.H;
    }

    private static final class H_ioctl_int_ERRNO {
        static final MethodHandle H = NativeLibraries.libc("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT), Errno.CAPTURE, Linker.Option.firstVariadicArg(2));
    }
}
