package io.isthmus.benchmarks.nbd;

import io.isthmus.engine.block.BlockRequest;
import io.isthmus.engine.export.ExportableNode;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.export.NodeListener;

/**
 * A null-co stand-in for benchmarks: reads leave the buffer as it is (null-co with read-zeroes=off), writes are
 * dropped, block status reports data; every request completes inside submit, as QEMU's null-co coroutine does.
 * Any thread; no memory of its own.
 */
public final class NullNode implements ExportableNode, NodeAccess {
    private final String name;
    private final long length;

    public NullNode(String name, long length) {
        this.name = name;
        this.length = length;
    }

    @Override
    public String nodeName() {
        return name;
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    @Override
    public NodeAccess attach(String user, int perms, int shared, boolean writethrough) {
        return this;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public int requestAlignment() {
        return 1;
    }

    @Override
    public int maxTransfer() {
        return Integer.MAX_VALUE;
    }

    @Override
    public void submit(BlockRequest r) {
        if (r.op == BlockRequest.BLOCK_STATUS) {
            r.statusLength = r.length;
            r.statusFlags = BlockRequest.STATUS_DATA | BlockRequest.STATUS_ALLOCATED;
            r.statusDepth = 1;
        }
        r.callback.done(r, 0);
    }

    @Override
    public void truncate(long newLength) {
        throw new UnsupportedOperationException("the benchmark's null node has a fixed size");
    }

    @Override
    public void setListener(NodeListener listener) {
        // fixed size, never drained
    }

    @Override
    public void detach() {
    }
}
