package io.isthmus.engine.export.vhostuser;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysMman;
import java.lang.foreign.MemorySegment;

/**
 * The shared inflight region (GET/SET_INFLIGHT_FD, protocol feature INFLIGHT_SHMFD): one part per queue where the
 * back end records which descriptor heads are in flight, so that a back end restarted under a reconnecting front
 * end resubmits them. The front end keeps the fd across back-end restarts; this class only creates or maps it
 * and hands each queue its part. The per-queue layout is libvhost-user's split-ring one (a 16-byte header,
 * then 16 bytes per descriptor), each part {@link #queueRegionSize} bytes, so the sizes agree with QEMU's.
 *
 * <p>Thread use: the session's thread; the parts are read and written by the IoThreads of their queues.
 * Memory: a shared mapping, unmapped by {@link #close}.
 */
public final class InflightRegion {
    public static final int ALIGNMENT = 64;
    public static final int DESC_STATE_SIZE = 16;

    public final int numQueues;
    public final int queueSize;
    private final SharedMapping mapping;

    private InflightRegion(int numQueues, int queueSize, SharedMapping mapping) {
        this.numQueues = numQueues;
        this.queueSize = queueSize;
        this.mapping = mapping;
    }

    /** Bytes of one queue's part (libvhost-user's vu_inflight_queue_size). */
    public static long queueRegionSize(int queueSize) {
        return (DESC_STATE_SIZE * (long) queueSize + 2 + ALIGNMENT - 1) & -ALIGNMENT;
    }

    private static void checkShape(int numQueues, int queueSize, int deviceQueues) throws VhostUserException {
        if (numQueues <= 0 || numQueues > deviceQueues || queueSize <= 0 || queueSize > VhostUser.MAX_QUEUE_SIZE) {
            throw new VhostUserException("inflight region for " + numQueues + " queues of " + queueSize
                    + " entries refused (device has " + deviceQueues + " queues)");
        }
    }

    /**
     * GET_INFLIGHT_FD: a new zeroed region in a memfd. Returns the region and puts its fd in {@code fdOut[0]}; the
     * caller sends that fd to the front end and closes it.
     */
    public static InflightRegion create(int numQueues, int queueSize, int deviceQueues, int[] fdOut)
            throws VhostUserException {
        checkShape(numQueues, queueSize, deviceQueues);
        long size = queueRegionSize(queueSize) * numQueues;
        int fd = Posix.memfdCreate("isthmus-inflight", SysMman.MFD_CLOEXEC);
        if (fd < 0) {
            throw new VhostUserException("memfd_create for the inflight region failed: " + Errno.name(-fd));
        }
        try {
            int r = Posix.ftruncate(fd, size);
            if (r < 0) {
                throw new VhostUserException("ftruncate of the inflight region failed: " + Errno.name(-r));
            }
            InflightRegion region = new InflightRegion(numQueues, queueSize,
                    SharedMapping.map(fd, 0, size, "inflight region"));
            fdOut[0] = fd;
            fd = -1;
            return region;
        } finally {
            if (fd >= 0) {
                Posix.close(fd);
            }
        }
    }

    /** SET_INFLIGHT_FD: maps the front end's region. Takes the fd and closes it. */
    public static InflightRegion map(int fd, long mmapSize, long mmapOffset, int numQueues, int queueSize,
            int deviceQueues) throws VhostUserException {
        try {
            checkShape(numQueues, queueSize, deviceQueues);
            if (mmapSize < queueRegionSize(queueSize) * numQueues) {
                throw new VhostUserException("inflight region of 0x" + Long.toHexString(mmapSize)
                        + " bytes too small for " + numQueues + " queues of " + queueSize);
            }
            return new InflightRegion(numQueues, queueSize,
                    SharedMapping.map(fd, mmapOffset, mmapSize, "inflight region"));
        } finally {
            Posix.close(fd);
        }
    }

    public long byteSize() {
        return mapping.segment().byteSize();
    }

    /** Queue {@code i}'s part, or null if the region has no part for it. */
    public MemorySegment queue(int i) {
        if (i < 0 || i >= numQueues) {
            return null;
        }
        long part = queueRegionSize(queueSize);
        return mapping.segment().asSlice(part * i, part);
    }

    public void close() {
        mapping.close();
    }
}
