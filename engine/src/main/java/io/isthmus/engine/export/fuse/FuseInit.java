package io.isthmus.engine.export.fuse;

import static io.isthmus.engine.export.fuse.FuseProtocol.*;

import java.lang.foreign.MemorySegment;

/**
 * FUSE_INIT negotiation: which of the kernel's offered capabilities the export takes and the limits it announces.
 * Large requests (max_write = the export's maxIo, 1 MiB by default, with FUSE_MAX_PAGES so the kernel may send
 * them in one piece), async reads and async direct I/O (several requests of one O_DIRECT/io_uring caller in
 * flight), parallel directory operations, big writes, and ATOMIC_O_TRUNC so that an open with O_TRUNC reaches
 * the export as an OPEN flag (ignored: the contents stay, as QSD) instead of as a truncating SETATTR.
 * Stateless; any thread.
 */
public final class FuseInit {
    private FuseInit() {}

    private static final int EPROTO = 71;

    /** Capabilities the export asks for (each only if the kernel offers it). */
    public static final long WANTED = ASYNC_READ | ATOMIC_O_TRUNC | BIG_WRITES | ASYNC_DIO | PARALLEL_DIROPS
            | MAX_PAGES;
    public static final int MAX_BACKGROUND = 65535, CONGESTION_THRESHOLD = 49151;
    private static final int PAGE = 4096;

    /**
     * Encodes the reply to INIT request {@code r} at {@code at}: returns the reply argument's length, or -errno
     * (EPROTO for a kernel older than protocol 7).
     */
    public static int reply(FuseRequest r, MemorySegment s, long at, int maxIo) {
        if (r.major < KERNEL_VERSION) {
            return -EPROTO;
        }
        if (r.major > KERNEL_VERSION) {
            // the kernel retries with our major when it sees it
            return FuseReplies.initOut(s, at, KERNEL_VERSION, KERNEL_MINOR_VERSION, 0, 0, 0, 0, 0, 0, 0);
        }
        int minor = Math.min(r.minor, KERNEL_MINOR_VERSION);
        long flags = r.initFlags & WANTED;
        int maxPages = Math.min(maxIo / PAGE, 0xFFFF);
        return FuseReplies.initOut(s, at, KERNEL_VERSION, minor, r.maxReadahead, flags, MAX_BACKGROUND,
                CONGESTION_THRESHOLD, maxIo, 1, maxPages);
    }
}
