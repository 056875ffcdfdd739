package io.isthmus.engine.export.vhostuser;

import java.lang.foreign.MemorySegment;

/**
 * What a front end has told the back end about one virtqueue (SET_VRING_NUM/ADDR/BASE/KICK/CALL/ERR/ENABLE),
 * held by {@link VhostUserHandler} and read by the device when the queue starts. Thread use: the session's
 * thread. Fds: owned by the handler (closed when replaced, on GET_VRING_BASE as libvhost-user does, and at the
 * end of the session); the device borrows them.
 */
public final class Vring {
    public final int index;
    int size;
    int addrFlags;
    long descUser, availUser, usedUser, logGuest;
    boolean addressed;
    int base;
    int kickFd = -1, callFd = -1, errFd = -1;
    /** A SET_VRING_KICK arrived since the last stop (libvhost-user's "started"). */
    boolean kicked;
    boolean enabled;
    boolean running;
    long features;
    GuestMemory memory = GuestMemory.EMPTY;
    MemorySegment inflight;

    Vring(int index) {
        this.index = index;
    }

    public int size() {
        return size;
    }

    public long descUser() {
        return descUser;
    }

    public long availUser() {
        return availUser;
    }

    public long usedUser() {
        return usedUser;
    }

    public int addrFlags() {
        return addrFlags;
    }

    /** SET_VRING_BASE's value: the next avail index (split; packed: bits 0-14 index, bit 15 wrap counter). */
    public int base() {
        return base;
    }

    public int kickFd() {
        return kickFd;
    }

    public int callFd() {
        return callFd;
    }

    public int errFd() {
        return errFd;
    }

    public boolean isRunning() {
        return running;
    }

    /** The virtio features the front end acknowledged (ring format, EVENT_IDX, INDIRECT_DESC...). */
    public long features() {
        return features;
    }

    public boolean hasFeature(int bit) {
        return (features & (1L << bit)) != 0;
    }

    public GuestMemory memory() {
        return memory;
    }

    /**
     * This queue's part of the inflight region (GET/SET_INFLIGHT_FD), or null if none was set up: a split queue
     * tracks its requests there through {@link SplitInflightLog} ({@link SplitVirtqueue#attachInflight}).
     */
    public MemorySegment inflight() {
        return inflight;
    }

    /**
     * Builds the queue this vring describes, in the format the front end acknowledged: packed or split, with
     * EVENT_IDX and INDIRECT_DESC as negotiated; a split queue tracks its requests in the inflight region when there
     * is one (and resubmits what a previous back end left in flight). For {@link VhostUserDevice#startQueue}.
     * Throws if the rings are not inside guest memory or the sizes do not fit.
     */
    public Virtqueue mapQueue() throws VhostUserException {
        boolean eventIdx = hasFeature(VhostUser.F_RING_EVENT_IDX);
        boolean indirect = hasFeature(VhostUser.F_RING_INDIRECT_DESC);
        if (hasFeature(VhostUser.F_RING_PACKED)) {
            return PackedVirtqueue.map(memory, size, descUser, availUser, usedUser, base, eventIdx, indirect);
        }
        SplitVirtqueue q = SplitVirtqueue.map(memory, size, descUser, availUser, usedUser, base, eventIdx, indirect);
        if (inflight != null) {
            q.attachInflight(new SplitInflightLog(inflight, size));
        }
        return q;
    }
}
