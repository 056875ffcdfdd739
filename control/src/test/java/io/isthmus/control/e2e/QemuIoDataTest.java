package io.isthmus.control.e2e;

import static io.isthmus.control.e2e.Tools.nbdUri;
import static io.isthmus.control.e2e.Tools.qemuIo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Done-when (issues 4 and 5): data written with qemu-io through Isthmus's NBD export of a {@code file}
 * node on a sparse image is byte-identical (qemu-img compare) to a reference image built by qemu-io
 * directly on a file, including discards and write-zeroes, and holes stay holes: qemu-img map over NBD, on
 * the image and on the reference agree. A {@code raw} window (offset/size) over the same file and a
 * {@code null-co} node are served too.
 */
@Timeout(60)
class QemuIoDataTest {
    private static final long SIZE = 64L << 20;
    private static final long WINDOW_OFFSET = 32L << 20;

    /** The same write, discard and zero-write sequence, run through NBD and directly on the reference. */
    private static final String[] SEQUENCE = {
        "write -P 0xa5 0 4M",
        "write -P 0x5a 6M 1M",
        "write -P 0x33 9437696 5000",
        "discard 1M 2M",
        "write -z 3M 512k",
        "write -z -u 6M 512k",
        "write -P 0x77 20M 64k",
        "discard 20M 64k",
        "write -P 0x11 24M 1M",
        "write -z -u 24M 1M",
    };

    /** What must read back after the sequence. */
    private static final String[] VERIFY = {
        "read -P 0xa5 0 1M",
        "read -P 0 1M 2M",
        "read -P 0 3M 512k",
        "read -P 0xa5 3670016 512k",
        "read -P 0 4M 2M",
        "read -P 0 6M 512k",
        "read -P 0x5a 6815744 512k",
        "read -P 0x33 9437696 5000",
        "read -P 0 20M 64k",
        "read -P 0 24M 1M",
    };

    @Test
    void writeReadVerifyCompareAndMap() throws Exception {
        Tools.require("qemu-io", "qemu-img");
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            Path img = Tools.sparseFile(dir, "disk.img", SIZE);
            Path ref = Tools.sparseFile(dir, "ref.img", SIZE);
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.isthmus(dir, List.of(
                    "--blockdev", "driver=file,node-name=f0,filename=" + img + ",discard=unmap",
                    "--blockdev", "driver=raw,node-name=win,file=f0,offset=" + WINDOW_OFFSET + ",size=" + (8L << 20),
                    "--blockdev", "driver=null-co,node-name=nul,size=" + (16L << 20) + ",read-zeroes=on",
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=f0,name=disk,writable=on",
                    "--export", "type=nbd,id=e1,node-name=win,name=window,writable=on",
                    "--export", "type=nbd,id=e2,node-name=nul,name=null"), nbd);
            String disk = nbdUri(nbd, "disk");

            qemuIo(disk, SEQUENCE).ok();
            List<String> direct = new ArrayList<>(List.of("qemu-io", "-f", "raw", "-d", "unmap"));
            for (String c : SEQUENCE) {
                direct.add("-c");
                direct.add(c);
            }
            direct.add(ref.toString());
            Tools.run(60, direct).ok();
            assertNoFailure(qemuIo(disk, VERIFY).ok());

            // the raw window: writes land at offset 32M in the file; the reference gets them directly
            qemuIo(nbdUri(nbd, "window"), "write -P 0xc3 0 64k", "write -P 0x3c 8128k 64k",
                    "read -P 0xc3 0 64k", "read -P 0x3c 8128k 64k").ok();
            qemuIo(ref.toString(), "write -P 0xc3 32M 64k", "write -P 0x3c 40896k 64k").ok();
            assertNoFailure(qemuIo(disk, "read -P 0xc3 32M 64k", "read -P 0x3c 40896k 64k",
                    "read -P 0 32832k 8064k").ok());

            // null-co: reads as zeroes, with its size
            assertNoFailure(qemuIo(List.of("-r", "-f", "raw"), nbdUri(nbd, "null"), "read -P 0 0 16M").ok());
            Tools.Result len = Tools.run(30, "qemu-img", "info", "--output=json", nbdUri(nbd, "null")).ok();
            assertEquals(16L << 20, Qmp.JSON.readTree(len.out()).get("virtual-size").asLong(), len.out());

            // byte for byte: the served image (read on the file while Isthmus holds it: -U) and the reference
            Tools.run(30, "qemu-img", "compare", "-U", "-f", "raw", "-F", "raw", img.toString(), ref.toString()).ok();
            // and through NBD against the reference
            Tools.run(30, "qemu-img", "compare", "-U", "-F", "raw", disk, ref.toString()).ok();

            // holes stay holes: the map over NBD, of the image file, and of the reference agree
            String overNbd = Tools.run(30, "qemu-img", "map", "--output=json", disk).ok().out();
            String onFile = Tools.run(30, "qemu-img", "map", "-U", "--output=json", "-f", "raw", img.toString())
                    .ok().out();
            String onRef = Tools.run(30, "qemu-img", "map", "--output=json", "-f", "raw", ref.toString()).ok().out();
            assertEquals(MapJson.extents(onFile), MapJson.extents(overNbd), "map over NBD vs on the image file");
            assertEquals(MapJson.extents(onRef), MapJson.extents(onFile), "map of the image vs the reference");
            // and the holes are really there (not everything allocated)
            assertEquals(List.of("0+1048576:data", "1048576+2621440:zero", "3670016+524288:data", "4194304+2621440:zero"),
                    MapJson.extents(overNbd).subList(0, 4), overNbd);
        } finally {
            if (d != null) {
                d.close();
            }
            Tools.deleteTree(dir);
        }
    }

    /** qemu-io exits 0 even when a pattern check fails; it says so on stdout. */
    static void assertNoFailure(Tools.Result r) {
        if (r.out().contains("Pattern verification failed") || r.out().contains("failed:")
                || r.err().contains("failed")) {
            throw new AssertionError("qemu-io reported a failure: " + r);
        }
    }
}
