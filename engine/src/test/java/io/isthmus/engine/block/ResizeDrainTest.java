package io.isthmus.engine.block;

import static io.isthmus.engine.block.BlockRequest.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.EngineException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** block_resize drains the node first, and is refused while an export's permissions forbid resizing. */
@Timeout(30)
class ResizeDrainTest {
    private static final long MIB = 1 << 20;
    private final BlockGraph g = new BlockGraph();
    private final BlockTestSupport t = new BlockTestSupport();

    @AfterEach
    void tearDown() {
        t.close();
        g.closeAll();
    }

    private CompletableFuture<Integer> submit(BlockNode n, BlockRequest r) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        r.callback = (q, res) -> f.complete(res);
        t.io.execute(() -> n.submit(r));
        return f;
    }

    @Test
    void resizeWaitsForRequestsInFlightAndHoldsNewOnesUntilDone() throws Exception {
        GateNode n = new GateNode("gate", MIB);
        n.holding = true;
        BlockRequest held = new BlockRequest(t.arena, 1).rw(READ, 0, t.buffer(512, 0), 0);
        CompletableFuture<Integer> first = submit(n, held);
        n.firstHeld.get(5, TimeUnit.SECONDS);
        assertEquals(1, n.inFlight());

        CompletableFuture<Void> resize = CompletableFuture.runAsync(() -> g.resize(n, 2 * MIB));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!n.isQuiesced() && !resize.isDone() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertTrue(n.isQuiesced(), "resize opened a drained section (and did not finish with a request in flight)");
        assertFalse(resize.isDone(), "resize waits for the request in flight");

        // arrives during the drain, beyond the old end: waits, then runs against the new size
        BlockRequest late = new BlockRequest(t.arena, 1).rw(READ, MIB + 4096, t.buffer(512, 0), 0);
        CompletableFuture<Integer> second = submit(n, late);
        t.io.submit(() -> 0).get(5, TimeUnit.SECONDS); // the submission task has run: the request is parked
        assertFalse(second.isDone(), "a request arriving during the drain is held");

        t.io.execute(n::releaseAll);
        assertEquals(0, first.get(5, TimeUnit.SECONDS));
        resize.get(5, TimeUnit.SECONDS);
        assertEquals(0, n.inFlightAtTruncate, "nothing in flight when the size changed");
        assertEquals(2 * MIB, n.length());
        assertEquals(0, second.get(5, TimeUnit.SECONDS), "the held request ran after the resize");
        assertFalse(n.isQuiesced());
        n.drain().get(5, TimeUnit.SECONDS); // the count drops just after the callback returns
        assertEquals(0, n.inFlight());
        assertTrue(n.parents().isEmpty(), "the resize user is gone");
    }

    @Test
    void resizeIsRefusedWithQsdsTextWhileAnExportUnsharesResize() throws Exception {
        GateNode n = new GateNode("n", MIB);
        // as QEMU's NBD export attaches (read-only and writable alike): shares everything but RESIZE
        for (int perm : new int[] {BlockPerm.CONSISTENT_READ, BlockPerm.CONSISTENT_READ | BlockPerm.WRITE}) {
            BlockUser export = n.attach("an unnamed block device", perm, BlockPerm.ALL & ~BlockPerm.RESIZE);
            EngineException e = assertThrows(EngineException.class, () -> g.resize(n, 2 * MIB));
            // the text qemu-storage-daemon 7.2 answers block_resize with on a node exported over NBD
            assertEquals("Permission conflict on node 'n': permissions 'resize' are both required by an unnamed block"
                    + " device (uses node 'n' as 'root' child) and unshared by an unnamed block device (uses node 'n'"
                    + " as 'root' child).", e.getMessage());
            assertEquals(MIB, n.length());
            assertFalse(n.isQuiesced(), "refused before draining");
            export.detach();
        }
        g.resize(n, 2 * MIB);
        assertEquals(2 * MIB, n.length());
    }
}
