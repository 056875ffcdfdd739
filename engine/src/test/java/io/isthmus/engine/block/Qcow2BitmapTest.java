package io.isthmus.engine.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.EngineException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Persistent dirty bitmaps in qcow2 against QEMU: bitmaps made and dirtied by qemu-img/qemu-io are loaded with the
 * same bits; bitmaps made and dirtied here are listed by qemu-img info, pass qemu-img check, and read back the same
 * through qemu-storage-daemon's NBD export ({@code nbdinfo --map=qemu:dirty-bitmap:NAME}); in_use handling.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Qcow2BitmapTest extends Qcow2TestBase {
    private static final long MIB = 1 << 20;
    @Override
    protected String[] peers() {
        return new String[] {"qemu-img", "qemu-io"};
    }

    private void write(BlockNode n, long off, int len) throws Exception {
        assertEquals(0, t.write(n, off, t.buffer(len, 0x11), 0));
    }

    /** Dirty extents as [start, end) pairs, merged. */
    private static List<long[]> extents(DirtyBitmap b) {
        List<long[]> l = new ArrayList<>();
        long pos = 0;
        while (true) {
            long d = b.nextDirty(pos, b.length());
            if (d < 0) {
                return l;
            }
            long c = b.nextClean(d, b.length());
            long e = c < 0 ? b.length() : c;
            l.add(new long[] {d, e});
            pos = e;
        }
    }

    /** The granule-aligned extents that writes [off, off+len) make dirty, for an image of {@code size}. */
    private static List<long[]> expected(long gran, long size, long[]... writes) {
        TreeSet<Long> g = new TreeSet<>();
        for (long[] w : writes) {
            for (long x = w[0] / gran; x <= (w[0] + w[1] - 1) / gran; x++) {
                g.add(x);
            }
        }
        List<long[]> l = new ArrayList<>();
        for (long x : g) {
            long s = x * gran;
            long e = Math.min(size, s + gran);
            if (!l.isEmpty() && l.get(l.size() - 1)[1] == s) {
                l.get(l.size() - 1)[1] = e;
            } else {
                l.add(new long[] {s, e});
            }
        }
        return l;
    }

    private static String str(List<long[]> l) {
        StringBuilder sb = new StringBuilder();
        for (long[] e : l) {
            sb.append('[').append(e[0]).append(',').append(e[1]).append(')');
        }
        return sb.toString();
    }

    /** qemu-img info's bitmaps: "name granularity flags" lines, in directory order. */
    private List<String> storedBitmaps(Path img) throws Exception {
        String out = run("qemu-img", "info", "-U", "--output=json", img.toString());
        List<String> l = new ArrayList<>();
        int i = out.indexOf("\"bitmaps\"");
        if (i < 0) {
            return l;
        }
        String s = out.substring(i, out.indexOf(']', out.indexOf("}", i) - 1) + 1);
        Matcher m = Pattern.compile("\\{\\s*\"flags\":\\s*\\[([^\\]]*)\\],\\s*\"name\":\\s*\"([^\"]*)\",\\s*"
                + "\"granularity\":\\s*(\\d+)\\s*}").matcher(out.substring(i));
        while (m.find()) {
            String flags = m.group(1).replaceAll("[\\s\"]", "");
            l.add(m.group(2) + " " + m.group(3) + " " + flags);
        }
        assertFalse(l.isEmpty(), s);
        return l;
    }

    @Test
    void loadsBitmapsMadeByQemu() throws Exception {
        Path img = dir.resolve("a.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "64M");
        run("qemu-img", "bitmap", "--add", "--granularity", "65536", img.toString(), "b64k");
        run("qemu-img", "bitmap", "--add", "--granularity", "512", img.toString(), "b512");
        run("qemu-img", "bitmap", "--add", "--granularity", "65536", "--disable", img.toString(), "off");
        run("qemu-io", "-c", "write 0 64k", "-c", "write 1000k 5k", "-c", "write 40M 3M", "-c",
                "write 67043328 1024", img.toString());
        long[][] writes = {{0, 65536}, {1000 * 1024, 5 * 1024}, {40 * MIB, 3 * MIB}, {67043328, 1024}};

        // read-only: bitmaps are read-only, the image is not touched
        BlockNode n = open(img, "ro", true);
        DirtyBitmap b = n.findBitmap("b64k");
        assertNotNull(b);
        assertTrue(b.isPersistent() && b.isReadOnly() && b.isEnabled() && !b.isInconsistent());
        assertEquals(str(expected(65536, 64 * MIB, writes)), str(extents(b)));
        assertEquals(str(expected(512, 64 * MIB, writes)), str(extents(n.findBitmap("b512"))));
        DirtyBitmap off = n.findBitmap("off");
        assertFalse(off.isEnabled());
        assertEquals(0, off.count(), "disabled when the writes came");
        EngineException e = assertThrows(EngineException.class, () -> graph.clearBitmap("ro", "b64k"));
        assertEquals("Bitmap 'b64k' is readonly and cannot be modified", e.getMessage());
        graph.delete("ro");
        assertEquals(List.of("b64k 65536 auto", "b512 512 auto", "off 65536 "), storedBitmaps(img));

        // read-write: marked in use while open, stored with the new writes at close
        n = open(img, "rw", false);
        assertEquals(List.of("b64k 65536 in-use,auto", "b512 512 in-use,auto", "off 65536 in-use"),
                storedBitmaps(img));
        write(n, 8 * MIB, 4096);
        write(n, 63 * MIB, 2 * 65536);
        graph.delete("rw");
        assertEquals(List.of("b64k 65536 auto", "b512 512 auto", "off 65536 "), storedBitmaps(img));
        checkClean(img);
        long[][] all = {{0, 65536}, {1000 * 1024, 5 * 1024}, {40 * MIB, 3 * MIB}, {67043328, 1024},
                {8 * MIB, 4096}, {63 * MIB, 2 * 65536}};
        n = open(img, "again", true);
        assertEquals(str(expected(65536, 64 * MIB, all)), str(extents(n.findBitmap("b64k"))));
        assertEquals(str(expected(512, 64 * MIB, all)), str(extents(n.findBitmap("b512"))));
        assertEquals(0, n.findBitmap("off").count());
        graph.delete("again");

        // qemu-io after us: QEMU loads what we stored and keeps recording into it
        run("qemu-io", "-c", "write 20M 64k", img.toString());
        checkClean(img);
        n = open(img, "last", true);
        long[][] more = java.util.Arrays.copyOf(all, all.length + 1);
        more[all.length] = new long[] {20 * MIB, 65536};
        assertEquals(str(expected(512, 64 * MIB, more)), str(extents(n.findBitmap("b512"))));
    }

    @Test
    void bitmapsMadeHereAreQemus() throws Exception {
        Path img = dir.resolve("b.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", img.toString(), "32M");
        BlockNode n = open(img, "q", false);
        assertEquals(4096, n.defaultBitmapGranularity());
        DirtyBitmap p = graph.addBitmap(n, "p", null, true, false);
        DirtyBitmap fine = graph.addBitmap(n, "fine", 512L, true, false);
        graph.addBitmap(n, "gone", 65536L, true, false);
        DirtyBitmap off = graph.addBitmap(n, "off", 65536L, true, true);
        DirtyBitmap temp = graph.addBitmap(n, "temp", 65536L, false, false);
        EngineException e = assertThrows(EngineException.class, () -> graph.addBitmap(n, "x".repeat(1024), null,
                true, false));
        assertEquals("Can't make bitmap '" + "x".repeat(1024) + "' persistent in 'q': Name length exceeds maximum "
                + "(1023 characters)", e.getMessage());
        // a whole 4 KiB bitmap cluster of 512-byte granules (16 MiB) all dirty: stored as an all-ones table entry
        write(n, 0, (int) (16 * MIB));
        write(n, 20 * MIB + 100, 70000);
        write(n, 32 * MIB - 512, 512);
        graph.removeBitmap("q", "gone");
        List<long[]> pExt = extents(p);
        List<long[]> fineExt = extents(fine);
        assertEquals(0, off.count());
        assertTrue(temp.count() > 0);
        graph.delete("q");
        // QEMU's order: newest first, as it walks the node's bitmaps
        assertEquals(List.of("off 65536 ", "fine 512 auto", "p 4096 auto"), storedBitmaps(img));
        checkClean(img);

        // QEMU's NBD export of the bitmaps shows the same dirty extents
        if (Files.isExecutable(Path.of("/usr/bin/nbdinfo"))) {
            assertEquals(str(pExt), str(qsdDirtyExtents(img, "p")));
            assertEquals(str(fineExt), str(qsdDirtyExtents(img, "fine")));
            checkClean(img);
        }

        // round trip: back here, the same bits; removing a stored bitmap takes it off the image at once
        BlockNode m = open(img, "q2", false);
        assertEquals(str(pExt), str(extents(m.findBitmap("p"))));
        assertEquals(str(fineExt), str(extents(m.findBitmap("fine"))));
        assertNull(m.findBitmap("gone"));
        assertNull(m.findBitmap("temp"));
        e = assertThrows(EngineException.class, () -> graph.addBitmap(m, "p", null, true, false));
        assertEquals("Bitmap already exists: p", e.getMessage());
        graph.removeBitmap("q2", "fine");
        assertEquals(List.of("off 65536 in-use", "p 4096 in-use,auto"), storedBitmaps(img));
        graph.removeBitmap("q2", "p");
        graph.removeBitmap("q2", "off");
        assertEquals(List.of(), storedBitmapsOrEmpty(img));
        graph.delete("q2");
        checkClean(img);
    }

    private List<String> storedBitmapsOrEmpty(Path img) throws Exception {
        String out = run("qemu-img", "info", "-U", "--output=json", img.toString());
        return out.contains("\"bitmaps\"") ? storedBitmaps(img) : List.of();
    }

    /** Dirty extents of bitmap {@code name} as qemu-storage-daemon exports them over NBD. */
    private List<long[]> qsdDirtyExtents(Path img, String name) throws Exception {
        Path sock = dir.resolve("nbd.sock");
        Process qsd = Peers.startQsd(dir, "--blockdev", "qcow2,node-name=q,read-only=on,file.driver=file,file.filename=" + img,
                "--nbd-server", "addr.type=unix,addr.path=" + sock,
                "--export", "nbd,id=e,node-name=q,name=e,bitmaps.0=" + name);
        try {
            String out = run("nbdinfo", "--map=qemu:dirty-bitmap:" + name, "--json", "nbd+unix:///e?socket=" + sock);
            List<long[]> l = new ArrayList<>();
            Matcher m = Pattern.compile("\"offset\":\\s*(\\d+),\\s*\"length\":\\s*(\\d+),\\s*\"type\":\\s*(\\d+)")
                    .matcher(out);
            while (m.find()) {
                if (Long.parseLong(m.group(3)) != 0) {
                    long s = Long.parseLong(m.group(1));
                    long e = s + Long.parseLong(m.group(2));
                    if (!l.isEmpty() && l.get(l.size() - 1)[1] == s) {
                        l.get(l.size() - 1)[1] = e;
                    } else {
                        l.add(new long[] {s, e});
                    }
                }
            }
            return l;
        } finally {
            Peers.stop(qsd);
        }
    }

    @Test
    void aCrashLeavesBitmapsInconsistent() throws Exception {
        Path img = dir.resolve("c.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "16M");
        run("qemu-img", "bitmap", "--add", img.toString(), "b");
        run("qemu-io", "-c", "write 0 64k", img.toString());
        BlockNode n = open(img, "live", false);
        write(n, 4 * MIB, 512);
        // what a crash leaves: the image as it is while open (the bitmap marked in use, nothing stored yet)
        Path crashed = dir.resolve("crashed.qcow2");
        Files.copy(img, crashed, StandardCopyOption.REPLACE_EXISTING);
        graph.delete("live");

        BlockNode c = open(crashed, "c", false);
        DirtyBitmap b = c.findBitmap("b");
        assertTrue(b.isInconsistent() && b.isPersistent());
        assertFalse(b.isEnabled());
        assertEquals(0, b.count());
        EngineException e = assertThrows(EngineException.class, () -> graph.clearBitmap("c", "b"));
        assertEquals("Bitmap 'b' is inconsistent and cannot be used", e.getMessage());
        e = assertThrows(EngineException.class, () -> graph.enableBitmap("c", "b", true));
        assertEquals("Bitmap 'b' is inconsistent and cannot be used", e.getMessage());
        e = assertThrows(EngineException.class, () -> graph.resize(c, 32 * MIB));
        assertEquals("Bitmap 'b' is inconsistent and cannot be used", e.getMessage());
        write(c, 0, 512);
        graph.delete("c");
        assertEquals(List.of("b 65536 in-use,auto"), storedBitmaps(crashed), "stays inconsistent");
        Peers.Result chk = Peers.run("qemu-img", "check", crashed.toString());
        assertFalse(chk.out().contains("ERROR"), chk.out());

        // removing it is the way out, as in QEMU
        BlockNode c2 = open(crashed, "c2", false);
        graph.removeBitmap("c2", "b");
        graph.delete("c2");
        assertEquals(List.of(), storedBitmapsOrEmpty(crashed));

        // the cleanly closed original is consistent, resizable, and keeps its size after a resize
        BlockNode r = open(img, "r", false);
        graph.resize(r, 32 * MIB);
        write(r, 30 * MIB, 512);
        graph.delete("r");
        checkClean(img);
        r = open(img, "r2", true);
        assertEquals(str(expected(65536, 32 * MIB, new long[] {0, 65536}, new long[] {4 * MIB, 512},
                new long[] {30 * MIB, 512})), str(extents(r.findBitmap("b"))));
    }

    @Test
    void v2AndRawRefusePersistentBitmaps() throws Exception {
        Path img = dir.resolve("v2.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=0.10", img.toString(), "1M");
        BlockNode n = open(img, "v2", false);
        EngineException e = assertThrows(EngineException.class, () -> graph.addBitmap(n, "x", null, true, false));
        assertEquals("Can't make bitmap 'x' persistent in 'v2': Cannot store dirty bitmaps in qcow2 v2 files",
                e.getMessage());
        assertFalse(n.canStorePersistentBitmaps());
    }
}
