package io.isthmus.control.e2e;

import static io.isthmus.control.e2e.Qmp.args;
import static io.isthmus.control.e2e.Tools.nbdUri;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Done-when (issues 4 and 5): {@code block-export-del} in safe mode is refused with QEMU's text while a
 * client is connected; hard mode drops the client; BLOCK_EXPORT_DELETED arrives; then blockdev-del of the
 * node succeeds. Image locking interoperates with qemu-img and qemu-io in both directions.
 *
 * <p>Which qemu-img commands a writable export refuses: QSD's NBD export takes consistent-read and write
 * and shares everything but resize, so on a raw image {@code qemu-img info} is allowed (for QSD too).
 * Isthmus serves the bytes of a qcow2 file here: qemu-img's qcow2 driver unshares write on its file, so
 * {@code qemu-img info} is refused with {@code Failed to get shared "write" lock}, and a resize with
 * {@code Failed to get "resize" lock}, exactly as against QSD. The qcow2 file is preallocated, so that raw
 * writes at 1 MiB land in guest data, not in qcow2 metadata.
 */
@Timeout(60)
class ExportLifecycleTest {
    private static final String WRITE_SHARED = "Could not open '%s': Failed to get shared \"write\" lock\n"
            + "Is another process using the image [%s]?";

    @Test
    void deleteWithConnectedClientThenNodeAndLocks() throws Exception {
        Tools.require("qemu-io", "qemu-img");
        Path dir = Tools.tempDir();
        Daemon d = null;
        InteractiveQemuIo client = null;
        try {
            Path img = dir.resolve("disk.qcow2");
            Tools.run(30, "qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=full", img.toString(), "16M").ok();
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.isthmus(dir, List.of(
                    "--blockdev", "driver=file,node-name=f0,filename=" + img,
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=f0,name=disk,writable=on"), nbd);

            // locking, qemu-img against Isthmus
            Tools.Result info = Tools.run(30, "qemu-img", "info", img.toString());
            assertEquals(1, info.exit(), info.toString());
            assertEquals("qemu-img: " + String.format(WRITE_SHARED, img, img), info.err().trim());
            Tools.Result resize = Tools.run(30, "qemu-img", "resize", "-f", "raw", img.toString(), "32M");
            assertEquals(1, resize.exit(), resize.toString());
            assertEquals("qemu-img: Could not open '" + img + "': Failed to get \"resize\" lock\n"
                    + "Is another process using the image [" + img + "]?", resize.err().trim());

            client = new InteractiveQemuIo(List.of("-f", "raw"), nbdUri(nbd, "disk")).awaitOpen();
            assertTrue(client.command("write -P 0x5c 1M 64k", "bytes at offset").contains("wrote 65536/65536"));

            // safe: refused while the client is connected
            assertEquals("export 'e0' still in use", d.qmp.error("block-export-del", args("id", "e0")));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> exports = (List<Map<String, Object>>) d.qmp.ok("query-block-exports", null);
            assertEquals(List.of(Map.of("type", "nbd", "id", "e0", "node-name", "f0", "shutting-down", false)),
                    exports);
            assertTrue(client.command("read -P 0x5c 1M 64k", "bytes at offset").contains("read 65536/65536"),
                    "the client still works after the refused safe delete: " + client.output());

            // hard: the client is dropped, the export goes, the event follows
            d.qmp.ok("block-export-del", args("id", "e0", "mode", "hard"));
            assertNotNull(d.qmp.awaitEvent("BLOCK_EXPORT_DELETED", Map.of("id", "e0"), 10_000),
                    "no BLOCK_EXPORT_DELETED for e0");
            assertEquals(List.of(), d.qmp.ok("query-block-exports", null));
            String after = client.command("read 1M 4k", "failed");
            assertTrue(after.contains("read failed"), "the dropped client's read must fail: " + client.output());
            client.close();
            client = null;

            d.qmp.ok("blockdev-del", args("node-name", "f0"));
            // the lock is gone with the node
            Tools.run(30, "qemu-img", "info", img.toString()).ok();
            // and what the client wrote is in the file, at the raw offset
            QemuIoDataTest.assertNoFailure(Tools.qemuIo(List.of("-r", "-f", "raw"), img.toString(),
                    "read -P 0x5c 1M 64k").ok());

            // locking, a qemu-io holding the image (read-only qcow2: it unshares write) against Isthmus
            String isthmusText;
            try (InteractiveQemuIo holder = new InteractiveQemuIo(List.of("-r", "-f", "qcow2"), img.toString())
                    .awaitOpen()) {
                isthmusText = refusedWritableExport(d, img);
            }
            assertEquals("Failed to get \"write\" lock", isthmusText);
            // once the holder is gone, the same commands succeed
            d.qmp.ok("blockdev-add", args("driver", "file", "node-name", "f1", "filename", img.toString()));
            d.qmp.ok("block-export-add", args("type", "nbd", "id", "e1", "node-name", "f1", "writable", true));
            d.qmp.ok("block-export-del", args("id", "e1"));
            // an idle export is gone before the reply, as in QEMU: the event comes first
            assertTrue(d.qmp.sawEvent("BLOCK_EXPORT_DELETED", Map.of("id", "e1")),
                    "BLOCK_EXPORT_DELETED of an idle export must precede the reply to block-export-del");
            assertNotNull(d.qmp.awaitEvent("BLOCK_EXPORT_DELETED", Map.of("id", "e1"), 10_000));
            d.qmp.ok("blockdev-del", args("node-name", "f1"));

            if (Tools.onPath("qemu-storage-daemon")) {
                Daemon q = null;
                try (InteractiveQemuIo holder = new InteractiveQemuIo(List.of("-r", "-f", "qcow2"), img.toString())
                        .awaitOpen()) {
                    q = Daemon.start(Daemon.Kind.QSD, dir, List.of());
                    assertEquals(refusedWritableExport(q, img), isthmusText, "QSD refuses with another text");
                } finally {
                    if (q != null) {
                        q.close();
                    }
                }
            }
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

    /** blockdev-add then a writable export of a file another process holds: the export's error text. */
    private static String refusedWritableExport(Daemon d, Path img) throws Exception {
        d.qmp.ok("blockdev-add", args("driver", "file", "node-name", "held", "filename", img.toString()));
        if (d.kind == Daemon.Kind.QSD) {
            d.qmp.ok("nbd-server-start", args("addr", args("type", "unix", "data",
                    args("path", img.getParent().resolve("qsd-nbd.sock").toString()))));
        }
        String text = d.qmp.error("block-export-add", args("type", "nbd", "id", "held", "node-name", "held",
                "writable", true));
        d.qmp.ok("blockdev-del", args("node-name", "held"));
        return text;
    }
}
