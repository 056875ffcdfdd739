package io.isthmus.engine.block;

import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;

/**
 * A test driver: holds reads while its gate is closed (to keep requests in flight deterministically), records the
 * flags each write arrives with and the in-flight count when it is resized. Tests only.
 */
final class GateNode extends BlockNode {
    private volatile long length;
    volatile boolean holding;
    final ArrayList<BlockRequest> held = new ArrayList<>();
    final CompletableFuture<Void> firstHeld = new CompletableFuture<>();
    final ArrayList<Integer> writeFlags = new ArrayList<>();
    volatile int inFlightAtTruncate = -1;

    GateNode(String name, long length) {
        super(name, "null-co", BlockOptions.of("null-co", name));
        this.length = length;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public String filename() {
        return "gate://";
    }

    @Override
    String jsonOptions() {
        return "{}";
    }

    @Override
    void truncate(long newSize) {
        inFlightAtTruncate = inFlight();
        length = newSize;
    }

    /** Completes the held reads; call on the IoThread that submitted them. */
    void releaseAll() {
        holding = false;
        ArrayList<BlockRequest> h = new ArrayList<>(held);
        held.clear();
        for (BlockRequest r : h) {
            complete(r, 0);
        }
    }

    @Override
    protected void doRead(BlockRequest req) {
        if (holding) {
            held.add(req);
            firstHeld.complete(null);
        } else {
            complete(req, 0);
        }
    }

    @Override
    protected void doWrite(BlockRequest req) {
        synchronized (writeFlags) {
            writeFlags.add(req.flags);
        }
        complete(req, 0);
    }

    @Override
    protected void doWriteZeroes(BlockRequest req) {
        doWrite(req);
    }

    @Override
    protected void doDiscard(BlockRequest req) {
        complete(req, 0);
    }

    @Override
    protected void doFlush(BlockRequest req) {
        complete(req, 0);
    }

    @Override
    protected void doBlockStatus(BlockRequest req) {
        req.statusLength = req.length;
        req.statusFlags = BlockRequest.STATUS_DATA | BlockRequest.STATUS_ALLOCATED;
        req.statusDepth = 1;
        complete(req, 0);
    }
}
