package io.isthmus.engine.export.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.export.ExportArgs;
import io.isthmus.engine.export.ExportOptions;
import io.isthmus.engine.loop.IoThread;
import io.isthmus.engine.net.PlainTransport;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Clients entering transmission on their IoThreads while block-export-del (hard) runs on the control thread: each
 * one must be either refused or dropped by the shutdown, and the export must go exactly once. Connections are
 * started the way {@code NbdNegotiation} hands a socket over (on the export's IoThreads), over socketpairs, so
 * many admissions land inside the shutdown.
 */
@Timeout(300)
class NbdExportShutdownRaceTest {
    private static final int ROUNDS = 150;
    private static final int CLIENTS = 24;

    @Test
    void everyClientIsRefusedOrDroppedAndTheExportGoesOnce() throws Exception {
        try (NbdHarness h = new NbdHarness("race"); Arena arena = Arena.ofConfined()) {
            h.addIoThread("race-a");
            h.addIoThread("race-b");
            h.node("disk", 1 << 20);
            h.start(0, 10);
            MemorySegment sv = arena.allocate(ValueLayout.JAVA_INT, 2);
            MemorySegment one = arena.allocate(1);
            for (int round = 0; round < ROUNDS; round++) {
                String id = "e" + round;
                NbdExport exp = (NbdExport) h.manager.add(new ExportOptions("nbd", id, "disk", true, false,
                        List.of("race-a", "race-b"), true, false, false), ExportArgs.EMPTY);
                List<Integer> peers = new ArrayList<>();
                for (int i = 0; i < CLIENTS; i++) {
                    assertEquals(0, Posix.socketpair(SysSocket.AF_UNIX, SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC,
                            0, sv));
                    int served = sv.getAtIndex(ValueLayout.JAVA_INT, 0);
                    peers.add(sv.getAtIndex(ValueLayout.JAVA_INT, 1));
                    IoThread t = exp.nextIoThread();
                    NbdConnection c = new NbdConnection(h.server, exp, t, new PlainTransport(served), false, false,
                            new NbdMetaContexts(), null);
                    t.execute(c::start);
                    if (i == CLIENTS / 3) {
                        // some clients are in, more are being admitted on both IoThreads right now
                        h.manager.delete(id, true);
                    }
                }
                try {
                    h.manager.whenGone(id).get(10, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    fail("round " + round + ": the export lingers with " + exp.clientCount() + " client(s) and "
                            + exp.refcount() + " reference(s) after a hard delete");
                }
                assertEquals(id, h.deleted.poll(10, TimeUnit.SECONDS), "round " + round);
                for (int peer : peers) {
                    assertTrue(closedWithin(peer, one, 10_000), "round " + round
                            + ": a client admitted during the delete was neither refused nor dropped");
                    Posix.close(peer);
                }
            }
            Thread.sleep(100);
            assertTrue(h.deleted.isEmpty(), "BLOCK_EXPORT_DELETED more than once: " + h.deleted);
        }
    }

    /** Whether the server side of the socketpair closed (EOF seen) within the time limit. */
    private static boolean closedWithin(int fd, MemorySegment one, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline) {
            long r = Posix.recv(fd, one, 1, SysSocket.MSG_DONTWAIT);
            if (r == 0 || (r < 0 && r != -io.isthmus.bindings.Errno.EAGAIN)) {
                return true;
            }
            Thread.sleep(1);
        }
        return false;
    }
}
