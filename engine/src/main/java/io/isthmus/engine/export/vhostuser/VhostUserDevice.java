package io.isthmus.engine.export.vhostuser;

import java.lang.foreign.MemorySegment;

/**
 * The device behind a vhost-user session (virtio-blk for this export): what it offers, its config space, and the
 * start and stop of its queues. {@link VhostUserHandler} calls it on the session's thread, in message order.
 *
 * <p>Fds and memory passed in are borrowed for the call: a device that keeps an fd beyond the call (an IoThread
 * reading the kick eventfd, writing the call eventfd) dup()s it. {@link #memoryChanged} and {@link #stopQueue}
 * are the points where the device must let go of the previous memory: when they return (or when a deferred stop
 * completes), no queue reads the old regions and no native I/O is in flight on them.
 */
public interface VhostUserDevice {
    /** Returned by {@link #stopQueue} when the device answers later through {@link VhostUserHandler#queueStopped}. */
    long DEFER = -1;

    /** The virtio feature bits offered (device, ring and transport bits; the handler adds PROTOCOL_FEATURES). */
    long features();

    int numQueues();

    /** Bytes of config space. */
    int configSize();

    /** Copies config space bytes [offset, offset + size) into {@code dst}: 0 or -errno (refused). */
    int readConfig(int offset, MemorySegment dst, int size);

    /** A front end writes config space ({@code flags}: VhostUser.CONFIG_TYPE_*): 0 or -errno (refused). */
    int writeConfig(int offset, MemorySegment src, int size, int flags);

    /**
     * Queue {@code vring.index} has its size, rings, base and kick fd, and is enabled: serve it from now on.
     * Throws if its rings cannot be used (outside guest memory, bad size): the session ends.
     */
    void startQueue(Vring vring) throws VhostUserException;

    /**
     * Stop serving queue {@code index} and return its next avail index (GET_VRING_BASE's answer; for packed rings
     * with the wrap counter in bit 15), once its in-flight requests are complete, or {@link #DEFER}.
     */
    long stopQueue(int index);

    /** The call fd of a running queue changed ({@code fd} may be -1: do not signal). */
    void callChanged(int index, int fd);

    /** The guest memory changed (regions added or removed); running queues must move to {@code memory}. */
    void memoryChanged(GuestMemory memory);

    /** The front end acknowledged {@code features} (SET_FEATURES). */
    default void featuresAcked(long features) {}
}
