package io.isthmus.engine.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.block.throttle.ThrottleConfig;
import io.isthmus.engine.block.throttle.ThrottleGroup;
import io.isthmus.engine.loop.IoThread;
import java.lang.foreign.Arena;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Two throttle nodes of one group on two IoThreads: every request completes once, on its own IoThread, and the
 * group's rate holds for both together; a limit raised while requests wait releases them at once.
 */
class ThrottleNodeTest {
    @Test
    void oneGroupTwoIoThreads() throws Exception {
        ThrottleConfig c = new ThrottleConfig();
        c.setAvg(ThrottleConfig.OPS_TOTAL, 200);
        ThrottleGroup g = new ThrottleGroup("tg", c);
        BlockGraph graph = new BlockGraph();
        BlockNode[] nodes = new BlockNode[2];
        for (int i = 0; i < 2; i++) {
            graph.add(BlockOptions.of("null-co", "n" + i));
            BlockOptions t = BlockOptions.of("throttle", "t" + i);
            t.fileRef = "n" + i;
            t.throttleGroup = "tg";
            t.throttleGroupResolved = g;
            nodes[i] = graph.add(t);
        }
        assertEquals(2, g.memberCount());
        IoThread[] threads = {IoThread.start("thr-a"), IoThread.start("thr-b")};
        int perNode = 100;
        CountDownLatch done = new CountDownLatch(2 * perNode);
        AtomicInteger wrongThread = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        long start = System.nanoTime();
        try (Arena arena = Arena.ofShared()) {
            java.lang.foreign.MemorySegment buf = arena.allocate(4096);
            for (int i = 0; i < 2; i++) {
                IoThread io = threads[i];
                BlockNode n = nodes[i];
                threads[i].execute(() -> {
                    for (int k = 0; k < perNode; k++) {
                        BlockRequest r = new BlockRequest(arena, 1);
                        r.rw(BlockRequest.READ, 0, buf, 0);
                        r.callback = (req, res) -> {
                            if (IoThread.current() != io) {
                                wrongThread.incrementAndGet();
                            }
                            if (res != 0) {
                                failed.incrementAndGet();
                            }
                            done.countDown();
                        };
                        n.submit(r);
                    }
                });
            }
            // 200 requests at 200/s (20 go at once): about 0.9 s; then raise the limit for the rest
            assertTrue(!done.await(400, TimeUnit.MILLISECONDS), "not throttled");
            ThrottleConfig fast = new ThrottleConfig();
            fast.setAvg(ThrottleConfig.OPS_TOTAL, 1_000_000);
            g.configure(fast);
            assertTrue(done.await(2, TimeUnit.SECONDS), "requests still waiting: " + done.getCount());
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < 900, "the raised limit did not release the queued requests: " + ms + " ms");
            assertEquals(0, wrongThread.get());
            assertEquals(0, failed.get());
        } finally {
            for (IoThread t : threads) {
                t.close();
            }
        }
        graph.delete("t0");
        graph.delete("t1");
        assertEquals(0, g.memberCount());
    }
}
