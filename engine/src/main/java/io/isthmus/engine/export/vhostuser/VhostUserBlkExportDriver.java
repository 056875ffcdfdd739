package io.isthmus.engine.export.vhostuser;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportArgs;
import io.isthmus.engine.export.ExportDriver;
import io.isthmus.engine.export.ExportOptions;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.loop.IoThread;
import io.isthmus.engine.net.ListeningSocket;
import io.isthmus.engine.net.SocketAddress;

/**
 * The "vhost-user-blk" row of the export-driver table. Checks as QEMU's {@code vu_blk_exp_create} (7.2), with its
 * texts: the logical block size (512 B..2 MiB, a power of two), num-queues greater than 0, and the address type
 * (unix or fd). Beyond QEMU: num-queues above 256 is refused (a vhost-user vring index is one byte), and the list
 * form of {@code iothread} spreads the queues round-robin over the listed IoThreads (QEMU 7.2 serves every queue
 * on one thread). Permissions are QEMU's: consistent read (+ write when writable), everything shared, resize
 * included (a resize reaches the guest as a config change).
 *
 * <p>Threads: the control thread (create).
 */
public final class VhostUserBlkExportDriver implements ExportDriver<VhostUserBlkExportOptions> {
    public static final long MIN_BLOCK_SIZE = 512, MAX_BLOCK_SIZE = 2L << 20;
    /** A vhost-user vring index is one byte (VHOST_USER_VRING_IDX_MASK). */
    public static final int MAX_QUEUES = 256;

    @Override
    public String type() {
        return "vhost-user-blk";
    }

    @Override
    public boolean supportsMultipleIoThreads() {
        return true;
    }

    @Override
    public boolean supportsInactive() {
        return false;
    }

    @Override
    public VhostUserBlkExportOptions parseOptions(ExportArgs args) {
        return VhostUserBlkExportOptions.parse(args);
    }

    @Override
    public BlockExport create(ExportOptions common, VhostUserBlkExportOptions o, NodeAccess node,
            IoThread[] iothreads) throws EngineException {
        long lbs = o.logicalBlockSizeOrDefault();
        checkBlockSize(common.id(), "logical-block-size", lbs);
        long nq = o.numQueuesOrDefault();
        if (nq == 0) {
            throw new EngineException("num-queues must be greater than 0");
        }
        if (nq > MAX_QUEUES) {
            throw new EngineException("num-queues must be at most " + MAX_QUEUES);
        }
        SocketAddress addr = address(o);
        ListeningSocket socket = ListeningSocket.open(addr);
        try {
            return new VhostUserBlkExport(common, node, iothreads, socket, (int) lbs, (int) nq);
        } catch (RuntimeException | Error e) {
            socket.close();
            throw e;
        }
    }

    /** QEMU's check_block_size (util/block-helpers.c). */
    static void checkBlockSize(String id, String name, long value) throws EngineException {
        if (value < MIN_BLOCK_SIZE || value > MAX_BLOCK_SIZE) {
            throw new EngineException("Property " + id + "." + name + " doesn't take value " + value
                    + " (minimum: " + MIN_BLOCK_SIZE + ", maximum: " + MAX_BLOCK_SIZE + ")");
        }
        if ((value & (value - 1)) != 0) {
            throw new EngineException("Property " + id + "." + name + " doesn't take value '" + value
                    + "', it's not a power of 2");
        }
    }

    private static SocketAddress address(VhostUserBlkExportOptions o) throws EngineException {
        String type = o.addrType() == null ? "" : o.addrType();
        switch (type) {
            case "unix" -> {
                return SocketAddress.unix(o.path());
            }
            case "fd" -> {
                try {
                    int fd = Integer.parseInt(o.fdName());
                    if (fd < 0) {
                        throw new NumberFormatException();
                    }
                    return SocketAddress.fd(fd);
                } catch (NumberFormatException | NullPointerException e) {
                    throw new EngineException("only QEMU supports file descriptor passing");
                }
            }
            default -> throw new EngineException("Only socket address types 'unix' and 'fd' are supported");
        }
    }
}
