package io.isthmus.engine.block;

/**
 * Completion of a {@link BlockRequest}, called on the IoThread that submitted it. {@code result} is
 * {@code >= 0} on success (0 for everything but reads/writes, which report 0 as well: the whole range is done
 * or the request failed) or {@code -errno} as QEMU's block layer would return it. Must not throw.
 */
@FunctionalInterface
public interface BlockCallback {
    void done(BlockRequest request, int result);
}
