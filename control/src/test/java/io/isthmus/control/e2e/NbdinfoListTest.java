package io.isthmus.control.e2e;

import static io.isthmus.control.e2e.Qmp.args;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Done-when (issue 5): {@code nbdinfo --list --json} reports the same exports, flags, sizes and meta
 * contexts for Isthmus and qemu-storage-daemon started with the same command line and QMP commands (a
 * file node, a read-only export from the command line, a writable one with a description, a bitmap and
 * allocation-depth from QMP). Only the socket directory differs and is normalised.
 */
@Timeout(60)
class NbdinfoListTest {
    private static JsonNode list(Daemon.Kind kind) throws Exception {
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            Path img = Tools.sparseFile(dir, "disk.img", 16 << 20);
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.start(kind, dir, List.of(
                    "--blockdev", "driver=file,node-name=f0,filename=" + img,
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e1,node-name=f0,name=ro"), nbd);
            d.qmp.ok("block-dirty-bitmap-add", args("node", "f0", "name", "bm0"));
            d.qmp.ok("block-export-add", args("type", "nbd", "id", "e0", "node-name", "f0", "name", "disk",
                    "description", "the disk", "writable", true, "bitmaps", List.of("bm0"),
                    "allocation-depth", true));
            String out = Tools.run(30, "nbdinfo", "--list", "--json", "nbd+unix://?socket=" + nbd).ok().out();
            return Qmp.JSON.readTree(out.replace(dir.toString(), "DIR"));
        } finally {
            if (d != null) {
                d.close();
            }
            Tools.deleteTree(dir);
        }
    }

    @Test
    void sameListAsQemuStorageDaemon() throws Exception {
        Tools.require("nbdinfo");
        JsonNode isthmus = list(Daemon.Kind.ISTHMUS);
        JsonNode exports = isthmus.get("exports");
        assertEquals(2, exports.size(), isthmus.toPrettyString());
        JsonNode ro = exports.get(0);
        JsonNode rw = exports.get(1);
        assertEquals("ro", ro.get("export-name").asText());
        assertEquals(true, ro.get("is_read_only").asBoolean());
        assertEquals("[\"base:allocation\"]", ro.get("contexts").toString());
        assertEquals("disk", rw.get("export-name").asText());
        assertEquals("the disk", rw.get("description").asText());
        assertEquals(false, rw.get("is_read_only").asBoolean());
        assertEquals("[\"base:allocation\",\"qemu:allocation-depth\",\"qemu:dirty-bitmap:bm0\"]",
                rw.get("contexts").toString());
        assertEquals(16 << 20, rw.get("export-size").asLong());
        assertEquals("nbd+unix:///disk?socket=DIR/nbd.sock", rw.get("uri").asText());
        if (Tools.onPath("qemu-storage-daemon")) {
            JsonNode qsd = list(Daemon.Kind.QSD);
            assertEquals(qsd.toPrettyString(), isthmus.toPrettyString(), "nbdinfo --list --json differs from QSD");
        }
    }
}
