package io.isthmus.engine.block;

import io.isthmus.engine.loop.IoThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs block requests on an IoThread and waits for them (tests only). */
final class BlockTestSupport implements AutoCloseable {
    final IoThread io = IoThread.start("block-test");
    final Arena arena = Arena.ofShared();
    final BlockRequest req = new BlockRequest(arena, 4);

    /** Submits on the IoThread, returns the callback's result; checks the callback ran on the IoThread. */
    int run(BlockNode n) throws Exception {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        req.callback = (r, res) -> {
            if (IoThread.current() != io) {
                f.completeExceptionally(new AssertionError("callback off the IoThread"));
            } else {
                f.complete(res);
            }
        };
        io.execute(() -> n.submit(req));
        return f.get(10, TimeUnit.SECONDS);
    }

    int read(BlockNode n, long offset, MemorySegment buf) throws Exception {
        req.rw(BlockRequest.READ, offset, buf, 0);
        return run(n);
    }

    int write(BlockNode n, long offset, MemorySegment buf, int flags) throws Exception {
        req.rw(BlockRequest.WRITE, offset, buf, flags);
        return run(n);
    }

    int op(BlockNode n, int op, long offset, long length, int flags) throws Exception {
        req.noData(op, offset, length, flags);
        return run(n);
    }

    /** Block status at offset: {statusLength, statusFlags, statusDepth}. */
    long[] status(BlockNode n, long offset, long length) throws Exception {
        req.noData(BlockRequest.BLOCK_STATUS, offset, length, BlockRequest.WANT_DEPTH);
        int r = run(n);
        if (r != 0) {
            throw new AssertionError("block status failed: " + r);
        }
        return new long[] {req.statusLength, req.statusFlags, req.statusDepth};
    }

    MemorySegment buffer(long size, int fill) {
        MemorySegment s = arena.allocate(size, 4096);
        s.fill((byte) fill);
        return s;
    }

    @Override
    public void close() {
        io.close();
        arena.close();
    }
}
