package io.isthmus.engine.export.fuse;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysMman;
import io.isthmus.engine.loop.IoThread;
import java.lang.foreign.Arena;
import java.util.concurrent.CompletableFuture;

/**
 * The requests of one {@code /dev/fuse} fd served on one IoThread: a fixed set of {@link FuseSlot}s, of which a
 * few at a time ({@link #ARMED_READS}) have a read pending on the fd through the IoThread's ring; a slot whose read
 * brings a request serves it and answers on the same fd (the kernel matches replies to requests per fd), then
 * goes back to the free list. When every slot is busy nothing reads, and the kernel queues further requests.
 *
 * <p>The fd is non-blocking, so that io_uring waits for it by polling instead of parking a worker thread in
 * {@code read(2)}. One read is armed at a time: every armed read is woken for each new request, and io_uring hands
 * a read that was woken in vain (another read took the request) to an io-wq worker that then blocks in
 * {@code read(2)} (seen with two armed reads: an iou-wrk thread per queue, a thread switch per request). While
 * requests are queued in the kernel, the armed read completes at once when it is submitted. (A multishot read into
 * a provided-buffer ring would take several queued requests per wakeup without the herd: the IoThread has no
 * buffer rings yet.)
 *
 * <p>Thread use: everything runs on {@link #io}, except construction. Memory: the slots' buffers are one anonymous
 * mapping (pages become resident as requests use them), unmapped with the slots' arena once every operation has
 * completed after {@link #stop}. Results from the ring are {@code >= 0} or {@code -errno}.
 */
final class FuseQueue {
    private static final System.Logger LOG = System.getLogger(FuseQueue.class.getName());
    static final int ARMED_READS = 1;

    final FuseServer server;
    final FuseFile file;
    final IoThread io;
    final int fd;
    private final boolean ownsFd;
    private final long region;
    private final long regionSize;
    private final Arena arena = Arena.ofShared();
    private final FuseSlot[] slots;
    private final int[] free;
    private int freeTop;
    private int armed;
    private boolean stopping;
    private boolean dead;
    private boolean finished;
    final CompletableFuture<Void> stopped = new CompletableFuture<>();

    FuseQueue(FuseServer server, FuseFile file, IoThread io, int fd, boolean ownsFd) {
        this.server = server;
        this.file = file;
        this.io = io;
        this.fd = fd;
        this.ownsFd = ownsFd;
        FuseExportConfig c = file.config;
        long slotSize = FuseSlot.DATA_OFF + (long) c.maxIo();
        this.regionSize = slotSize * c.slotsPerQueue();
        long r = Posix.mmap(0, regionSize, SysMman.PROT_READ | SysMman.PROT_WRITE,
                SysMman.MAP_PRIVATE | SysMman.MAP_ANONYMOUS, -1, 0);
        if (r < 0) {
            throw new IllegalStateException("cannot map the FUSE request buffers: " + Errno.message((int) r));
        }
        this.region = r;
        this.slots = new FuseSlot[c.slotsPerQueue()];
        this.free = new int[slots.length];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new FuseSlot(this, i, region + i * slotSize, c.maxIo(), arena);
        }
        for (int i = slots.length - 1; i >= 0; i--) {
            free[freeTop++] = i;
        }
    }

    /** Starts reading (on {@link #io}). */
    void start() {
        armReads();
    }

    private void armReads() {
        while (!stopping && !dead && armed < ARMED_READS && freeTop > 0) {
            FuseSlot s = slots[free[--freeTop]];
            armed++;
            s.arm();
        }
    }

    void readDone(FuseSlot s, int res) {
        armed--;
        if (res > 0) {
            armReads(); // keep reading while this request is served
            s.process(res);
            return;
        }
        if ((res == -Errno.EINTR || res == -Errno.EAGAIN) && !stopping && !dead) {
            armed++;
            s.arm();
            return;
        }
        if (res == -Errno.ENODEV || res == 0) {
            // unmounted, or the connection was aborted
            dead = true;
            server.markDisconnected();
        } else if (res == -Errno.ECANCELED) {
            // our stop, or the IoThread shutting down under us: never re-arm into its cancel loop
            dead = true;
        } else {
            server.halt("reading /dev/fuse failed: " + Errno.message(res));
        }
        release(s);
    }

    void replyDone(FuseSlot s, int res) {
        // -ENOENT: the request was interrupted or aborted meanwhile, the kernel no longer waits for it
        if (res < 0 && res != -Errno.ENOENT && res != -Errno.ENODEV && res != -Errno.ECANCELED) {
            LOG.log(System.Logger.Level.WARNING, "FUSE export on " + server.name() + ": the kernel refused the reply to "
                    + FuseProtocol.opcodeName(s.req.opcode) + ": " + Errno.message(res));
        }
        release(s);
    }

    void release(FuseSlot s) {
        free[freeTop++] = s.index;
        armReads();
        checkStopped();
    }

    /** Stops reading: cancels the armed reads; {@link #stopped} completes when every slot is idle. */
    void stop() {
        stopping = true;
        for (FuseSlot s : slots) {
            if (s.readOp != -1) {
                io.cancel(s.readOp);
            }
        }
        checkStopped();
    }

    /** Stops reading new requests after a protocol failure; requests in flight finish. */
    void halt() {
        stop();
    }

    /** Requests being read or served. */
    int busy() {
        return slots.length - freeTop;
    }

    private void checkStopped() {
        if (!stopping || finished || freeTop != slots.length) {
            return;
        }
        finished = true;
        if (ownsFd) {
            Posix.close(fd);
        }
        Posix.munmap(region, regionSize);
        arena.close();
        stopped.complete(null);
    }

    /** The IoThread is gone before stop could run there: nothing is in flight on its ring any more. */
    void abandon() {
        if (!finished) {
            finished = true;
            if (ownsFd) {
                Posix.close(fd);
            }
            stopped.complete(null); // the mapping stays: a late kernel write must not hit freed memory
        }
    }
}
