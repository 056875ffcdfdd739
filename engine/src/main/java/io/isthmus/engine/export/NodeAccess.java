package io.isthmus.engine.export;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockRequest;

/**
 * An export's own access to its block node (QEMU's BlockBackend): obtained from {@link ExportableNode#attach}
 * with the permissions the export's driver asked for, released with {@link #detach}. The data path uses
 * {@link #submit} on an IoThread; {@link #truncate}, {@link #setListener} and {@link #detach} belong to the
 * control thread; the getters may be called from any thread.
 */
public interface NodeAccess {
    String nodeName();

    /** The node's length in bytes (current: it changes with block_resize and truncate). */
    long length();

    boolean isReadOnly();

    /** Smallest alignment requests should honour (1, 512, 4096...). */
    int requestAlignment();

    /** Largest request the node accepts in one piece (bytes; Integer.MAX_VALUE when unlimited). */
    int maxTransfer();

    /**
     * Bytes the node's image occupies on its storage (QMP's actual-size; FUSE's st_blocks), or -1 when unknown.
     * Control thread (it may stat the image file).
     */
    default long allocatedBytes() {
        return -1;
    }

    /** Submits a request on the calling IoThread; its callback comes back on the same thread. */
    void submit(BlockRequest request);

    /**
     * The export's own resize (a growable FUSE export writing past the end): needs the RESIZE permission (see
     * {@link ExportDriver#permissions}). Drains the node, truncates it, resizes the dirty bitmaps and tells every
     * user's listener, exactly as block_resize does. Control thread; blocks while the node drains (an export
     * serving on an IoThread posts it to the control thread). Throws with the block driver's text when the node
     * cannot be resized.
     */
    void truncate(long length) throws EngineException;

    /** Sets (or with null removes) what this export hears from its node: length changes and drained sections. */
    void setListener(NodeListener listener);

    /** Releases the permissions taken by attach. Idempotent. */
    void detach();
}
