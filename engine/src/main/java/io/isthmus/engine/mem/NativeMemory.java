package io.isthmus.engine.mem;

import io.isthmus.bindings.IoUringPrep;
import java.lang.foreign.MemorySegment;

/**
 * The whole address space as one segment, for memory known only by a raw address: iovec buffers an export filled in
 * (guest memory, registered buffers), C strings returned by a library. {@code EVERYTHING.asSlice(address, length)}
 * gives the bounded segment habit 6 asks for; through a {@code static final} constant the JIT folds the bounds checks
 * away. It is the same segment as the bindings' {@link IoUringPrep#MEMORY} (the bindings cannot see the engine), so
 * the process builds it once.
 *
 * <p>Thread use: any. Memory: nothing is owned here; whoever hands out an address vouches that the memory stays
 * valid for the access.
 */
public final class NativeMemory {
    /** Every address, length {@code Long.MAX_VALUE}: slice it to the exact range before use. */
    public static final MemorySegment EVERYTHING = IoUringPrep.MEMORY;

    private NativeMemory() {}
}
