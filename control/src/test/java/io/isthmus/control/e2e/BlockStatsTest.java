package io.isthmus.control.e2e;

import static io.isthmus.control.e2e.Tools.nbdUri;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * query-blockstats side by side with QSD after the same client I/O (qemu-io over NBD through a throttle filter
 * over raw over file, plus a file node used by nothing): the same list, members and numbers — per node
 * wr_highest_offset and the file driver's discard counters; an empty list without query-nodes.
 */
@Timeout(120)
class BlockStatsTest {
    @Test
    void sameAsQsdAfterTheSameIo() throws Exception {
        Tools.require("qemu-io");
        Object isthmus = scenario(Daemon.Kind.ISTHMUS);
        if (Tools.onPath("qemu-storage-daemon")) {
            assertEquals(scenario(Daemon.Kind.QSD), isthmus);
        }
    }

    private static Object scenario(Daemon.Kind kind) throws Exception {
        Path dir = Tools.tempDir();
        Path nbd = dir.resolve("nbd.sock");
        Path img = Tools.sparseFile(dir, "disk.raw", 4 << 20);
        Path other = Tools.sparseFile(dir, "other.raw", 1 << 20);
        try (Daemon d = Daemon.start(kind, dir, List.of(
                "--object", "throttle-group,id=tg",
                "--blockdev", "file,node-name=f0,filename=" + img + ",discard=unmap",
                "--blockdev", "raw,node-name=r0,file=f0,discard=unmap",
                "--blockdev", "throttle,node-name=t0,throttle-group=tg,file=r0,discard=unmap",
                "--blockdev", "file,node-name=f1,filename=" + other,
                "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                "--export", "type=nbd,id=e0,node-name=t0,name=disk,writable=on"), nbd)) {
            Tools.Result r = Tools.qemuIo(List.of("-f", "raw"), nbdUri(nbd, "disk"),
                    "write 0 64k", "write 1M 4k", "discard 0 64k", "write -z 2M 64k", "read 0 8k", "flush");
            r.ok();
            assertEquals(List.of(), d.qmp.ok("query-blockstats", Map.of()));
            @SuppressWarnings("unchecked")
            List<Object> nodes = (List<Object>) d.qmp.ok("query-blockstats", Map.of("query-nodes", true));
            System.out.println("BlockStatsTest " + kind + ": " + nodes);
            return nodes;
        } finally {
            Tools.deleteTree(dir);
        }
    }
}
