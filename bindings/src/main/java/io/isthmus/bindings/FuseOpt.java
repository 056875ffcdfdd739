package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * {@code fuse3/fuse_opt.h}: the argument vector libfuse parses. Handles of libfuse3 return {@code -1} or
 * {@code 0} (no errno); when libfuse3 is absent they are stubs throwing {@link UnsatisfiedLinkError}.
 * Any thread may call. Memory: libfuse allocates argv; {@code fuse_opt_free_args} frees it.
 */
public final class FuseOpt {
    private FuseOpt() {}

    /** struct fuse_args (24 bytes). */
    public static final StructLayout fuse_args = structLayout(
            JAVA_INT.withName("argc"),
            paddingLayout(4),
            ADDRESS.withName("argv"),
            JAVA_INT.withName("allocated"),
            paddingLayout(4)
    ).withName("fuse_args");

    private static MethodHandle h(String name, FunctionDescriptor fd) {
        return NativeLibraries.optional(NativeLibraries.LIBFUSE3, "libfuse3", name, fd);
    }

    /** int fuse_opt_add_arg(struct fuse_args *args, const char *arg) */
    public static final MethodHandle fuse_opt_add_arg = h("fuse_opt_add_arg",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    /** void fuse_opt_free_args(struct fuse_args *args) */
    public static final MethodHandle fuse_opt_free_args = h("fuse_opt_free_args", FunctionDescriptor.ofVoid(ADDRESS));
}
