package io.isthmus.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Shim for filling a {@code struct fuse_lowlevel_ops} table with upcall stubs, which jextract would generate as
 * per-field functional interfaces. {@link #install} looks up the operation's C type ({@code FuseLowlevel.OP_<name>})
 * and its slot in the table, makes an upcall stub for the target and stores its address.
 *
 * <p>Upcalls never throw: the target must catch everything and answer the request with an error reply; an
 * exception escaping an upcall ends the JVM. The stub lives as long as {@code arena}, which must outlive the
 * session (the export's arena). Setup-time only (reflection), any thread.
 */
public final class FuseUpcalls {
    private FuseUpcalls() {}

    /** The C type of operation {@code op} (e.g. "read"), from {@link FuseLowlevel}'s {@code OP_} descriptors. */
    public static FunctionDescriptor descriptor(String op) {
        try {
            return (FunctionDescriptor) FuseLowlevel.class.getField("OP_" + op).get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("fuse_lowlevel_ops has no operation " + op, e);
        }
    }

    /** Byte offset of operation {@code op}'s function pointer in {@code struct fuse_lowlevel_ops}. */
    public static long slot(String op) {
        return FuseLowlevel.fuse_lowlevel_ops.byteOffset(PathElement.groupElement(op));
    }

    /**
     * Makes an upcall stub for {@code target} (whose type must match {@code descriptor(op).toMethodType()}) and
     * stores it in {@code ops}. Returns the stub.
     */
    public static MemorySegment install(MemorySegment ops, String op, MethodHandle target, Arena arena) {
        MemorySegment stub = NativeLibraries.LINKER.upcallStub(target, descriptor(op), arena);
        ops.set(ValueLayout.ADDRESS, slot(op), stub);
        return stub;
    }
}
