package io.isthmus.engine.loop;

import static io.isthmus.bindings.LinuxIoUring.IORING_REGISTER_BUFFERS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.SysUio;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A per-IoThread pool of fixed-size native buffers, registered with the ring (one registered buffer per pool
 * buffer, so a buffer's pool index is its {@code buf_index}) for {@link IoThread#readFixed}/{@link
 * IoThread#writeFixed}. Buffers are page-aligned, so they also suit O_DIRECT.
 *
 * <p>Thread use: the owning IoThread only (acquire/release are plain array operations, no locks). Memory: one
 * region in the IoThread's arena, freed when the IoThread terminates (after every in-flight operation has
 * completed); a buffer belongs to whoever acquired it until released. Nothing allocates after creation:
 * {@link #segment} returns a preallocated segment. When registration fails (e.g. {@code RLIMIT_MEMLOCK}
 * too low), the pool still works with unregistered buffers: {@link #registered()} is false and callers use
 * {@link IoThread#read}/{@link IoThread#write}.
 */
public final class BufferPool {
    private final MemorySegment region;
    private final MemorySegment[] segments;
    private final int bufferSize;
    private final int[] free;
    private int freeTop;
    private final boolean registered;
    private final int registerResult;

    BufferPool(Arena arena, int count, int bufferSize, IoThread owner) {
        if (count < 1 || count > 16384 || bufferSize < 1 || (long) count * bufferSize > (1L << 34)) {
            throw new IllegalArgumentException("buffer pool of " + count + " x " + bufferSize + " bytes");
        }
        this.bufferSize = bufferSize;
        long stride = (bufferSize + 4095L) & ~4095L;
        this.region = arena.allocate(stride * count, 4096);
        this.segments = new MemorySegment[count];
        this.free = new int[count];
        MemorySegment iov = arena.allocate(SysUio.iovec, count);
        for (int i = 0; i < count; i++) {
            segments[i] = region.asSlice(stride * i, bufferSize);
            iov.set(JAVA_LONG, 16L * i, segments[i].address());
            iov.set(JAVA_LONG, 16L * i + 8, bufferSize);
            free[i] = count - 1 - i;
        }
        freeTop = count;
        int r = owner.registerBuffers(iov, count);
        this.registerResult = r;
        this.registered = r >= 0;
        if (!registered) {
            System.getLogger(BufferPool.class.getName()).log(System.Logger.Level.INFO,
                    "IoThread " + owner.name() + ": buffers not registered (" + Errno.message(r)
                            + "); using unregistered I/O");
        }
    }

    /** Index of a free buffer, or -1 when all are in use. */
    public int acquire() {
        return freeTop == 0 ? -1 : free[--freeTop];
    }

    public void release(int index) {
        free[freeTop++] = index;
    }

    /** The buffer with this index (a preallocated segment of {@link #bufferSize()} bytes). */
    public MemorySegment segment(int index) {
        return segments[index];
    }

    public long address(int index) {
        return segments[index].address();
    }

    public int bufferSize() {
        return bufferSize;
    }

    public int capacity() {
        return segments.length;
    }

    public int available() {
        return freeTop;
    }

    /** True when the buffers are registered with the ring (readFixed/writeFixed may be used). */
    public boolean registered() {
        return registered;
    }

    /** The io_uring_register result: >= 0, or -errno when registration failed. */
    public int registerResult() {
        return registerResult;
    }
}
