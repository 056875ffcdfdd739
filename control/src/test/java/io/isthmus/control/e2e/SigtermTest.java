package io.isthmus.control.e2e;

import static io.isthmus.control.e2e.Tools.nbdUri;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Done-when: on SIGTERM the daemon exits 0, announces BLOCK_EXPORT_DELETED for every export on the monitor
 * before the monitor closes, and leaves the image consistent (what clients wrote is there, and the image
 * locks are released: qemu-io opens it writable without -U).
 */
@Timeout(60)
class SigtermTest {
    @Test
    void sigtermDeletesExportsAndExitsZero() throws Exception {
        Tools.require("qemu-io", "qemu-img");
        // idle exports go in the order they were made (as in QSD); with a client connected to e0, e0 goes
        // once its client is dropped, which races with e1 (QSD usually announces e1 first, Isthmus either)
        List<String> idle = scenario(Daemon.Kind.ISTHMUS, false);
        assertEquals(List.of("e0", "e1"), idle, "BLOCK_EXPORT_DELETED events, in order");
        scenario(Daemon.Kind.ISTHMUS, true);
        if (Tools.onPath("qemu-storage-daemon")) {
            // QSD's own order is not fixed: on a loaded machine its exit path has announced e1 before e0 (seen
            // four times in a row while other builds ran). Its usual order must be Isthmus's: one of three runs.
            List<List<String>> seen = new java.util.ArrayList<>();
            for (int run = 0; run < 3 && !seen.contains(idle); run++) {
                seen.add(scenario(Daemon.Kind.QSD, false));
            }
            assertTrue(seen.contains(idle), "QSD announces idle exports in another order: " + seen);
        }
    }

    /** Runs the scenario on one daemon; returns the ids of the BLOCK_EXPORT_DELETED events in order. */
    private static List<String> scenario(Daemon.Kind kind, boolean connectedClient) throws Exception {
        Path dir = Tools.tempDir();
        Daemon d = null;
        InteractiveQemuIo client = null;
        try {
            Path img = Tools.sparseFile(dir, "disk.img", 16 << 20);
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.start(kind, dir, List.of(
                    "--blockdev", "driver=file,node-name=f0,filename=" + img,
                    "--blockdev", "driver=null-co,node-name=n0",
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=f0,name=disk,writable=on",
                    "--export", "type=nbd,id=e1,node-name=n0"), nbd);
            Tools.qemuIo(nbdUri(nbd, "disk"), "write -P 0x6b 0 1M", "write -z 2M 1M").ok();
            // a client still connected (after a write-back cached write) when the signal comes
            if (connectedClient) {
                client = new InteractiveQemuIo(List.of("-f", "raw", "-t", "writeback"), nbdUri(nbd, "disk"))
                        .awaitOpen();
                client.command("write -P 0x6c 4M 1M", "bytes at offset");
            } else {
                Tools.qemuIo(nbdUri(nbd, "disk"), "write -P 0x6c 4M 1M").ok();
            }

            d.process.destroy(); // SIGTERM
            assertTrue(d.process.waitFor(20, TimeUnit.SECONDS), "daemon still running 20 s after SIGTERM");
            assertEquals(0, d.process.exitValue(), kind + " exit status after SIGTERM; stderr: " + d.stderr());

            List<Map<String, Object>> tail = d.qmp.readToEnd(5_000);
            List<String> deleted = new ArrayList<>();
            List<Object> other = new ArrayList<>();
            for (Map<String, Object> m : tail) {
                if ("BLOCK_EXPORT_DELETED".equals(m.get("event"))) {
                    deleted.add((String) ((Map<?, ?>) m.get("data")).get("id"));
                } else {
                    other.add(m);
                }
            }
            assertEquals(Set.of("e0", "e1"), new TreeSet<>(deleted),
                    kind + ": BLOCK_EXPORT_DELETED before the monitor closed; also: " + other);
            assertTrue(d.qmp.atEof(), "the monitor connection must close");

            if (client != null) {
                client.close();
                client = null;
            }
            // consistent: the data is there and the locks are gone (opened writable, without -U)
            QemuIoDataTest.assertNoFailure(Tools.qemuIo(img.toString(), "read -P 0x6b 0 1M", "read -P 0 2M 1M",
                    "read -P 0x6c 4M 1M", "write -P 0x01 8M 4k").ok());
            return deleted;
        } finally {
            if (client != null) {
                client.close();
            }
            if (d != null) {
                d.close();
            }
            Tools.deleteTree(dir);
        }
    }
}
