package io.isthmus.engine.export.vhostuser;

import io.isthmus.engine.export.ExportArgs;

/**
 * The members of block-export-add type=vhost-user-blk ({@code BlockExportOptionsVhostUserBlk}): {@code addr} (a
 * flat SocketAddress: its {@code type} and, for unix, {@code path}, for fd, {@code str}), {@code logical-block-size}
 * and {@code num-queues} (null when absent: the defaults 512 and 1 are applied, and values checked, by
 * {@link VhostUserBlkExportDriver#create} as QEMU's vu_blk_exp_create does). Immutable; any thread.
 */
public record VhostUserBlkExportOptions(String addrType, String path, String fdName, Long logicalBlockSize,
        Long numQueues) {
    public static final int DEFAULT_LOGICAL_BLOCK_SIZE = 512;
    public static final int DEFAULT_NUM_QUEUES = 1;

    public static VhostUserBlkExportOptions parse(ExportArgs a) {
        ExportArgs addr = a.nested("addr");
        String type = addr == null ? null : addr.string("type");
        String path = addr == null ? null : addr.string("path");
        String fd = addr == null ? null : addr.string("str");
        Long lbs = a.has("logical-block-size") ? a.integer("logical-block-size", 0) : null;
        Long nq = a.has("num-queues") ? a.integer("num-queues", 0) : null;
        return new VhostUserBlkExportOptions(type, path, fd, lbs, nq);
    }

    public long logicalBlockSizeOrDefault() {
        return logicalBlockSize == null ? DEFAULT_LOGICAL_BLOCK_SIZE : logicalBlockSize;
    }

    public long numQueuesOrDefault() {
        return numQueues == null ? DEFAULT_NUM_QUEUES : numQueues;
    }
}
