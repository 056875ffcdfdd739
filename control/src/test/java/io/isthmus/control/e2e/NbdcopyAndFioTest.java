package io.isthmus.control.e2e;

import static io.isthmus.control.e2e.Tools.nbdUri;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Done-when (issue 5): nbdcopy both ways through Isthmus's NBD export of a file node, compared byte for
 * byte; fio's nbd engine with crc32c verification on a file node.
 */
class NbdcopyAndFioTest {
    private static final int SIZE = 16 << 20;

    @Test
    @Timeout(60)
    void nbdcopyIntoAndOutOfTheExport() throws Exception {
        Tools.require("nbdcopy");
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            // a source with data, zero runs and holes
            Path src = Tools.sparseFile(dir, "src.img", SIZE);
            Random rnd = new Random(20251125L);
            try (RandomAccessFile raf = new RandomAccessFile(src.toFile(), "rw")) {
                for (long off = 0; off < SIZE; off += 1 << 20) {
                    if ((off >> 20) % 3 == 1) {
                        continue; // leave a hole
                    }
                    byte[] b = new byte[(off >> 20) % 3 == 2 ? 12345 : 1 << 20];
                    rnd.nextBytes(b);
                    raf.seek(off + ((off >> 20) % 3 == 2 ? 4097 : 0));
                    raf.write(b);
                }
            }
            Path img = Tools.sparseFile(dir, "disk.img", SIZE);
            try (RandomAccessFile raf = new RandomAccessFile(img.toFile(), "rw")) {
                byte[] junk = new byte[1 << 20];
                java.util.Arrays.fill(junk, (byte) 0xee);
                raf.seek(1 << 20); // where the source has a hole: nbdcopy must zero it
                raf.write(junk);
            }
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.isthmus(dir, List.of(
                    "--blockdev", "driver=file,node-name=f0,filename=" + img + ",discard=unmap",
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=f0,name=disk,writable=on"), nbd);
            String uri = nbdUri(nbd, "disk");

            Tools.run(60, "nbdcopy", src.toString(), uri).ok();
            Path out = dir.resolve("out.img");
            Tools.run(60, "nbdcopy", uri, out.toString()).ok();
            assertEquals(-1, Files.mismatch(src, out), "nbdcopy out of the export differs from what went in");
            assertEquals(-1, Files.mismatch(src, img), "the image file differs from what nbdcopy wrote");
            // and with several connections and requests in flight, out again
            Path out2 = dir.resolve("out2.img");
            Tools.run(60, "nbdcopy", "--connections=4", "--requests=32", "--request-size=65536", uri,
                    out2.toString()).ok();
            assertEquals(-1, Files.mismatch(src, out2), "nbdcopy --connections=4 out of the export differs");
        } finally {
            if (d != null) {
                d.close();
            }
            Tools.deleteTree(dir);
        }
    }

    @Test
    @Timeout(60)
    void fioNbdEngineWithCrc32cVerification() throws Exception {
        Tools.requireFioNbdEngine();
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            Path img = Tools.sparseFile(dir, "disk.img", 8 << 20);
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.isthmus(dir, List.of(
                    "--blockdev", "driver=file,node-name=f0,filename=" + img,
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=f0,name=disk,writable=on"), nbd);
            Tools.Result r = Tools.run(60, "fio", "--name=verify", "--ioengine=nbd", "--uri=" + nbdUri(nbd, "disk"),
                    "--rw=randwrite", "--bs=4k", "--size=8M", "--iodepth=16", "--verify=crc32c",
                    "--verify_fatal=1", "--do_verify=1", "--output-format=json").ok();
            String preface = r.out().substring(0, Math.max(0, r.out().indexOf('{')));
            assertTrue(!preface.contains("verify"), "fio said: " + preface);
            var job = Qmp.JSON.readTree(r.out().substring(preface.length())).get("jobs").get(0);
            assertEquals(0, job.get("error").asInt(), r.out());
            assertEquals(8L << 20, job.get("write").get("io_bytes").asLong(), "bytes written");
            assertEquals(8L << 20, job.get("read").get("io_bytes").asLong(), "bytes read back for verification");
            assertTrue(!r.err().contains("verify"), r.err());
        } finally {
            if (d != null) {
                d.close();
            }
            Tools.deleteTree(dir);
        }
    }
}
