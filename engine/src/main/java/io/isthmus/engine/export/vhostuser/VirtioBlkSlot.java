package io.isthmus.engine.export.vhostuser;

import io.isthmus.engine.block.BlockRequest;
import io.isthmus.engine.export.ExportRequest;

/**
 * One request slot of a {@link VirtioBlkQueue}: the walked chain, the parsed virtio-blk request and the block
 * request whose iovecs point straight into guest memory. Preallocated (on first use) and reused: no allocation per
 * request. Thread use: the queue's IoThread.
 */
final class VirtioBlkSlot extends ExportRequest {
    /** Descriptors a chain may have: seg_max data segments, the header and the status byte, and some slack. */
    static final int CHAIN_CAPACITY = VirtioBlk.SEG_MAX + 4;

    final VirtioBlkQueue queue;
    final int id;
    final DescriptorChain chain = new DescriptorChain(CHAIN_CAPACITY);
    final VirtioBlkRequest request = new VirtioBlkRequest();
    private final BlockRequest block;
    int generation;

    VirtioBlkSlot(VirtioBlkQueue queue, int id) {
        this.queue = queue;
        this.id = id;
        this.block = new BlockRequest(queue.arena, CHAIN_CAPACITY);
        this.block.callback = this;
    }

    /** Parses the popped chain and submits it, or answers it at once. */
    void start(int gen) {
        generation = gen;
        VhostUserBlkExport e = queue.export();
        if (request.parse(chain, e.capacitySectors(), e.logicalBlockSize, e.writable()) == VirtioBlkRequest.COMPLETE) {
            queue.finish(this, request.status);
            return;
        }
        BlockRequest b = block;
        b.op = request.op;
        b.flags = request.flags;
        b.offset = request.offset;
        b.length = request.length;
        b.iovCount = 0;
        if (b.op == BlockRequest.READ || b.op == BlockRequest.WRITE) {
            int n = request.dataToIovecs(b.iovecs, b.iovCapacity());
            if (n < 0) {
                queue.finish(this, VirtioBlk.S_IOERR);
                return;
            }
            b.iovCount = n;
            if (b.op == BlockRequest.WRITE && queue.device.fuaWrites) {
                b.flags |= BlockRequest.FUA;
            }
        }
        queue.inFlight++;
        submit(queue.node, b);
    }

    @Override
    protected void completed(int result) {
        queue.inFlight--;
        queue.finish(this, VirtioBlkRequest.statusOf(result));
    }
}
