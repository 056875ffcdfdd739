package io.isthmus.engine.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.SysEventfd;
import io.isthmus.bindings.Posix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class IoThreadTest {

    @Test
    void nopCompletesOnTheLoopWithItsTag() throws Exception {
        try (IoThread t = IoThread.start("test-nop")) {
            CompletableFuture<long[]> done = new CompletableFuture<>();
            t.execute(() -> t.nop((res, flags, tag) -> done.complete(new long[] {res, tag,
                    IoThread.current() == t ? 1 : 0}), 42));
            long[] r = done.get(5, TimeUnit.SECONDS);
            assertEquals(0, r[0]);
            assertEquals(42, r[1]);
            assertEquals(1, r[2], "completion must run on the IoThread");
        }
    }

    @Test
    void batchOfNopsAllComplete() throws Exception {
        try (IoThread t = IoThread.start("test-batch", 32)) {
            int n = 10_000; // more than the ring holds: submission must flush when the SQ is full
            CountDownLatch latch = new CountDownLatch(n);
            AtomicInteger bad = new AtomicInteger();
            Completion c = (res, flags, tag) -> {
                if (res != 0) {
                    bad.incrementAndGet();
                }
                latch.countDown();
            };
            t.execute(() -> {
                for (int i = 0; i < n; i++) {
                    t.nop(c, i);
                }
            });
            assertTrue(latch.await(10, TimeUnit.SECONDS));
            assertEquals(0, bad.get());
        }
    }

    @Test
    void readAndWriteAFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("data");
        Files.write(f, "hello, io_uring".getBytes());
        int fd = Posix.open(f.toString(), Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        assertTrue(fd >= 0);
        try (IoThread t = IoThread.start("test-rw"); Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(5);
            CompletableFuture<Integer> read = new CompletableFuture<>();
            t.execute(() -> t.read(fd, buf, 7, (res, fl, tag) -> read.complete(res), 0));
            assertEquals(5, read.get(5, TimeUnit.SECONDS));
            assertEquals("io_ur", new String(buf.toArray(ValueLayout.JAVA_BYTE)));

            buf.copyFrom(MemorySegment.ofArray("HELLO".getBytes()));
            CompletableFuture<Integer> written = new CompletableFuture<>();
            t.execute(() -> t.write(fd, buf, 0, (res, fl, tag) ->
                    t.fsync(fd, true, (r2, f2, t2) -> written.complete(res < 0 ? res : r2), 0), 0));
            assertEquals(0, written.get(5, TimeUnit.SECONDS));
            assertEquals("HELLO, io_uring", Files.readString(f));

            CompletableFuture<Integer> bad = new CompletableFuture<>();
            t.execute(() -> t.read(-1, buf, 0, (res, fl, tag) -> bad.complete(res), 0));
            assertEquals(-Errno.EBADF, bad.get(5, TimeUnit.SECONDS));
        } finally {
            Posix.close(fd);
        }
    }

    @Test
    void timeoutExpiresAndCancelDeliversCanceled() throws Exception {
        try (IoThread t = IoThread.start("test-timeout")) {
            CompletableFuture<Integer> expired = new CompletableFuture<>();
            t.execute(() -> t.timeout(1_000_000, (res, fl, tag) -> expired.complete(res), 0));
            assertEquals(-62 /* ETIME */, expired.get(5, TimeUnit.SECONDS));

            CompletableFuture<Integer> cancelled = new CompletableFuture<>();
            t.execute(() -> {
                long id = t.timeout(60_000_000_000L, (res, fl, tag) -> cancelled.complete(res), 0);
                t.cancel(id);
            });
            assertEquals(-Errno.ECANCELED, cancelled.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void tasksFromManyThreadsAllRunOnce() throws Exception {
        try (IoThread t = IoThread.start("test-tasks")) {
            int threads = 4, per = 20_000;
            AtomicInteger ran = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(threads * per);
            Thread[] ps = new Thread[threads];
            for (int i = 0; i < threads; i++) {
                ps[i] = new Thread(() -> {
                    for (int j = 0; j < per; j++) {
                        t.execute(() -> {
                            ran.incrementAndGet();
                            done.countDown();
                        });
                        if (j % 1000 == 0) {
                            Thread.yield(); // let the loop fall asleep now and then: exercises the doorbell
                        }
                    }
                });
                ps[i].start();
            }
            for (Thread p : ps) {
                p.join();
            }
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertEquals(threads * per, ran.get());
        }
    }

    @Test
    void closeDrainsPendingOperationsAndRejectsNewTasks() throws Exception {
        IoThread t = IoThread.start("test-close");
        int[] pipe = new int[2];
        int efd = Posix.eventfd(0, SysEventfd.EFD_CLOEXEC); // a read on it never completes by itself
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(8);
            CompletableFuture<Integer> pending = new CompletableFuture<>();
            CompletableFuture<Void> submitted = new CompletableFuture<>();
            t.execute(() -> {
                t.read(efd, buf, 0, (res, fl, tag) -> pending.complete(res), 0);
                submitted.complete(null);
            });
            submitted.get(5, TimeUnit.SECONDS);
            t.close();
            assertEquals(-Errno.ECANCELED, pending.getNow(null), "close() returns after the completion");
            assertTrue(t.terminated().isDone());
            assertThrows(RejectedExecutionException.class, () -> t.execute(() -> { }));
        } finally {
            Posix.close(efd);
        }
    }

    @Test
    void registeredBufferPoolServesFixedReadsAndWrites(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("fixed");
        Files.write(f, new byte[8192]);
        int fd = Posix.open(f.toString(), Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        try (IoThread t = IoThread.start("test-pool")) {
            CompletableFuture<int[]> done = new CompletableFuture<>();
            t.execute(() -> {
                BufferPool pool = t.createBufferPool(4, 4096);
                int a = pool.acquire(), b = pool.acquire();
                pool.segment(a).fill((byte) 0x5a);
                t.writeFixed(fd, pool.address(a), 4096, 4096, a, (res, fl, tag) -> {
                    t.readFixed(fd, pool.address(b) + 100, 200, 4000, b, (r2, f2, t2) -> {
                        int first = pool.segment(b).get(ValueLayout.JAVA_BYTE, 100);
                        int last = pool.segment(b).get(ValueLayout.JAVA_BYTE, 299);
                        pool.release(a);
                        pool.release(b);
                        done.complete(new int[] {res, r2, first, last, pool.available(), pool.registered() ? 1 : 0});
                    }, 0);
                }, 0);
            });
            int[] r = done.get(5, TimeUnit.SECONDS);
            assertEquals(4096, r[0]);
            assertEquals(200, r[1]);
            assertEquals(0, r[2], "bytes 4000..4095 were zero");
            assertEquals(0x5a, r[3], "bytes 4096.. were written through the fixed buffer");
            assertEquals(4, r[4]);
            assertEquals(1, r[5], "registration works as root or within RLIMIT_MEMLOCK");
            assertThrows(IllegalStateException.class, () -> {
                try {
                    t.submit(() -> t.createBufferPool(1, 4096)).get(5, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause();
                }
            });
        } finally {
            Posix.close(fd);
        }
    }

    @Test
    void ioFromAnotherThreadIsRefusedAndCurrentIsNullOutside() throws Exception {
        try (IoThread t = IoThread.start("test-owner")) {
            assertEquals(null, IoThread.current());
            assertTrue(!t.inThread());
            assertThrows(IllegalStateException.class, () -> t.nop((r, f, g) -> { }, 0));
            assertEquals(t, t.submit(IoThread::current).get(5, TimeUnit.SECONDS));
            assertEquals(true, t.submit(t::inThread).get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void everyAcceptedTaskRunsEvenWhenCloseRacesWithPosters() throws Exception {
        for (int round = 0; round < 20; round++) {
            IoThread t = IoThread.start("test-race-" + round);
            AtomicInteger accepted = new AtomicInteger(), ran = new AtomicInteger();
            Thread[] ps = new Thread[2];
            CountDownLatch go = new CountDownLatch(1);
            for (int i = 0; i < ps.length; i++) {
                ps[i] = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    while (true) {
                        try {
                            t.execute(ran::incrementAndGet);
                            accepted.incrementAndGet();
                        } catch (RejectedExecutionException e) {
                            return;
                        }
                    }
                });
                ps[i].start();
            }
            go.countDown();
            Thread.sleep(2);
            t.close();
            for (Thread p : ps) {
                p.join(5000);
            }
            assertEquals(accepted.get(), ran.get(), "round " + round + ": an accepted task was dropped");
        }
    }

    @Test
    void callbacksThatOverfillBothQueuesStillSeeEveryCompletionExactlyOnce() throws Exception {
        // 8 SQ entries, 1024 CQ entries: each of 8 completions submits 400 NOPs from its callback, so a callback
        // fills the SQ (sqe() enters the kernel in the middle of a reaping pass) and the CQ overflows (the
        // kernel's backlog; the head is published per pass, not per entry); every tag must arrive once
        try (IoThread t = IoThread.start("test-fanout", 8)) {
            int roots = 8, fanout = 400, total = roots + roots * fanout;
            int[] seen = new int[total];
            CompletableFuture<Integer> done = new CompletableFuture<>();
            int[] count = {0};
            Completion leaf = (res, flags, tag) -> {
                seen[(int) tag]++;
                if (res != 0 || ++count[0] == total) {
                    done.complete(res != 0 ? res : t.inFlight());
                }
            };
            Completion root = (res, flags, tag) -> {
                seen[(int) tag]++;
                count[0]++;
                for (int j = 0; j < fanout; j++) {
                    t.nop(leaf, roots + tag * fanout + j);
                }
                assertTrue(t.inFlight() >= fanout);
            };
            t.execute(() -> {
                for (int i = 0; i < roots; i++) {
                    t.nop(root, i);
                }
            });
            assertEquals(0, done.get(10, TimeUnit.SECONDS), "no failure, and nothing in flight at the end");
            for (int i = 0; i < total; i++) {
                assertEquals(1, seen[i], "tag " + i);
            }
            // a pending operation counts as in flight; the loop's own doorbell read does not
            CompletableFuture<Integer> pending = new CompletableFuture<>();
            long[] id = new long[1];
            assertEquals(1, t.submit(() -> {
                id[0] = t.timeout(60_000_000_000L, (res, fl, tag) -> pending.complete(t.inFlight()), 0);
                return t.inFlight();
            }).get(5, TimeUnit.SECONDS));
            t.execute(() -> t.cancel(id[0]));
            assertEquals(0, pending.get(5, TimeUnit.SECONDS));
        }
    }
}
