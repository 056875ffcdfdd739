package io.isthmus.engine.loop;

import static io.isthmus.bindings.LinuxIoUring.*;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.IoUringPrep;
import io.isthmus.bindings.SysEventfd;
import io.isthmus.bindings.Posix;
import io.isthmus.engine.uring.IoUringUnavailableException;
import io.isthmus.engine.uring.Ring;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One platform thread owning one io_uring: the event loop every connection, queue and request of the data
 * plane belongs to.
 *
 * <p>Thread use: the I/O methods ({@link #read}, {@link #recv}, ...) must be called on this IoThread (from a
 * completion or a task); {@link #execute}, {@link #submit}, {@link #close} may be called from any thread.
 * Completions are delivered on this thread to the {@link Completion} given at submission, with its tag.
 *
 * <p>Memory: the ring's mappings and a small confined arena (the doorbell buffer and a timespec per slot) are
 * owned by the loop and freed only after every in-flight operation has completed ({@link #close} drains).
 * Buffers passed to I/O methods belong to the caller and must stay valid until their completion arrives (also
 * after a cancel).
 *
 * <p>Operations: each returns the operation's id (its io_uring {@code user_data}: generation << 32 | slot),
 * which {@link #cancel} accepts. Prepared entries accumulate during a loop turn and are submitted with one
 * {@code io_uring_enter} per turn. Results follow the native convention: {@code >= 0} or {@code -errno}.
 *
 * <p>Cross-thread work: tasks go into an MPSC queue ({@link TaskQueue}); a poster wakes the loop through an
 * eventfd only when the loop is about to sleep or sleeping ({@link Wakeup}), and the loop keeps a read of that
 * eventfd armed on its own ring. A task accepted by {@link #execute} always runs, also when {@link #close}
 * races with it; after close has begun, execute throws {@link RejectedExecutionException}.
 *
 * <p>Registered buffers: {@link #createBufferPool} makes a per-IoThread {@link BufferPool} whose buffers are
 * registered with the ring, for {@link #readFixed}/{@link #writeFixed}. Every operation also has a raw-address
 * form, so slices of preallocated buffers need no segment objects.
 *
 * <p>No allocation per operation in steady state: slots are arrays, reused; SQEs are filled in the mapped ring
 * (checked with JMH {@code -prof gc}, see benchmarks/loop-bench).
 */
public final class IoThread implements Executor, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(IoThread.class.getName());

    public static final int DEFAULT_ENTRIES = 256;

    private static final long TIMESPEC_SIZE = 16;
    private static final MemorySegment ONE;

    static {
        ONE = Arena.global().allocate(8, 8);
        ONE.set(JAVA_LONG, 0, 1L);
    }

    private final String name;
    private final int entries;
    private final LoopThread thread;
    private final TaskQueue tasks = new TaskQueue();
    private final Wakeup wakeup = new Wakeup();
    private final AtomicInteger posting = new AtomicInteger(); // execute() calls between their check and offer
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private volatile boolean stopRequested;
    private volatile int eventFd = -1;

    // ---- loop-thread state
    private Ring ring;
    private Arena arena;
    private MemorySegment doorbellBuf;
    private MemorySegment timespecs;
    // Completion per slot, typed Object[]: storing into a Completion[] costs an array-store check against an
    // interface (a secondary-supers scan) on every operation; into an Object[] the check is one compare
    private Object[] callbacks;
    private long[] tags;
    private int[] generations;
    private int[] freeSlots;
    private int freeTop;
    private int internalInFlight;  // the doorbell read and the loop's own cancels: slots in use not counted by inFlight()
    private long doorbellId = -1;
    private boolean cancelAllPending;
    private long completedOps;
    private long enters;
    private BufferPool bufferPool;

    private final class LoopThread extends Thread {
        LoopThread(String name) {
            super(name);
            setDaemon(true);
        }

        IoThread owner() {
            return IoThread.this;
        }

        @Override
        public void run() {
            IoThread.this.run();
        }
    }

    private IoThread(String name, int entries) {
        this.name = name;
        this.entries = entries;
        this.thread = new LoopThread(name);
    }

    /**
     * Starts an IoThread and waits until its ring is set up.
     *
     * @throws IoUringUnavailableException when the kernel refuses io_uring (the message names the cause)
     */
    public static IoThread start(String name) {
        return start(name, DEFAULT_ENTRIES);
    }

    public static IoThread start(String name, int entries) {
        IoThread t = new IoThread(name, entries);
        t.thread.start();
        try {
            t.started.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
        return t;
    }

    /** The IoThread the calling thread is, or null. */
    public static IoThread current() {
        return Thread.currentThread() instanceof LoopThread lt ? lt.owner() : null;
    }

    public String name() {
        return name;
    }

    public boolean inThread() {
        return Thread.currentThread() == thread;
    }

    // =====================================================================================================
    // cross-thread tasks

    /** Runs the task on this IoThread (any thread may call). Rejected once {@link #close} has begun. */
    @Override
    public void execute(Runnable task) {
        // 'posting' closes the window between the check and the offer: the loop does not exit while a poster
        // that saw it running has not enqueued yet, so an accepted task always runs
        posting.incrementAndGet();
        try {
            if (stopRequested) {
                throw new RejectedExecutionException("IoThread " + name + " is shutting down");
            }
            tasks.offer(task);
            wake();
        } finally {
            posting.decrementAndGet();
        }
    }

    /** Runs the callable on this IoThread and completes the future with its result or exception. */
    public <T> CompletableFuture<T> submit(Callable<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        execute(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    private void wake() {
        if (wakeup.needsSignal()) {
            int fd = eventFd;
            if (fd >= 0) {
                Posix.write(fd, ONE, 8);
            }
        }
    }

    // =====================================================================================================
    // the loop

    private void run() {
        try {
            setUp();
        } catch (Throwable t) {
            started.completeExceptionally(t);
            terminated.complete(null);
            return;
        }
        started.complete(null);
        try {
            loop();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "IoThread " + name + " failed", t);
        } finally {
            tearDown();
            terminated.complete(null);
        }
    }

    private void setUp() {
        ring = Ring.create(entries, Math.max(entries * 4, 1024));
        arena = Arena.ofConfined();
        doorbellBuf = arena.allocate(8, 8);
        int capacity = Math.max(entries * 4, 1024);
        allocateSlots(capacity);
        int efd = Posix.eventfd(0, SysEventfd.EFD_CLOEXEC);
        if (efd < 0) {
            ring.close();
            throw new IoUringUnavailableException("cannot create the IoThread's eventfd: " + Errno.message(efd));
        }
        eventFd = efd;
        armDoorbell();
    }

    private void allocateSlots(int capacity) {
        int old = callbacks == null ? 0 : callbacks.length;
        callbacks = callbacks == null ? new Object[capacity] : Arrays.copyOf(callbacks, capacity);
        tags = tags == null ? new long[capacity] : Arrays.copyOf(tags, capacity);
        generations = generations == null ? new int[capacity] : Arrays.copyOf(generations, capacity);
        int[] free = new int[capacity];
        if (freeSlots != null) {
            System.arraycopy(freeSlots, 0, free, 0, freeTop);
        }
        for (int s = capacity - 1; s >= old; s--) {
            free[freeTop++] = s;
        }
        freeSlots = free;
        MemorySegment ts = arena.allocate(TIMESPEC_SIZE * capacity, 8);
        if (timespecs != null) {
            ts.copyFrom(timespecs); // old arena memory stays valid until the arena closes
        }
        timespecs = ts;
    }

    private void loop() {
        while (true) {
            runTasks();
            boolean mayBlock = true;
            if (stopRequested) {
                boolean posters = posting.get() != 0;
                int inFlight = inFlight();
                if (inFlight == 0 && !posters && tasks.isEmpty()) {
                    break;
                }
                if (inFlight > 0 && !cancelAllPending) {
                    cancelAll();
                }
                // a poster between its check and its offer: do not sleep on a doorbell that cancelAll may have
                // cancelled; it will have enqueued by the next turn
                mayBlock = !posters;
            }
            boolean block = mayBlock && ring.cqReady() == 0 && tasks.isEmpty() && wakeup.prepareToSleep(tasks);
            if (block || ring.pending() > 0 || ring.cqReady() == 0) {
                int r = ring.enter(block ? 1 : 0, 0);
                enters++;
                if (r < 0 && r != -Errno.EINTR && r != -Errno.EAGAIN && r != -Errno.EBUSY) {
                    LOG.log(System.Logger.Level.ERROR, "IoThread " + name + ": io_uring_enter failed: "
                            + Errno.message(r));
                }
            }
            wakeup.awake();
            reapCompletions();
        }
        // the doorbell read is the last operation: cancel it and wait for its completion before unmapping
        if (doorbellId != -1) {
            prepCancel(doorbellId);
            while (doorbellId != -1) {
                ring.enter(1, 0);
                reapCompletions();
            }
        }
    }

    private void runTasks() {
        Runnable t;
        while ((t = tasks.poll()) != null) {
            try {
                t.run();
            } catch (Throwable e) {
                LOG.log(System.Logger.Level.ERROR, "IoThread " + name + ": task failed", e);
            }
        }
    }

    /**
     * Delivers every ready completion. Re-entrant: a callback that fills the SQ makes {@link #sqe()} enter the
     * kernel and reap (nested) before this pass resumes, so each entry is consumed before its dispatch and the
     * pass re-reads the head after each one instead of trusting a count taken before. The CQ head is published
     * to the kernel once at the end of a pass (and by every enter), not per entry.
     */
    private void reapCompletions() {
        Ring r = ring;
        int tail;
        while ((tail = r.cqTail()) != r.cqHead()) {
            do {
                long ud = r.cqeUserData(0);
                long resFlags = r.cqeResAndFlags(0);
                r.cqConsume();
                dispatch(ud, (int) resFlags, (int) (resFlags >>> 32));
            } while (tail - r.cqHead() > 0); // <= 0: done, or a nested reap went past this pass's tail
        }
        r.cqPublish();
    }

    private void dispatch(long ud, int res, int flags) {
        int slot = (int) ud;
        int gen = (int) (ud >>> 32);
        if (slot < 0 || slot >= callbacks.length || generations[slot] != gen || callbacks[slot] == null) {
            LOG.log(System.Logger.Level.WARNING, "IoThread " + name + ": completion for unknown operation " + ud);
            return;
        }
        Completion cb = (Completion) callbacks[slot];
        long tag = tags[slot];
        boolean more = (flags & IORING_CQE_F_MORE) != 0;
        if (!more) {
            freeSlot(slot);
        }
        completedOps++;
        try {
            cb.complete(res, flags, tag);
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "IoThread " + name + ": completion callback failed", t);
        }
    }

    private void tearDown() {
        eventFd = -1;
        if (ring != null) {
            ring.close();
        }
        if (arena != null) {
            arena.close();
        }
    }

    // ---- the doorbell: an eventfd read kept armed on the ring
    private final Completion doorbell = (res, flags, tag) -> {
        internalInFlight--;
        doorbellId = -1;
        if (!stopRequested) {
            armDoorbell();
        }
    };

    private final Completion internal = (res, flags, tag) -> {
        internalInFlight--;
        if (tag == 1) {
            cancelAllPending = false;
        }
    };

    private void armDoorbell() {
        long base = sqe();
        IoUringPrep.prepRead(base, eventFd, doorbellBuf.address(), 8, 0);
        doorbellId = attachInternal(base, doorbell, 0);
    }

    private void cancelAll() {
        cancelAllPending = true;
        long base = sqe();
        IoUringPrep.prepCancel(base, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
        attachInternal(base, internal, 1);
    }

    private void prepCancel(long target) {
        long base = sqe();
        IoUringPrep.prepCancel(base, target, 0);
        attachInternal(base, internal, 0);
    }

    // =====================================================================================================
    // submission plumbing

    private long sqe() {
        long base = ring.nextSqe();
        while (base == 0) {
            int r = ring.enter(0, 0); // queue full: submit what is there and retry
            if (r < 0 && r != -Errno.EINTR && r != -Errno.EAGAIN && r != -Errno.EBUSY) {
                throw new IllegalStateException("io_uring_enter failed: " + Errno.message(r));
            }
            if (r <= 0) {
                reapCompletions(); // the kernel may need CQ space before it takes more
            }
            base = ring.nextSqe();
        }
        return base;
    }

    private long attach(long base, Completion cb, long tag) {
        if (freeTop == 0) {
            allocateSlots(callbacks.length * 2);
        }
        int slot = freeSlots[--freeTop];
        int gen = ++generations[slot];
        callbacks[slot] = cb;
        tags[slot] = tag;
        long ud = ((long) gen << 32) | (slot & 0xFFFFFFFFL);
        IoUringPrep.setUserData(base, ud);
        return ud;
    }

    /** attach() for the loop's own operations, which {@link #inFlight()} does not count. */
    private long attachInternal(long base, Completion cb, long tag) {
        internalInFlight++;
        return attach(base, cb, tag);
    }

    private void freeSlot(int slot) {
        callbacks[slot] = null;
        freeSlots[freeTop++] = slot;
    }

    private void checkThread() {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("IoThread " + name + ": I/O submitted from thread "
                    + Thread.currentThread().getName());
        }
    }

    /** Submits prepared operations now instead of at the end of the loop turn (rarely needed). */
    public void flush() {
        checkThread();
        ring.enter(0, 0);
    }

    /** Operations submitted and not yet completed (loop thread). */
    public int inFlight() {
        return callbacks.length - freeTop - internalInFlight; // slots in use, less the loop's own
    }

    public long completedOps() {
        return completedOps;
    }

    public long enters() {
        return enters;
    }

    // =====================================================================================================
    // operations (loop thread only)

    public long nop(Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepNop(base);
        return attach(base, cb, tag);
    }

    public long read(int fd, MemorySegment buf, long offset, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepRead(base, fd, buf.address(), (int) buf.byteSize(), offset);
        return attach(base, cb, tag);
    }

    public long write(int fd, MemorySegment buf, long offset, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepWrite(base, fd, buf.address(), (int) buf.byteSize(), offset);
        return attach(base, cb, tag);
    }

    /** readv: {@code iovecs} holds {@code count} native {@code struct iovec}s (16 bytes each). */
    public long readv(int fd, MemorySegment iovecs, int count, long offset, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepReadv(base, fd, iovecs.address(), count, offset);
        return attach(base, cb, tag);
    }

    public long writev(int fd, MemorySegment iovecs, int count, long offset, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepWritev(base, fd, iovecs.address(), count, offset);
        return attach(base, cb, tag);
    }

    /** Read into a registered buffer ({@link #registerBuffers}); {@code buf} must lie inside buffer {@code index}. */
    public long readFixed(int fd, MemorySegment buf, long offset, int index, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepReadFixed(base, fd, buf.address(), (int) buf.byteSize(), offset, index);
        return attach(base, cb, tag);
    }

    public long writeFixed(int fd, MemorySegment buf, long offset, int index, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepWriteFixed(base, fd, buf.address(), (int) buf.byteSize(), offset, index);
        return attach(base, cb, tag);
    }

    public long fsync(int fd, boolean dataOnly, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepFsync(base, fd, dataOnly ? IORING_FSYNC_DATASYNC : 0);
        return attach(base, cb, tag);
    }

    public long fallocate(int fd, int mode, long offset, long length, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepFallocate(base, fd, mode, offset, length);
        return attach(base, cb, tag);
    }

    /** One-shot poll for {@code events} (POLLIN etc.); completes with the ready mask. */
    public long poll(int fd, int events, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepPollAdd(base, fd, events);
        return attach(base, cb, tag);
    }

    public long recv(int fd, MemorySegment buf, int msgFlags, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepRecv(base, fd, buf.address(), (int) buf.byteSize(), msgFlags);
        return attach(base, cb, tag);
    }

    public long send(int fd, MemorySegment buf, int msgFlags, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepSend(base, fd, buf.address(), (int) buf.byteSize(), msgFlags);
        return attach(base, cb, tag);
    }

    /** sendmsg: {@code msghdr} is a native {@code struct msghdr} valid until completion. */
    public long sendmsg(int fd, MemorySegment msghdr, int msgFlags, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepSendmsg(base, fd, msghdr.address(), msgFlags);
        return attach(base, cb, tag);
    }

    public long recvmsg(int fd, MemorySegment msghdr, int msgFlags, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepRecvmsg(base, fd, msghdr.address(), msgFlags);
        return attach(base, cb, tag);
    }

    /** accept4 on a listening socket; completes with the new fd. {@code flags} as accept4's (SOCK_CLOEXEC...). */
    public long accept(int fd, int flags, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepAccept(base, fd, 0, 0, flags);
        return attach(base, cb, tag);
    }

    /** A relative timeout: completes with -ETIME when it expires, -ECANCELED when cancelled. */
    public long timeout(long nanos, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        if (freeTop == 0) {
            allocateSlots(callbacks.length * 2);
        }
        int slot = freeSlots[freeTop - 1]; // the slot attach() will take: its timespec stays valid until completion
        long ts = TIMESPEC_SIZE * slot;
        timespecs.set(JAVA_LONG, ts, nanos / 1_000_000_000L);
        timespecs.set(JAVA_LONG, ts + 8, nanos % 1_000_000_000L);
        IoUringPrep.prepTimeout(base, timespecs.address() + ts, 0, 0);
        return attach(base, cb, tag);
    }

    /**
     * Asks the kernel to cancel an operation. The operation still completes through its own callback (with
     * -ECANCELED, or its result if it finished first); its buffers stay owned by it until then.
     */
    public void cancel(long opId) {
        checkThread();
        prepCancel(opId);
    }

    /**
     * Registers buffers for {@link #readFixed}/{@link #writeFixed} (replacing none: call once). {@code iovecs}
     * holds {@code count} native {@code struct iovec}s. Returns >= 0 or -errno.
     */
    public int registerBuffers(MemorySegment iovecs, int count) {
        checkThread();
        return ring.register(IORING_REGISTER_BUFFERS, iovecs, count);
    }

    /**
     * Creates this IoThread's pool of {@code count} buffers of {@code size} bytes and registers them with the
     * ring (once per IoThread: the ring holds one registered-buffer table). Loop thread only.
     */
    public BufferPool createBufferPool(int count, int size) {
        checkThread();
        if (bufferPool != null) {
            throw new IllegalStateException("IoThread " + name + " already has a buffer pool");
        }
        bufferPool = new BufferPool(arena, count, size, this);
        return bufferPool;
    }

    /** The buffer pool made by {@link #createBufferPool}, or null. Loop thread only. */
    public BufferPool bufferPool() {
        return bufferPool;
    }

    // ---- the same operations on raw addresses (slices of preallocated buffers without making segments)

    public long read(int fd, long addr, int len, long offset, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepRead(base, fd, addr, len, offset);
        return attach(base, cb, tag);
    }

    public long write(int fd, long addr, int len, long offset, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepWrite(base, fd, addr, len, offset);
        return attach(base, cb, tag);
    }

    /** Read into registered buffer {@code index}; [addr, addr+len) must lie inside it. */
    public long readFixed(int fd, long addr, int len, long offset, int index, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepReadFixed(base, fd, addr, len, offset, index);
        return attach(base, cb, tag);
    }

    public long writeFixed(int fd, long addr, int len, long offset, int index, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepWriteFixed(base, fd, addr, len, offset, index);
        return attach(base, cb, tag);
    }

    public long recv(int fd, long addr, int len, int msgFlags, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepRecv(base, fd, addr, len, msgFlags);
        return attach(base, cb, tag);
    }

    public long send(int fd, long addr, int len, int msgFlags, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepSend(base, fd, addr, len, msgFlags);
        return attach(base, cb, tag);
    }

    /** shutdown(2) through the ring (SHUT_RD/WR/RDWR). */
    public long shutdown(int fd, int how, Completion cb, long tag) {
        checkThread();
        long base = sqe();
        IoUringPrep.prepShutdown(base, fd, how);
        return attach(base, cb, tag);
    }

    // =====================================================================================================
    // shutdown

    /**
     * Stops the loop: new tasks are refused, queued tasks still run, every in-flight operation is cancelled
     * and its completion delivered, then the ring and its memory are freed. Waits for all that unless called
     * on the loop itself (then it returns and the loop stops after the current turn).
     */
    @Override
    public void close() {
        stopRequested = true;
        wakeup.forceSleeping();
        wake();
        if (!inThread()) {
            terminated.join();
        }
    }

    /** Completes when the loop has stopped and freed its ring. */
    public CompletableFuture<Void> terminated() {
        return terminated;
    }
}
