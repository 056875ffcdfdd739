package io.isthmus.engine.block;

import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.mem.IoVecs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One block-layer request, preallocated by its user (an export connection or queue) and reused: no allocation
 * per request. The user fills the public fields, calls {@link BlockNode#submit}, and gets the request back
 * through {@link #callback} on the same IoThread.
 *
 * <p>Data: READ and WRITE move bytes between the node and the memory described by {@link #iovecs}: a native
 * array of {@code struct iovec} ({@code void *base; size_t len}) with {@link #iovCount} entries, whose total
 * length equals {@link #length}. The memory is guest memory or an export's registered buffer; the block layer
 * never copies it on the way down (except through an aligned bounce buffer for misaligned O_DIRECT requests).
 * {@link IoVecs} walks them (copies, zeroing, narrowing to a byte range).
 *
 * <p>Thread use: owned by one IoThread from {@code submit} until the callback. Memory: the iovec array is
 * allocated once with the request in the arena given to the constructor (a connection's or queue's).
 */
public final class BlockRequest {
    // ---- operations
    public static final int READ = 0, WRITE = 1, FLUSH = 2, DISCARD = 3, WRITE_ZEROES = 4, BLOCK_STATUS = 5;

    // ---- flags
    /** WRITE/WRITE_ZEROES: the data is durable when the request completes (flush after, or RWF_DSYNC). */
    public static final int FUA = 1;
    /** WRITE_ZEROES: the range may be deallocated (punched) rather than written. */
    public static final int MAY_UNMAP = 2;
    /** WRITE_ZEROES: fail with -ENOTSUP rather than fall back to writing zero buffers (NBD FAST_ZERO). */
    public static final int NO_FALLBACK = 4;
    /** BLOCK_STATUS: also compute the allocation depth ({@link #statusDepth}). */
    public static final int WANT_DEPTH = 8;

    // ---- block status result bits (BDRV_BLOCK_* subset)
    public static final int STATUS_DATA = 1, STATUS_ZERO = 2, STATUS_ALLOCATED = 4;

    public static final long IOVEC_SIZE = IoVecs.IOVEC_SIZE;

    // ---- filled by the user
    public int op;
    public int flags;
    public long offset;
    public long length;
    /** Native struct iovec array; capacity {@link #iovCapacity()}. */
    public final MemorySegment iovecs;
    public int iovCount;
    public BlockCallback callback;
    /** Free for the user (e.g. the NBD handle's index); the block layer never touches it. */
    public long tag;
    /** Free for the user. */
    public Object owner;

    // ---- results of BLOCK_STATUS: the status of [offset, offset + statusLength), statusLength <= length
    public long statusLength;
    public int statusFlags;
    /** Allocation depth for qemu:allocation-depth: 0 unallocated, 1 allocated in this node, 2+ in a backing node. */
    public int statusDepth;

    // ---- driver scratch (a driver may use these while it owns the request)
    public long scratchLong;
    public int scratchInt;
    public Object scratch;

    // ---- block-layer state (package-private): the stack of nodes the request passes through (a raw node
    // forwards it to its file child, ...), with what each node must restore before completing to its parent.
    static final int MAX_DEPTH = 16;
    final BlockNode[] frameNode = new BlockNode[MAX_DEPTH];
    /** Per-frame driver state that must survive a forward to a child (which may use the scratch fields). Kept
     *  across reuses of the request, so a driver can recycle its state object instead of allocating one. */
    final Object[] frameState = new Object[MAX_DEPTH];
    final long[] frameOffset = new long[MAX_DEPTH];
    final long[] frameLength = new long[MAX_DEPTH];
    final int[] frameOpFlags = new int[MAX_DEPTH];
    int depth;
    /** io_uring completions of this request's operations go to the node on top of the stack. */
    final Completion ioCompletion;

    // ---- serialising of overlapping O_DIRECT writes ({@link OverlapSerialiser}): the aligned range tracked
    long serialStart, serialEnd;
    boolean serialising;
    boolean serialTracked;
    /** The IoThread a parked request (waiting on an overlap or a drained node) resumes on. */
    io.isthmus.engine.loop.IoThread parkedOn;
    /** FUA was added by a writethrough {@link BlockUser}: cleared again before the callback. */
    boolean userAddedFua;

    public BlockRequest(Arena arena, int iovCapacity) {
        this.iovecs = arena.allocate(IOVEC_SIZE * iovCapacity, 8);
        this.ioCompletion = (res, flags, tag) -> frameNode[depth - 1].ioComplete(this, res, tag);
    }

    /** Total bytes described by the iovecs (for checks and tests; the block layer trusts {@link #length}). */
    public long iovTotal() {
        long t = 0;
        for (int i = 0; i < iovCount; i++) {
            t += iovLen(i);
        }
        return t;
    }

    public int iovCapacity() {
        return (int) (iovecs.byteSize() / IOVEC_SIZE);
    }

    /** Sets iovec {@code i} to (address, length). */
    public void setIov(int i, long address, long len) {
        IoVecs.set(iovecs, i, address, len);
    }

    public long iovBase(int i) {
        return IoVecs.base(iovecs, i);
    }

    public long iovLen(int i) {
        return IoVecs.len(iovecs, i);
    }

    /** Prepares a READ or WRITE of one buffer: the common case for NBD and FUSE. */
    public BlockRequest rw(int op, long offset, MemorySegment buffer, int flags) {
        this.op = op;
        this.flags = flags;
        this.offset = offset;
        this.length = buffer.byteSize();
        setIov(0, buffer.address(), buffer.byteSize());
        this.iovCount = 1;
        return this;
    }

    /** Prepares a request without data (FLUSH, DISCARD, WRITE_ZEROES, BLOCK_STATUS). */
    public BlockRequest noData(int op, long offset, long length, int flags) {
        this.op = op;
        this.flags = flags;
        this.offset = offset;
        this.length = length;
        this.iovCount = 0;
        return this;
    }
}
