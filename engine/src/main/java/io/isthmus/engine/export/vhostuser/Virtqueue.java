package io.isthmus.engine.export.vhostuser;

/**
 * A virtqueue as the device serves it, split ({@link SplitVirtqueue}) or packed ({@link PackedVirtqueue}): take
 * available chains, hand back used ones, decide about notifications. One IoThread owns a queue; nothing here
 * allocates or blocks.
 */
public interface Virtqueue {
    // ---- pop results
    /** A valid chain was popped into the DescriptorChain. */
    int POPPED = 0;
    /** No new buffers. */
    int EMPTY = 1;
    /**
     * A buffer was taken but its chain is malformed (chain.error says why): complete it (id {@code chain.head},
     * {@code chain.ringDescriptors}) with no data, e.g. used length 0.
     */
    int MALFORMED = 2;
    /** The ring is broken: stop the queue, mark the device broken, never re-run a request. */
    int BROKEN = 3;

    int size();

    /** Takes the next available chain into {@code chain}: {@link #POPPED}, {@link #MALFORMED}, {@link #EMPTY} or
     *  {@link #BROKEN}. */
    int pop(DescriptorChain chain);

    /**
     * Records chain {@code id} (which took {@code ringDescriptors} ring entries, as popped) as used with
     * {@code len} bytes written; visible to the driver after {@link #publishUsed}.
     */
    void addUsed(int id, int len, int ringDescriptors);

    /** Makes the used entries added so far visible to the driver (release ordering). */
    void publishUsed();

    /** After publishing: must the driver be signalled (call eventfd)? Honours the driver's suppression. */
    boolean needsNotify();

    /** Asks the driver to stop or resume kicking; when resuming, returns true if buffers arrived meanwhile. */
    boolean setNotification(boolean enable);

    /** True if the driver made buffers available that were not popped yet. */
    boolean hasAvailable();

    boolean isBroken();

    /** GET_VRING_BASE's answer: where a restarted back end resumes (split: next avail index; packed: see there). */
    int vringBase();
}
