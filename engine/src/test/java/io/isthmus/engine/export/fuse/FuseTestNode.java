package io.isthmus.engine.export.fuse;

import io.isthmus.engine.block.BlockRequest;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.loop.IoThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Proxy;

/**
 * Test-only growable in-memory node for the FUSE tests: native memory up to a fixed capacity, a current length,
 * allocation tracked per 64 KiB cluster (unallocated clusters read as zeroes and report ZERO without DATA), an
 * optional small maxTransfer (to exercise splitting) and optional asynchronous completion (posted to the
 * IoThread instead of completing inside submit). It implements {@link FuseNodeControl} and {@link FuseNode}
 * directly, and stands behind a {@link NodeAccess} proxy ({@link #access()}) for the public constructor (a proxy:
 * it keeps compiling while NodeAccess changes).
 * Any thread; resize synchronizes with the data path only by the test's own ordering.
 */
final class FuseTestNode implements FuseNodeControl, FuseNode {
    static final int CLUSTER = 64 * 1024;
    final MemorySegment data;
    final boolean[] allocated;
    final long capacity;
    volatile long length;
    volatile int maxTransfer = Integer.MAX_VALUE;
    volatile boolean async;
    volatile int failNextWithErrno;
    volatile int resizes;
    volatile int flushes;
    private final NodeAccess access;

    FuseTestNode(long length, long capacity) {
        this.capacity = capacity;
        this.length = length;
        this.data = Arena.ofAuto().allocate(capacity, 4096);
        this.allocated = new boolean[(int) ((capacity + CLUSTER - 1) / CLUSTER)];
        this.access = (NodeAccess) Proxy.newProxyInstance(NodeAccess.class.getClassLoader(),
                new Class<?>[] {NodeAccess.class}, (p, m, a) -> switch (m.getName()) {
                    case "nodeName" -> "fuse-test";
                    case "length" -> this.length;
                    case "isReadOnly" -> false;
                    case "requestAlignment" -> 1;
                    case "maxTransfer" -> maxTransfer;
                    case "submit" -> {
                        submit((BlockRequest) a[0]);
                        yield null;
                    }
                    case "hashCode" -> System.identityHashCode(p);
                    case "equals" -> p == a[0];
                    case "toString" -> "FuseTestNode";
                    default -> null;
                });
    }

    NodeAccess access() {
        return access;
    }

    /** Allocated (written) bytes, for st_blocks. */
    @Override
    public long allocatedBytes() {
        long n = 0;
        long clusters = (length + CLUSTER - 1) / CLUSTER;
        for (int c = 0; c < clusters; c++) {
            if (allocated[c]) {
                n += CLUSTER;
            }
        }
        return n;
    }

    @Override
    public void resize(long newLength, boolean growOnly, ResizeDone done) {
        resizes++;
        if (growOnly && newLength <= length) {
            done.resized(0);
            return;
        }
        if (newLength > capacity) {
            done.resized(-27); // EFBIG
            return;
        }
        long old = length;
        if (newLength < old) {
            data.asSlice(newLength, old - newLength).fill((byte) 0);
            for (long c = (newLength + CLUSTER - 1) / CLUSTER; c * CLUSTER < old; c++) {
                allocated[(int) c] = false;
            }
        }
        length = newLength;
        done.resized(0);
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public int maxTransfer() {
        return maxTransfer;
    }

    @Override
    public int requestAlignment() {
        return 1;
    }

    @Override
    public void submit(BlockRequest r) {
        int res = run(r);
        if (async) {
            IoThread.current().execute(() -> r.callback.done(r, res));
        } else {
            r.callback.done(r, res);
        }
    }

    private int run(BlockRequest r) {
        int f = failNextWithErrno;
        if (f != 0) {
            failNextWithErrno = 0;
            return -f;
        }
        if (r.offset < 0 || r.length < 0 || r.offset + r.length > length
                || (r.op != BlockRequest.FLUSH && r.length > maxTransfer && r.iovCount > 0)) {
            return -22;
        }
        switch (r.op) {
            case BlockRequest.READ -> {
                long pos = r.offset;
                for (int i = 0; i < r.iovCount; i++) {
                    long len = r.iovLen(i);
                    MemorySegment.copy(data, pos, MemorySegment.ofAddress(r.iovBase(i)).reinterpret(len), 0, len);
                    pos += len;
                }
            }
            case BlockRequest.WRITE -> {
                long pos = r.offset;
                for (int i = 0; i < r.iovCount; i++) {
                    long len = r.iovLen(i);
                    MemorySegment.copy(MemorySegment.ofAddress(r.iovBase(i)).reinterpret(len), 0, data, pos, len);
                    pos += len;
                }
                for (long c = r.offset / CLUSTER; c * CLUSTER < r.offset + r.length; c++) {
                    allocated[(int) c] = true;
                }
            }
            case BlockRequest.WRITE_ZEROES, BlockRequest.DISCARD -> {
                data.asSlice(r.offset, r.length).fill((byte) 0);
                if (r.op == BlockRequest.DISCARD || (r.flags & BlockRequest.MAY_UNMAP) != 0) {
                    for (long c = (r.offset + CLUSTER - 1) / CLUSTER; (c + 1) * CLUSTER <= r.offset + r.length; c++) {
                        allocated[(int) c] = false;
                    }
                }
            }
            case BlockRequest.FLUSH -> flushes++;
            case BlockRequest.BLOCK_STATUS -> {
                int c = (int) (r.offset / CLUSTER);
                boolean a = allocated[c];
                long end = (long) (c + 1) * CLUSTER;
                while (end < r.offset + r.length && allocated[(int) (end / CLUSTER)] == a) {
                    end += CLUSTER;
                }
                r.statusLength = Math.min(end, r.offset + r.length) - r.offset;
                r.statusFlags = a ? (BlockRequest.STATUS_DATA | BlockRequest.STATUS_ALLOCATED) : BlockRequest.STATUS_ZERO;
            }
            default -> {
                return -22;
            }
        }
        return 0;
    }
}
