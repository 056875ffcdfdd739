package io.isthmus.engine.block;

import static io.isthmus.engine.block.BlockRequest.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.bindings.Errno;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Requests submitted through a BlockUser: writethrough (FUA on every write) and the user's permissions. */
@Timeout(30)
class BlockUserTest {
    private final BlockTestSupport t = new BlockTestSupport();
    private final GateNode n = new GateNode("n", 1 << 20);

    @AfterEach
    void tearDown() {
        t.close();
    }

    private int run(BlockUser u, BlockRequest r) throws Exception {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        r.callback = (q, res) -> f.complete(res);
        t.io.execute(() -> u.submit(r));
        return f.get(10, TimeUnit.SECONDS);
    }

    private List<Integer> seen() {
        synchronized (n.writeFlags) {
            List<Integer> l = List.copyOf(n.writeFlags);
            n.writeFlags.clear();
            return l;
        }
    }

    @Test
    void writethroughUserFlushesEveryWriteAndHandsBackTheCallersFlags() throws Exception {
        BlockUser u = n.attach("an unnamed block device", BlockPerm.CONSISTENT_READ | BlockPerm.WRITE,
                BlockPerm.ALL & ~BlockPerm.RESIZE, true);
        assertTrue(u.isWritethrough());
        BlockRequest r = t.req;
        assertEquals(0, run(u, r.rw(WRITE, 0, t.buffer(4096, 1), 0)));
        assertEquals(0, r.flags, "the caller's flags come back unchanged");
        assertEquals(0, run(u, r.noData(WRITE_ZEROES, 8192, 4096, NO_FALLBACK)));
        assertEquals(NO_FALLBACK, r.flags);
        assertEquals(0, run(u, r.rw(WRITE, 0, t.buffer(4096, 1), FUA)));
        assertEquals(FUA, r.flags, "a caller's own FUA stays");
        assertEquals(List.of(FUA, FUA | NO_FALLBACK, FUA), seen(), "every write reached the node with FUA");
        assertEquals(0, run(u, r.rw(READ, 0, t.buffer(512, 0), 0)));
        assertEquals(0, run(u, r.noData(DISCARD, 0, 4096, 0)));

        u.setWritethrough(false);
        assertEquals(0, run(u, r.rw(WRITE, 0, t.buffer(4096, 1), 0)));
        assertEquals(List.of(0), seen(), "write-back: no FUA added");

        // the node's own submit is unchanged: no user, no writethrough
        u.setWritethrough(true);
        assertEquals(0, t.write(n, 0, t.buffer(4096, 1), 0));
        assertEquals(List.of(0), seen());
        n.drain().get(5, TimeUnit.SECONDS); // the count drops just after the callback returns
        assertEquals(0, n.inFlight());
    }

    @Test
    void userWithoutWritePermissionAndDetachedUserAreRefused() throws Exception {
        BlockUser ro = n.attach("an unnamed block device", BlockPerm.CONSISTENT_READ, BlockPerm.ALL, true);
        assertEquals(-Errno.EPERM, run(ro, t.req.rw(WRITE, 0, t.buffer(512, 1), 0)));
        assertEquals(-Errno.EPERM, run(ro, t.req.noData(WRITE_ZEROES, 0, 512, 0)));
        assertEquals(-Errno.EPERM, run(ro, t.req.noData(DISCARD, 0, 512, 0)));
        assertEquals(0, run(ro, t.req.rw(READ, 0, t.buffer(512, 1), 0)));
        assertEquals(List.of(), seen());
        ro.detach();
        assertEquals(-Errno.EIO, run(ro, t.req.rw(READ, 0, t.buffer(512, 1), 0)));
    }
}
