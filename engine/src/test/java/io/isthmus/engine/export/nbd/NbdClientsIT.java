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
class NbdClientsIT {
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
}
