package io.isthmus.engine.export;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockNode;
import io.isthmus.engine.block.BlockPerm;
import io.isthmus.engine.block.BlockRequest;
import io.isthmus.engine.block.BlockUser;
import io.isthmus.engine.block.DirtyBitmap;

/**
 * The export layer's view of the block graph: {@link ExportableNode}/{@link NodeAccess} over {@link BlockNode}
 * (an export attaches as a {@link BlockUser}, as QEMU's export creates its own BlockBackend) and
 * {@link ExportBitmap} over {@link DirtyBitmap}.
 *
 * <p>Threads: resolving and attaching on the control thread; {@link NodeAccess#submit} on an IoThread; bitmap
 * scans on the IoThread of the connection asking (DirtyBitmap's reads are safe against marking).
 */
public final class BlockGraphNodes {
    private BlockGraphNodes() {
    }

    /** Resolves node names in {@code graph}. */
    public static NodeResolver resolver(BlockGraph graph) {
        return name -> {
            BlockNode n = graph.find(name);
            return n == null ? null : new Node(n);
        };
    }

    /** The {@code {node, name}} form of an exported bitmap, with the block layer's lookup texts. */
    public static ExportBitmap lookupBitmap(BlockGraph graph, String node, String name) throws EngineException {
        return new Bitmap(graph.lookupBitmap(node, name));
    }

    private record Node(BlockNode n) implements ExportableNode {
        @Override
        public String nodeName() {
            return n.nodeName();
        }

        @Override
        public boolean isReadOnly() {
            return n.isReadOnly();
        }

        @Override
        public NodeAccess attach(String user, boolean writable, boolean noResize, boolean writethrough)
                throws EngineException {
            int perms = BlockPerm.CONSISTENT_READ | (writable ? BlockPerm.WRITE : 0);
            int shared = noResize ? BlockPerm.ALL & ~BlockPerm.RESIZE : BlockPerm.ALL;
            return new Access(n, n.attach("an unnamed block device", perms, shared, writethrough));
        }
    }

    private static final class Access implements NodeAccess {
        private final BlockNode n;
        private final BlockUser user;

        Access(BlockNode n, BlockUser user) {
            this.n = n;
            this.user = user;
        }

        @Override
        public String nodeName() {
            return n.nodeName();
        }

        @Override
        public long length() {
            return n.length();
        }

        @Override
        public boolean isReadOnly() {
            return n.isReadOnly();
        }

        @Override
        public int requestAlignment() {
            return n.requestAlignment();
        }

        @Override
        public int maxTransfer() {
            long m = n.maxTransfer();
            return m <= 0 || m > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) m;
        }

        @Override
        public void submit(BlockRequest request) {
            user.submit(request); // the user adds FUA for writethrough exports and checks its permissions
        }

        @Override
        public ExportBitmap findBitmap(String name) {
            DirtyBitmap b = n.findBitmap(name);
            return b == null ? null : new Bitmap(b);
        }

        @Override
        public void detach() {
            if (user.isAttached()) {
                user.detach();
            }
        }
    }

    private record Bitmap(DirtyBitmap b) implements ExportBitmap {
        @Override
        public String name() {
            return b.name();
        }

        @Override
        public boolean isEnabled() {
            return b.isEnabled();
        }

        @Override
        public boolean isInconsistent() {
            return b.isInconsistent();
        }

        @Override
        public boolean setBusy(boolean busy) {
            synchronized (b) {
                if (busy && b.isBusy()) {
                    return false;
                }
                b.setBusy(busy);
                return true;
            }
        }

        @Override
        public boolean isDirty(long offset) {
            return b.isDirty(offset);
        }

        @Override
        public long runEnd(long offset, long end) {
            return offset + b.extent(offset, end);
        }
    }
}
