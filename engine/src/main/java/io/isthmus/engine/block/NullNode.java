package io.isthmus.engine.block;

import java.lang.foreign.MemorySegment;

import io.isthmus.engine.loop.IoThread;
import io.isthmus.engine.mem.IoVecs;

/**
 * {@code null-co} and {@code null-aio}: a node of a given size (default 1 GiB) that drops writes and returns
 * reads without touching the buffer, or zeroed with {@code read-zeroes=on}. Block status as QEMU 7.2: with
 * read-zeroes, zero and allocated (depth 1); without, neither data nor zero, unallocated (depth 0).
 *
 * <p>{@code latency-ns} delays every request with an io_uring timeout on the submitting IoThread.
 * {@code null-co} without latency completes inside {@code submit} (QEMU's coroutine does the same);
 * {@code null-aio} always completes from the ring (a no-op operation), as QEMU's does from a bottom half.
 */
final class NullNode extends BlockNode {
    static final long DEFAULT_SIZE = 1L << 30;

    private final boolean aio;
    private final long requestedSize;
    private final long length;
    private final long latencyNs;
    private final boolean readZeroes;
    private final boolean sizeGiven;

    NullNode(String nodeName, BlockOptions o) {
        super(nodeName, o.driver, o);
        this.aio = "null-aio".equals(o.driver);
        this.sizeGiven = o.size != null;
        this.requestedSize = o.size == null ? DEFAULT_SIZE : o.size;
        this.length = (requestedSize + 511) & ~511L;
        this.latencyNs = o.latencyNs == null ? 0 : o.latencyNs;
        this.readZeroes = Boolean.TRUE.equals(o.readZeroes);
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public long maxTransfer() {
        return 32L << 20;
    }

    @Override
    public String filename() {
        String json = jsonOptions();
        return json.equals("{\"driver\": \"" + driverName() + "\"}") ? driverName() + "://" : "json:" + json;
    }

    @Override
    String jsonOptions() {
        StringBuilder sb = new StringBuilder("{");
        if (readZeroes) {
            sb.append("\"read-zeroes\": true, ");
        }
        sb.append("\"driver\": \"").append(driverName()).append('"');
        if (latencyNs != 0) {
            sb.append(", \"latency-ns\": ").append(latencyNs);
        }
        if (sizeGiven) {
            sb.append(", \"size\": ").append(requestedSize);
        }
        return sb.append('}').toString();
    }

    private void finish(BlockRequest req) {
        if (latencyNs > 0) {
            IoThread.current().timeout(latencyNs, req.ioCompletion, 0);
        } else if (aio) {
            IoThread.current().nop(req.ioCompletion, 0);
        } else {
            complete(req, 0);
        }
    }

    @Override
    protected void ioComplete(BlockRequest req, int res, long tag) {
        complete(req, 0); // the timeout's -ETIME or the no-op's 0: either way the request is done
    }

    @Override
    int readSync(long offset, MemorySegment dst) {
        dst.fill((byte) 0);
        return 0;
    }

    @Override
    protected void doRead(BlockRequest req) {
        if (readZeroes) {
            IoVecs.zeroFrom(req.iovecs, req.iovCount, 0);
        }
        finish(req);
    }

    @Override
    protected void doWrite(BlockRequest req) {
        finish(req);
    }

    @Override
    protected void doWriteZeroes(BlockRequest req) {
        finish(req);
    }

    @Override
    protected void doDiscard(BlockRequest req) {
        finish(req);
    }

    @Override
    protected void doFlush(BlockRequest req) {
        finish(req);
    }

    @Override
    protected void doBlockStatus(BlockRequest req) {
        req.statusLength = req.length;
        req.statusFlags = readZeroes ? BlockRequest.STATUS_ZERO | BlockRequest.STATUS_ALLOCATED : 0;
        req.statusDepth = readZeroes ? 1 : 0;
        complete(req, 0);
    }
}
