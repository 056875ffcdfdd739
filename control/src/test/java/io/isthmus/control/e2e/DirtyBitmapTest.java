package io.isthmus.control.e2e;

import static io.isthmus.control.e2e.Qmp.args;
import static io.isthmus.control.e2e.Tools.nbdUri;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Done-when (issue 5): qemu-img map over NBD with {@code x-dirty-bitmap=qemu:dirty-bitmap:NAME} shows
 * exactly the ranges written through the export as dirty, and {@code qemu:allocation-depth} is served; the
 * same scenario runs against qemu-storage-daemon and both answer the same.
 *
 * <p>How qemu-img shows a meta context through x-dirty-bitmap: a set bit 0 of the context (dirty, or an
 * allocation depth of 1) is read as NBD_STATE_HOLE, so those extents appear with {@code "data": false}.
 */
@Timeout(60)
class DirtyBitmapTest {
    /** What each map query answered. */
    record Maps(List<String> dirty, List<String> disabled, List<String> depth, String depthInfo) {
    }

    private static Maps scenario(Daemon.Kind kind) throws Exception {
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            Path img = Tools.sparseFile(dir, "disk.img", 16 << 20);
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.start(kind, dir, List.of(
                    "--blockdev", "driver=file,node-name=f0,filename=" + img,
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd), nbd);
            d.qmp.ok("block-dirty-bitmap-add", args("node", "f0", "name", "bm0"));
            d.qmp.ok("block-dirty-bitmap-add", args("node", "f0", "name", "off", "disabled", true));
            d.qmp.ok("block-export-add", args("type", "nbd", "id", "e0", "node-name", "f0", "name", "disk",
                    "writable", true, "bitmaps", List.of("bm0", Map.of("node", "f0", "name", "off")),
                    "allocation-depth", true));
            String uri = nbdUri(nbd, "disk");
            // 4 KiB at 1 MiB, 100 KiB at 5 MiB (crosses two 64 KiB granules), a zero-write at 9 MiB; the
            // discard is ignored by a node with discard=ignore and so marks nothing (as in QEMU)
            Tools.qemuIo(uri, "write -P 1 1M 4k", "write -P 2 5M 100k", "write -z 9M 64k", "discard 12M 64k").ok();

            Maps m = new Maps(map(nbd, "qemu:dirty-bitmap:bm0"), map(nbd, "qemu:dirty-bitmap:off"),
                    map(nbd, "qemu:allocation-depth"),
                    Tools.run(30, "nbdinfo", "--map=qemu:allocation-depth", uri).ok().out().trim());
            return m;
        } finally {
            if (d != null) {
                d.close();
            }
            Tools.deleteTree(dir);
        }
    }

    private static List<String> map(Path nbd, String context) throws Exception {
        return MapJson.extents(Tools.run(30, "qemu-img", "map", "--output=json", "--image-opts",
                "driver=nbd,export=disk,server.type=unix,server.path=" + nbd + ",x-dirty-bitmap=" + context)
                .ok().out());
    }

    @Test
    void dirtyBitmapAndAllocationDepthOverNbd() throws Exception {
        Tools.require("qemu-io", "qemu-img", "nbdinfo");
        Maps isthmus = scenario(Daemon.Kind.ISTHMUS);
        // "unset" = data false, zero false: dirty
        assertEquals(List.of("0+1048576:data", "1048576+65536:unset", "1114112+4128768:data",
                "5242880+131072:unset", "5373952+4063232:data", "9437184+65536:unset", "9502720+7274496:data"),
                isthmus.dirty(), "dirty ranges of bm0");
        assertEquals(List.of("0+16777216:data"), isthmus.disabled(), "a disabled bitmap stays clean");
        // a file node (a protocol node) is allocated everywhere at depth 1
        assertEquals(List.of("0+16777216:unset"), isthmus.depth(), "allocation depth");
        assertEquals("0 16777216 1 local", isthmus.depthInfo().replaceAll("\\s+", " "),
                "nbdinfo --map=qemu:allocation-depth");
        if (Tools.onPath("qemu-storage-daemon")) {
            assertEquals(scenario(Daemon.Kind.QSD), isthmus, "qemu-storage-daemon answers differently");
        }
    }
}
