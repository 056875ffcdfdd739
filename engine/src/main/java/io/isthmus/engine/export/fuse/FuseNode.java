package io.isthmus.engine.export.fuse;

import io.isthmus.engine.block.BlockRequest;
import io.isthmus.engine.export.NodeAccess;

/**
 * The part of a node's access the serving core uses on its data path. In the daemon it is always
 * {@link #of(NodeAccess)} (one implementation: the calls stay monomorphic); tests serve simpler nodes through it.
 * Thread use and results as {@link NodeAccess}: {@link #submit} on an IoThread, the getters from any thread.
 */
interface FuseNode {
    long length();

    int maxTransfer();

    int requestAlignment();

    void submit(BlockRequest request);

    static FuseNode of(NodeAccess access) {
        return new Access(access);
    }

    /** The adapter over {@link NodeAccess}. */
    final class Access implements FuseNode {
        private final NodeAccess a;

        Access(NodeAccess a) {
            this.a = a;
        }

        @Override
        public long length() {
            return a.length();
        }

        @Override
        public int maxTransfer() {
            return a.maxTransfer();
        }

        @Override
        public int requestAlignment() {
            return a.requestAlignment();
        }

        @Override
        public void submit(BlockRequest request) {
            a.submit(request);
        }
    }
}
