package io.isthmus.engine.export.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The NBD server against real clients (nbdinfo, qemu-io, qemu-img, nbdcopy) over in-memory nodes. */
@Timeout(120)
class NbdRealClientsTest {
    @BeforeEach
    void gate() {
        assumeTrue(!"false".equals(System.getProperty("isthmus.it")), "integration tests disabled (isthmus.it=false)");
    }

    @Test
    void nbdinfoListsExportsWithFlagsAndContexts() throws Exception {
        assumeTrue(NbdHarness.have("nbdinfo"), "nbdinfo not installed");
        try (NbdHarness h = new NbdHarness("info")) {
            h.node("disk", 64 << 20).addBitmap("b0", true);
            h.node("ro", 1 << 20);
            h.start(100, 10);
            h.export("e1", "disk", true, new NbdExportOptions(null, "my disk",
                    List.of(new NbdExportOptions.BitmapRef(null, "b0")), true));
            h.export("e2", "ro", false, new NbdExportOptions("other", null, null, false));
            Object[] r = NbdHarness.run("nbdinfo", "--list", "--json", h.uri(""));
            String out = (String) r[1];
            assertEquals(0, r[0], out);
            assertTrue(out.contains("\"export-name\": \"disk\""), out);
            assertTrue(out.contains("\"description\": \"my disk\""), out);
            assertTrue(out.contains("\"qemu:dirty-bitmap:b0\""), out);
            assertTrue(out.contains("\"qemu:allocation-depth\""), out);
            assertTrue(out.contains("\"export-size\": 67108864"), out);
            assertTrue(out.contains("\"export-name\": \"other\""), out);
            assertTrue(out.contains("\"block_size_maximum\": 33554432"), out);
        }
    }

    @Test
    void qemuIoWriteReadVerifyAndImgCompare() throws Exception {
        assumeTrue(NbdHarness.have("qemu-io"), "qemu-io not installed");
        try (NbdHarness h = new NbdHarness("qio")) {
            h.node("disk", 64 << 20);
            h.start(100, 10);
            h.export("e1", "disk", true, new NbdExportOptions(null, null, null, false));
            String uri = h.uri("disk");
            Object[] w = NbdHarness.run("qemu-io", "-f", "raw", "-c", "write -P 0xab 0 1M", "-c",
                    "write -P 0xcd 4M 4k", "-c", "write -z 8M 64k", "-c", "write -P 0x11 33M 3M", uri);
            assertEquals(0, w[0], (String) w[1]);
            Object[] rd = NbdHarness.run("qemu-io", "-f", "raw", "-c", "read -P 0xab 0 1M", "-c",
                    "read -P 0xcd 4M 4k", "-c", "read -P 0 8M 64k", "-c", "read -P 0x11 33M 3M", "-c",
                    "read -P 0 60M 1M", uri);
            assertEquals(0, rd[0], (String) rd[1]);
            assertTrue(!((String) rd[1]).contains("Pattern verification failed"), (String) rd[1]);
        }
    }

    @Test
    void qemuImgMapOverBaseAllocationDirtyBitmapAndDepth() throws Exception {
        assumeTrue(NbdHarness.have("qemu-img"), "qemu-img not installed");
        try (NbdHarness h = new NbdHarness("map")) {
            var node = h.node("disk", 4 << 20);
            var bm = node.addBitmap("b0", false);
            h.start(100, 10);
            h.export("e1", "disk", true, new NbdExportOptions(null, null,
                    List.of(new NbdExportOptions.BitmapRef(null, "b0")), true));
            Object[] w = NbdHarness.run("qemu-io", "-f", "raw", "-c", "write -P 1 1M 128k", h.uri("disk"));
            assertEquals(0, w[0], (String) w[1]);
            bm.setDirty(2 << 20, 64 << 10);
            String base = "driver=nbd,export=disk,server.type=unix,server.path=" + h.socket;
            Object[] m = NbdHarness.run("qemu-img", "map", "--output=json", "--image-opts", base);
            String out = (String) m[1];
            assertEquals(0, m[0], out);
            assertTrue(out.contains("\"start\": 1048576, \"length\": 131072, \"depth\": 0, \"present\": true, \"zero\": false, \"data\": true"), out);
            assertTrue(out.contains("\"start\": 0, \"length\": 1048576, \"depth\": 0, \"present\": true, \"zero\": true, \"data\": false"), out);
            // the dirty bitmap: x-dirty-bitmap turns dirty into "not data" (iotest 223's reading)
            Object[] d = NbdHarness.run("qemu-img", "map", "--output=json", "--image-opts",
                    base + ",x-dirty-bitmap=qemu:dirty-bitmap:b0");
            String dout = (String) d[1];
            assertEquals(0, d[0], dout);
            assertTrue(dout.contains("\"start\": 2097152, \"length\": 65536, \"depth\": 0, \"present\": false, \"zero\": false, \"data\": false"), dout);
            assertTrue(dout.contains("\"start\": 0, \"length\": 2097152"), dout);
            // allocation depth: depth 1 (allocated) reads as "not data" too, unallocated as data
            Object[] a = NbdHarness.run("qemu-img", "map", "--output=json", "--image-opts",
                    base + ",x-dirty-bitmap=qemu:allocation-depth");
            String aout = (String) a[1];
            assertEquals(0, a[0], aout);
            assertTrue(aout.contains("\"start\": 1048576, \"length\": 131072, \"depth\": 0, \"present\": false, \"zero\": false, \"data\": false"), aout);
        }
    }

    @Test
    void nbdcopyBothWaysAndQemuImgCompare() throws Exception {
        assumeTrue(NbdHarness.have("nbdcopy") && NbdHarness.have("qemu-img"), "nbdcopy/qemu-img not installed");
        try (NbdHarness h = new NbdHarness("copy")) {
            h.node("disk", 16 << 20);
            h.start(100, 10);
            h.export("e1", "disk", true, new NbdExportOptions(null, null, null, false));
            java.nio.file.Path src = h.dir.resolve("src.img");
            java.nio.file.Path back = h.dir.resolve("back.img");
            byte[] img = new byte[16 << 20];
            new java.util.Random(3).nextBytes(java.util.Arrays.copyOfRange(img, 0, 0));
            java.util.Random r = new java.util.Random(3);
            for (int i = 0; i < img.length; i += 1 << 20) {
                if ((i >> 20) % 3 != 0) {
                    byte[] blk = new byte[1 << 20];
                    r.nextBytes(blk);
                    System.arraycopy(blk, 0, img, i, blk.length);
                }
            }
            java.nio.file.Files.write(src, img);
            Object[] up = NbdHarness.run("nbdcopy", src.toString(), h.uri("disk"));
            assertEquals(0, up[0], (String) up[1]);
            Object[] down = NbdHarness.run("nbdcopy", h.uri("disk"), back.toString());
            assertEquals(0, down[0], (String) down[1]);
            assertTrue(java.util.Arrays.equals(img, java.nio.file.Files.readAllBytes(back)), "round trip");
            Object[] cmp = NbdHarness.run("qemu-img", "compare", "-f", "raw", "-F", "raw", src.toString(),
                    h.uri("disk"));
            assertEquals(0, cmp[0], (String) cmp[1]);
        }
    }

    @Test
    void fioVerifiesWritesAndReads() throws Exception {
        assumeTrue(NbdHarness.have("fio"), "fio not installed");
        try (NbdHarness h = new NbdHarness("fio")) {
            h.node("disk", 32 << 20);
            h.start(100, 10);
            h.export("e1", "disk", true, new NbdExportOptions(null, null, null, false));
            Object[] f = NbdHarness.run("fio", "--name=v", "--ioengine=nbd", "--uri=" + h.uri("disk"),
                    "--rw=randwrite", "--bs=4k", "--bssplit=4k/50:64k/30:1m/20", "--iodepth=32", "--size=32m",
                    "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0");
            String out = (String) f[1];
            assertEquals(0, f[0], out);
            assertTrue(!out.contains("verify:") || !out.contains("bad"), out);
        }
    }

    @Test
    void nbdinfoMatchesQemuStorageDaemon() throws Exception {
        assumeTrue(NbdHarness.have("nbdinfo") && NbdHarness.have("qemu-storage-daemon"), "nbdinfo/QSD missing");
        try (NbdHarness h = new NbdHarness("cmp")) {
            h.node("disk", 64 << 20);
            h.node("ro", 1 << 20);
            h.start(100, 10);
            h.export("e1", "disk", true, new NbdExportOptions(null, "hello", null, true));
            h.export("e2", "ro", false, new NbdExportOptions("other", null, null, false));
            java.nio.file.Path qs = h.dir.resolve("qsd.sock");
            Process q = new ProcessBuilder("qemu-storage-daemon", "--blockdev",
                    "null-co,node-name=disk,size=67108864", "--blockdev", "null-co,node-name=ro,size=1048576",
                    "--nbd-server", "addr.type=unix,addr.path=" + qs, "--export",
                    "nbd,id=e1,node-name=disk,writable=on,allocation-depth=on,description=hello", "--export",
                    "nbd,id=e2,node-name=ro,name=other").redirectErrorStream(true).start();
            try {
                for (int i = 0; i < 200 && !java.nio.file.Files.exists(qs); i++) {
                    Thread.sleep(20);
                }
                String ours = (String) NbdHarness.run("nbdinfo", "--list", "--json", h.uri(""))[1];
                String theirs = (String) NbdHarness.run("nbdinfo", "--list", "--json",
                        "nbd+unix:///?socket=" + qs)[1];
                assertEquals(theirs.replace(qs.toString(), "SOCK"), ours.replace(h.socket.toString(), "SOCK"));
            } finally {
                q.destroyForcibly();
                q.waitFor();
            }
        }
    }
}
