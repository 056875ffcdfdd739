package io.isthmus.engine.block;

import static io.isthmus.engine.block.BlockRequest.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.bindings.Errno;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The request path on null and raw nodes: bounds, read-only, bitmaps, block status, in-flight and drain. */
@Timeout(30)
class RequestPathTest {
    private final BlockGraph g = new BlockGraph();
    private final BlockTestSupport t = new BlockTestSupport();

    @AfterEach
    void tearDown() {
        t.close();
        g.closeAll();
    }

    private BlockNode nul(String name, String driver, Long size, Boolean readZeroes) {
        BlockOptions o = BlockOptions.of(driver, name);
        o.size = size;
        o.readZeroes = readZeroes;
        return g.add(o);
    }

    @Test
    void boundsAreCheckedWithQemusErrno() throws Exception {
        BlockNode n = nul("n", "null-co", 1L << 20, null);
        MemorySegment buf = t.buffer(4096, 1);
        assertEquals(0, t.read(n, (1 << 20) - 4096, buf));
        assertEquals(-Errno.EIO, t.read(n, (1 << 20) - 4095, buf));
        assertEquals((1 << 20) - 4095, t.req.offset, "the request is handed back as submitted");
        assertEquals(-Errno.EIO, t.read(n, -1, buf));
        assertEquals(-Errno.EIO, t.op(n, WRITE_ZEROES, 1 << 20, 1, 0));
        assertEquals(0, t.op(n, WRITE_ZEROES, 1 << 20, 0, 0));
        assertEquals(-Errno.EIO, t.op(n, DISCARD, 0, (1 << 20) + 1, 0));
        assertEquals(-Errno.EINVAL, t.op(n, 42, 0, 0, 0));
        assertEquals(0, t.op(n, FLUSH, 0, 0, 0));
        n.drain().get(5, TimeUnit.SECONDS);
        assertEquals(0, n.inFlight());
    }

    @Test
    void readOnlyNodesRefuseWrites() throws Exception {
        BlockOptions o = BlockOptions.of("null-co", "ro");
        o.readOnly = true;
        BlockNode n = g.add(o);
        assertEquals(-Errno.EPERM, t.write(n, 0, t.buffer(512, 0), 0));
        assertEquals(-Errno.EPERM, t.op(n, WRITE_ZEROES, 0, 512, 0));
        assertEquals(0, t.read(n, 0, t.buffer(512, 0)));
    }

    @Test
    void nullReadsLeaveOrZeroTheBufferAndReportStatusAsQemu72() throws Exception {
        BlockNode plain = nul("p", "null-co", null, null);
        BlockNode zeroes = nul("z", "null-aio", null, true);
        MemorySegment buf = t.buffer(4096, 7);
        assertEquals(0, t.read(plain, 0, buf));
        assertEquals(7, buf.get(ValueLayout.JAVA_BYTE, 100));
        assertEquals(0, t.read(zeroes, 0, buf));
        assertEquals(0, buf.get(ValueLayout.JAVA_BYTE, 100));
        assertArrayEquals(new long[] {1 << 20, 0, 0}, t.status(plain, 0, 1 << 20));
        assertArrayEquals(new long[] {1 << 20, STATUS_ZERO | STATUS_ALLOCATED, 1}, t.status(zeroes, 0, 1 << 20));
        assertArrayEquals(new long[] {100, STATUS_ZERO | STATUS_ALLOCATED, 1},
                t.status(zeroes, (1L << 30) - 100, 1 << 20), "clamped to the end");
        assertArrayEquals(new long[] {0, 0, 0}, t.status(zeroes, 1L << 30, 512));
    }

    @Test
    void latencyDelaysCompletion() throws Exception {
        BlockOptions o = BlockOptions.of("null-co", "slow");
        o.latencyNs = 20_000_000L;
        BlockNode n = g.add(o);
        long t0 = System.nanoTime();
        assertEquals(0, t.read(n, 0, t.buffer(512, 0)));
        assertTrue(System.nanoTime() - t0 >= 20_000_000L);
    }

    @Test
    void writesZeroWritesAndDiscardsMarkEnabledBitmaps() throws Exception {
        BlockOptions o = BlockOptions.of("null-co", "n");
        o.discard = "unmap";
        BlockNode n = g.add(o);
        DirtyBitmap on = g.addBitmap(n, "on", null, false, false);
        DirtyBitmap off = g.addBitmap(n, "off", null, false, true);
        assertEquals(0, t.write(n, 70_000, t.buffer(10, 1), 0));
        assertEquals(0, t.op(n, WRITE_ZEROES, 10 << 20, 1, 0));
        assertEquals(0, t.op(n, DISCARD, 20 << 20, 65536 * 2, 0));
        assertEquals(0, t.read(n, 30 << 20, t.buffer(512, 0)));
        assertTrue(on.isDirty(65536));
        assertTrue(on.isDirty(10 << 20));
        assertTrue(on.isDirty((20 << 20) + 65536));
        assertFalse(on.isDirty(30 << 20), "reads do not dirty");
        assertEquals(4 * 65536, on.count());
        assertEquals(0, off.count());
    }

    @Test
    void discardIsDroppedWithDiscardIgnore() throws Exception {
        BlockNode n = nul("n", "null-co", null, null);
        DirtyBitmap b = g.addBitmap(n, "b", null, false, false);
        assertEquals(0, t.op(n, DISCARD, 0, 65536, 0));
        assertEquals(0, b.count(), "QEMU drops discards on discard=ignore before they are tracked");
    }

    @Test
    void detectZeroesTurnsZeroWritesIntoWriteZeroes() throws Exception {
        BlockOptions o = BlockOptions.of("null-co", "n");
        o.detectZeroes = BlockOptions.DetectZeroes.ON;
        BlockNode n = g.add(o);
        assertEquals(0, t.write(n, 0, t.buffer(4096, 0), FUA));
        assertEquals(WRITE, t.req.op, "the caller's request is restored");
        assertEquals(FUA, t.req.flags);
    }

    @Test
    void rawForwardsWithTheOffsetAndRestoresTheRequest() throws Exception {
        BlockOptions r = BlockOptions.of("raw", "r");
        BlockOptions f = BlockOptions.of("null-co", null);
        f.size = 1L << 20;
        f.readZeroes = true;
        r.fileInline = f;
        r.offset = 4096L;
        r.size = 8192L;
        BlockNode raw = g.add(r);
        assertEquals(8192, raw.length());
        assertArrayEquals(new long[] {8192, STATUS_ZERO | STATUS_ALLOCATED, 1}, t.status(raw, 0, 1 << 20));
        assertEquals(0, t.read(raw, 4096, t.buffer(4096, 3)));
        assertEquals(4096, t.req.offset);
        assertEquals(-Errno.EIO, t.read(raw, 8192, t.buffer(512, 3)), "bounded by the window");
        DirtyBitmap rb = g.addBitmap(raw, "rb", 512L, false, false);
        DirtyBitmap fb = g.addBitmap(raw.children().get(0).child(), "fb", 512L, false, false);
        assertEquals(0, t.write(raw, 512, t.buffer(512, 1), 0));
        assertTrue(rb.isDirty(512));
        assertTrue(fb.isDirty(4096 + 512), "the child sees the shifted offset");
        assertFalse(fb.isDirty(512));
    }

    @Test
    void drainWaitsForInFlightRequests() throws Exception {
        BlockOptions o = BlockOptions.of("null-aio", "n");
        o.latencyNs = 50_000_000L;
        BlockNode n = g.add(o);
        CompletableFuture<Integer> done = new CompletableFuture<>();
        t.req.rw(READ, 0, t.buffer(512, 0), 0);
        t.req.callback = (r, res) -> done.complete(res);
        CompletableFuture<Void> submitted = new CompletableFuture<>();
        t.io.execute(() -> {
            n.submit(t.req);
            submitted.complete(null);
        });
        submitted.get(5, TimeUnit.SECONDS);
        assertEquals(1, n.inFlight());
        CompletableFuture<Void> drained = n.drain();
        drained.get(5, TimeUnit.SECONDS);
        assertTrue(done.isDone());
        assertEquals(0, n.inFlight());
        assertTrue(n.drain().isDone());
    }
}
