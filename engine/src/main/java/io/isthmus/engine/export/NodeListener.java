package io.isthmus.engine.export;

/**
 * What an export hears from its node (QEMU's BlockDevOps for an export's BlockBackend), registered with
 * {@link NodeAccess#setListener}. Every call comes on the control thread and must not block: an export that serves
 * on IoThreads posts what it has to do there.
 */
public interface NodeListener {
    /**
     * A drained section begins on the node or a node below it (block_resize, another user's truncate, a graph
     * change). Requests already submitted complete as usual; those submitted from now on wait and run after
     * {@link #drainedEnd}. An export may stop reading new requests meanwhile (QEMU's drained_begin).
     */
    default void drainedBegin() {
    }

    /** The drained section ended (QEMU's drained_end). */
    default void drainedEnd() {
    }

    /**
     * The node's length changed (block_resize, or a user's {@link NodeAccess#truncate}, this export's own
     * included), inside the drained section of the resize (QEMU's resize_cb). vhost-user-blk sends the guest a
     * config-change message here.
     */
    default void lengthChanged(long length) {
    }
}
