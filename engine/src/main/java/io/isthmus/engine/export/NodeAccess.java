package io.isthmus.engine.export;

import io.isthmus.engine.block.BlockRequest;

/**
 * An export's own access to its block node (QEMU's BlockBackend): obtained from {@link ExportableNode#attach}
 * with the permissions the export needs, released with {@link #detach}. The data path uses {@link #submit}
 * on an IoThread; the rest may be called from any thread.
 */
public interface NodeAccess {
    String nodeName();

    /** The node's length in bytes. */
    long length();

    boolean isReadOnly();

    /** Smallest alignment requests should honour (1, 512, 4096...). */
    int requestAlignment();

    /** Largest request the node accepts in one piece (bytes; Integer.MAX_VALUE when unlimited). */
    int maxTransfer();

    /** Submits a request on the calling IoThread; its callback comes back on the same thread. */
    void submit(BlockRequest request);

    /** The dirty bitmap of this node (or a node below it) with this name, or null. */
    ExportBitmap findBitmap(String name);

    /** Releases the permissions taken by attach. Idempotent. */
    void detach();
}
