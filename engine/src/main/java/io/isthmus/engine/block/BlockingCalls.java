package io.isthmus.engine.block;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Posix;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The block layer's few blocking system calls that io_uring cannot carry (BLKDISCARD and BLKZEROOUT on block
 * devices), run on a small pool of worker threads as QEMU runs them on its thread pool. The result comes back to the
 * submitting IoThread as an ordinary {@link Completion} with its tag, so a driver handles it like a ring completion.
 *
 * <p>Thread use: {@link #ioctlRange} is called on an IoThread; the call runs on a worker (daemon platform threads,
 * at most {@link #MAX_WORKERS}, retired after 30 s idle); the completion runs on the IoThread. Memory: the
 * {@code uint64_t range[2]} argument lives in a confined arena of the worker for the duration of the call. Return
 * convention: {@code >= 0} or {@code -errno}, EINTR retried. Allocates per call (a task and a small arena): this is
 * the discard/zero-out path of host devices, not the read/write path.
 */
final class BlockingCalls {
    static final int MAX_WORKERS = 4;

    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final ThreadPoolExecutor POOL = new ThreadPoolExecutor(MAX_WORKERS, MAX_WORKERS, 30,
            TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "isthmus-block-worker-" + THREADS.incrementAndGet());
                t.setDaemon(true);
                return t;
            });

    static {
        POOL.allowCoreThreadTimeOut(true);
    }

    private BlockingCalls() {}

    /** ioctl(fd, request, uint64_t[2]{offset, length}) on a worker; the result goes to {@code cb} on this IoThread. */
    static void ioctlRange(int fd, long request, long offset, long length, Completion cb, long tag) {
        IoThread io = IoThread.current();
        try {
            POOL.execute(() -> {
                int res;
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment range = a.allocate(16, 8);
                    range.set(ValueLayout.JAVA_LONG, 0, offset);
                    range.set(ValueLayout.JAVA_LONG, 8, length);
                    do {
                        res = Posix.ioctl(fd, request, range);
                    } while (res == -Errno.EINTR);
                } catch (Throwable t) {
                    res = -Errno.EIO;
                }
                int r = res;
                try {
                    io.execute(() -> cb.complete(r, 0, tag));
                } catch (RejectedExecutionException e) {
                    // the IoThread is shutting down: its in-flight requests are abandoned with it
                }
            });
        } catch (RejectedExecutionException e) {
            cb.complete(-Errno.EIO, 0, tag);
        }
    }
}
