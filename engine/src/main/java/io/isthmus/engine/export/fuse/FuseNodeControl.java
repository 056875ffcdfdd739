package io.isthmus.engine.export.fuse;

/**
 * What the FUSE export needs from its node beyond {@link io.isthmus.engine.export.NodeAccess}'s data path: resizing
 * (SETATTR size, growable writes, fallocate past EOF) and the allocated size for {@code st_blocks}. The export
 * driver maps {@link #resize} to {@code NodeAccess.truncate}, which runs on the control thread: it posts the call
 * there and posts the result back.
 *
 * <p>Thread use: {@link #resize} is called on a serving IoThread and must not block it; {@code done} must be called
 * on that same IoThread (the one {@link io.isthmus.engine.loop.IoThread#current()} returned at the call), exactly
 * once, possibly before {@code resize} returns. Results: 0 or -errno (EFBIG/ENOSPC/EIO... as the node reports).
 */
public interface FuseNodeControl {
    /**
     * Resizes the node to {@code length} bytes (new bytes read as zeroes). With {@code growOnly} the node is left
     * alone when it is already at least that long (two IoThreads growing for writes past EOF at once).
     */
    void resize(long length, boolean growOnly, ResizeDone done);

    /** Bytes the node's image occupies on its storage, for {@code st_blocks}; -1 when unknown. Any thread. */
    default long allocatedBytes() {
        return -1;
    }

    /** Completion of {@link #resize}. */
    @FunctionalInterface
    interface ResizeDone {
        void resized(int result);
    }

    /** A node that cannot be resized: every resize fails with -ENOTSUP (95), the state of a fixed-size node. */
    FuseNodeControl FIXED = (length, growOnly, done) -> done.resized(-95);
}
