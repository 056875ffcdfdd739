package io.isthmus.engine.export;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockNode;
import io.isthmus.engine.block.BlockRequest;
import io.isthmus.engine.block.BlockUser;

/**
 * The export layer's view of the block graph: {@link ExportableNode}/{@link NodeAccess} over {@link BlockNode}
 * (an export attaches as a {@link BlockUser}, as QEMU's export creates its own BlockBackend).
 *
 * <p>Threads: resolving, attaching, truncate and listener calls on the control thread; {@link NodeAccess#submit}
 * on an IoThread.
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
        public NodeAccess attach(String user, int perms, int shared, boolean writethrough) throws EngineException {
            // QEMU names an export's BlockBackend this way in permission conflicts
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
        public long allocatedBytes() {
            return n.actualSize();
        }

        @Override
        public void submit(BlockRequest request) {
            user.submit(request); // the user adds FUA for writethrough exports and checks its permissions
        }

        @Override
        public void truncate(long length) throws EngineException {
            user.truncate(length);
        }

        @Override
        public void setListener(NodeListener l) {
            user.setListener(l == null ? null : new BlockUser.Listener() {
                @Override
                public void drainedBegin() {
                    l.drainedBegin();
                }

                @Override
                public void drainedEnd() {
                    l.drainedEnd();
                }

                @Override
                public void lengthChanged(long length) {
                    l.lengthChanged(length);
                }
            });
        }

        @Override
        public void detach() {
            if (user.isAttached()) {
                user.setListener(null);
                user.detach();
            }
        }
    }
}
