package io.isthmus.engine.export.nbd;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockNode;
import io.isthmus.engine.block.DirtyBitmap;

/**
 * The one bitmap lookup of NBD exports (QEMU's nbd_export_create): a plain name is a bitmap of the exported node
 * ("Bitmap 'x' is not found" otherwise), the {@code {node, name}} form is QEMU's block_dirty_bitmap_lookup with the
 * block layer's texts ({@link BlockGraph#lookupBitmap}). Control thread (exports are created there).
 */
public final class NbdBitmaps {
    private NbdBitmaps() {
    }

    /** Without a block graph there are no bitmaps (the server's default). */
    static final NbdServer.BitmapLookup NONE = (exportedNode, ref) -> {
        throw notFound(ref);
    };

    /** The bitmaps of {@code graph}'s nodes. */
    public static NbdServer.BitmapLookup inGraph(BlockGraph graph) {
        return (exportedNode, ref) -> {
            DirtyBitmap b;
            if (ref.node() != null) {
                b = graph.lookupBitmap(ref.node(), ref.name());
            } else {
                BlockNode n = graph.find(exportedNode);
                b = n == null ? null : n.findBitmap(ref.name());
                if (b == null) {
                    throw notFound(ref);
                }
            }
            return new GraphBitmap(b);
        };
    }

    private static EngineException notFound(NbdExportOptions.BitmapRef ref) {
        return new EngineException("Bitmap '" + ref.name() + "' is not found");
    }

    /** A block-layer bitmap as NBD reads it (DirtyBitmap's reads are safe against marking). */
    private record GraphBitmap(DirtyBitmap b) implements NbdBitmap {
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
