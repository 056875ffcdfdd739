package io.isthmus.engine.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.EngineException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The qcow2 driver against images made by qemu-img: random reads, writes, write-zeroes and discards checked against
 * an in-memory model of the disk, then the image checked by {@code qemu-img check} (no errors, no leaks) and its
 * contents by {@code qemu-img convert} to raw, compared with the model.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Qcow2NodeTest extends Qcow2TestBase {
    @Override
    protected String[] peers() {
        return new String[] {"qemu-img"};
    }

    private void qemuImg(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "qemu-img";
        System.arraycopy(args, 0, cmd, 1, args.length);
        run(cmd);
    }

    private BlockNode open(Path img, String name) throws EngineException {
        return open(img, name, false);
    }

    /** Closes the graph, then the image must pass qemu-img check and hold exactly the model's bytes. */
    private void closeAndCheck(Path img, byte[] model) throws Exception {
        graph.closeAll();
        graph = null;
        checkClean(img);
        assertArrayEquals(model, rawContents(img));
    }

    private void writeModel(BlockNode n, byte[] model, long off, byte[] data) throws Exception {
        MemorySegment b = t.buffer(data.length, 0);
        MemorySegment.copy(data, 0, b, ValueLayout.JAVA_BYTE, 0, data.length);
        assertEquals(0, t.write(n, off, b, 0));
        System.arraycopy(data, 0, model, (int) off, data.length);
    }

    private void readCheck(BlockNode n, byte[] model, long off, int len) throws Exception {
        MemorySegment b = t.buffer(len, 0x5a);
        assertEquals(0, t.read(n, off, b));
        byte[] got = b.toArray(ValueLayout.JAVA_BYTE);
        assertArrayEquals(Arrays.copyOfRange(model, (int) off, (int) off + len), got, "read at " + off + "+" + len);
    }

    /** Random operations against a model; whole-cluster discards read back as zeroes (v3) or unallocated (v2). */
    private void randomOps(BlockNode n, byte[] model, int cluster, int ops, long seed) throws Exception {
        Random rnd = new Random(seed);
        int size = model.length;
        for (int i = 0; i < ops; i++) {
            int kind = rnd.nextInt(10);
            int len = 1 + rnd.nextInt(Math.min(size, cluster * 3));
            if (rnd.nextBoolean()) {
                len = (len + 511) & ~511;
            }
            int off = rnd.nextInt(size - Math.min(len, size) + 1);
            if (rnd.nextBoolean()) {
                off &= ~511;
            }
            len = Math.min(len, size - off);
            if (kind < 5) {
                byte[] d = new byte[len];
                rnd.nextBytes(d);
                writeModel(n, model, off, d);
            } else if (kind < 7) {
                int flags = rnd.nextBoolean() ? BlockRequest.MAY_UNMAP : 0;
                assertEquals(0, t.op(n, BlockRequest.WRITE_ZEROES, off, len, flags), "write zeroes");
                Arrays.fill(model, off, off + len, (byte) 0);
            } else if (kind < 8) {
                assertEquals(0, t.op(n, BlockRequest.DISCARD, off, len, 0), "discard");
                long first = ((long) off + cluster - 1) / cluster * cluster;
                long last = (long) (off + len) / cluster * cluster;
                if (off + len == size) {
                    last = off + len;
                }
                if (last > first) {
                    Arrays.fill(model, (int) first, (int) last, (byte) 0);
                }
            } else {
                readCheck(n, model, off, len);
            }
        }
        readCheck(n, model, 0, size);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cluster_size=65536", "cluster_size=512,refcount_bits=1", "cluster_size=4096,refcount_bits=64",
            "cluster_size=2M", "compat=0.10,cluster_size=4096", "cluster_size=1024,refcount_bits=4"})
    void randomOperationsMatchTheModelAndLeaveACleanImage(String opts) throws Exception {
        Path img = dir.resolve("a.qcow2");
        int size = 6 << 20;
        qemuImg("create", "-q", "-f", "qcow2", "-o", opts, img.toString(), Integer.toString(size));
        BlockNode n = open(img, "q");
        int cluster = ((Qcow2Node) n).clusterSize();
        byte[] model = new byte[size];
        randomOps(n, model, cluster, 300, opts.hashCode());
        closeAndCheck(img, model);
    }

    @Test
    void aTinyL2CacheEvictsAndReloadsTables() throws Exception {
        // 512-byte clusters: one L2 table maps 32 KiB, so random I/O over 6 MiB cycles ~190 tables through 2 slots
        Path img = dir.resolve("t.qcow2");
        int size = 6 << 20;
        qemuImg("create", "-q", "-f", "qcow2", "-o", "cluster_size=512", img.toString(), Integer.toString(size));
        BlockOptions f = BlockOptions.of("file", null);
        f.filename = img.toString();
        BlockOptions q = BlockOptions.of("qcow2", "q");
        q.fileInline = f;
        q.discard = "unmap";
        q.l2CacheSize = 1L;
        BlockNode n = graph.add(q);
        byte[] model = new byte[size];
        randomOps(n, model, 512, 400, 99);
        closeAndCheck(img, model);
    }

    @Test
    void smallWritesToNewClustersWriteOnlyTheirData() throws Exception {
        // 4 KiB into each of 64 fresh 64 KiB clusters: the rest of each cluster stays a hole, as with QEMU
        Path img = dir.resolve("w.qcow2");
        int size = 8 << 20;
        qemuImg("create", "-q", "-f", "qcow2", img.toString(), Integer.toString(size));
        BlockNode n = open(img, "q");
        long before = n.actualSize();
        byte[] model = new byte[size];
        byte[] d = new byte[4096];
        new Random(5).nextBytes(d);
        for (int c = 0; c < 64; c++) {
            writeModel(n, model, c * 65536L + 8192, d);
        }
        long grown = n.actualSize() - before;
        assertTrue(grown < 64 * 16384, "64 small writes allocated " + grown + " bytes on disk");
        readCheck(n, model, 0, size);
        closeAndCheck(img, model);
    }

    @Test
    void growsTheRefcountTableWhenTheImageFillsUp() throws Exception {
        // 512-byte clusters with 16-bit refcounts: one refcount block covers 128 KiB, the one-cluster table 8 MiB
        Path img = dir.resolve("g.qcow2");
        int size = 24 << 20;
        qemuImg("create", "-q", "-f", "qcow2", "-o", "cluster_size=512", img.toString(), Integer.toString(size));
        BlockNode n = open(img, "q");
        byte[] model = new byte[size];
        Random rnd = new Random(7);
        int chunk = 1 << 20;
        for (int off = 0; off < size; off += chunk) {
            byte[] d = new byte[chunk];
            rnd.nextBytes(d);
            writeModel(n, model, off, d);
        }
        readCheck(n, model, 0, size);
        closeAndCheck(img, model);
    }

    @Test
    void readsCompressedClustersAndRewritesThem() throws Exception {
        Path src = dir.resolve("src.raw");
        byte[] data = new byte[1 << 20];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) ((i / 7) % 13 == 0 ? i : 0x41 + (i % 5));
        }
        Files.write(src, data);
        Path img = dir.resolve("c.qcow2");
        qemuImg("convert", "-q", "-c", "-f", "raw", "-O", "qcow2", src.toString(), img.toString());
        BlockNode n = open(img, "q");
        byte[] model = data.clone();
        readCheck(n, model, 0, model.length);
        readCheck(n, model, 70000, 100);
        randomOps(n, model, 65536, 60, 3);
        closeAndCheck(img, model);
    }

    @Test
    void backingChainReadsThroughAndCopiesOnWrite() throws Exception {
        Path base = dir.resolve("base.qcow2");
        int size = 4 << 20;
        qemuImg("create", "-q", "-f", "qcow2", base.toString(), Integer.toString(size));
        byte[] model = new byte[size];
        BlockNode b = open(base, "b");
        Random rnd = new Random(11);
        for (int off = 0; off < size; off += 192 << 10) {
            byte[] d = new byte[Math.min(100_000, size - off)];
            rnd.nextBytes(d);
            writeModel(b, model, off, d);
        }
        graph.closeAll();
        graph = new BlockGraph();
        byte[] baseBytes = Files.readAllBytes(base);
        Path top = dir.resolve("top.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "-o", "cluster_size=4096",
                top.toString());
        Qcow2Node n = (Qcow2Node) open(top, "top");
        assertNotNull(n.backing());
        assertEquals("base.qcow2", n.backingFilename());
        assertEquals(base.toString(), n.fullBackingFilename());
        readCheck(n, model, 0, size);
        long[] st = t.status(n, 0, 4096);
        assertEquals(2, st[2], "allocated in the backing file: depth 2");
        // discard in a v3 overlay hides the backing data behind zero clusters
        randomOps(n, model, 4096, 200, 5);
        graph.closeAll();
        graph = null;
        checkClean(top);
        assertArrayEquals(baseBytes, Files.readAllBytes(base), "the backing file is never written");
        assertArrayEquals(model, rawContents(top));
    }

    @Test
    void internalSnapshotKeepsItsDataWhileTheActiveLayerChanges() throws Exception {
        Path img = dir.resolve("s.qcow2");
        int size = 2 << 20;
        qemuImg("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", img.toString(), Integer.toString(size));
        BlockNode n = open(img, "q");
        byte[] model = new byte[size];
        Random rnd = new Random(13);
        byte[] d = new byte[size];
        rnd.nextBytes(d);
        writeModel(n, model, 0, d);
        graph.closeAll();
        qemuImg("snapshot", "-c", "s1", img.toString());
        byte[] snap = model.clone();
        graph = new BlockGraph();
        n = open(img, "q");
        randomOps(n, model, 4096, 200, 17);
        closeAndCheck(img, model);
        qemuImg("snapshot", "-a", "s1", img.toString());
        assertArrayEquals(snap, rawContents(img));
    }

    @Test
    void concurrentRequestsFromTwoIoThreads() throws Exception {
        Path img = dir.resolve("p.qcow2");
        int size = 8 << 20;
        qemuImg("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", img.toString(), Integer.toString(size));
        BlockNode n = open(img, "q");
        byte[] model = new byte[size];
        try (BlockTestSupport t2 = new BlockTestSupport()) {
            Random rnd = new Random(21);
            for (int round = 0; round < 20; round++) {
                // 32 writes in flight at once, half on each IoThread, each to its own 6 KiB slot (partial clusters,
                // allocation and in-place writes mixed), then everything read back
                java.util.concurrent.CompletableFuture<?>[] fs = new java.util.concurrent.CompletableFuture<?>[2];
                for (int side = 0; side < 2; side++) {
                    BlockTestSupport ts = side == 0 ? t : t2;
                    BlockRequest[] reqs = new BlockRequest[16];
                    for (int i = 0; i < reqs.length; i++) {
                        int slot = side * 16 + i;
                        int off = (rnd.nextInt(size / (6144 * 32)) * 32 + slot) * 6144;
                        byte[] d = new byte[6144];
                        rnd.nextBytes(d);
                        System.arraycopy(d, 0, model, off, d.length);
                        MemorySegment b = ts.buffer(d.length, 0);
                        MemorySegment.copy(d, 0, b, ValueLayout.JAVA_BYTE, 0, d.length);
                        reqs[i] = new BlockRequest(ts.arena, 1).rw(BlockRequest.WRITE, off, b, 0);
                    }
                    fs[side] = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        try {
                            return ts.runTogether(n, reqs);
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                }
                for (var f : fs) {
                    for (int r : (int[]) f.get(30, TimeUnit.SECONDS)) {
                        assertEquals(0, r);
                    }
                }
            }
        }
        readCheck(n, model, 0, size);
        closeAndCheck(img, model);
    }

    /**
     * Bad input from the image: metadata bytes flipped at random (header, L1, refcount table and blocks, L2 tables,
     * compressed descriptors). Opening may fail with a message; once open, every request completes with a result
     * (data or -errno): nothing throws, nothing hangs. (What is read is not checked: the image is corrupt.)
     */
    @Test
    void corruptMetadataGivesErrorsNotExceptions() throws Exception {
        Path good = dir.resolve("good.qcow2");
        int size = 4 << 20;
        qemuImg("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", good.toString(), Integer.toString(size));
        BlockNode n = open(good, "g");
        Random rnd = new Random(31);
        for (int i = 0; i < 40; i++) {
            byte[] d = new byte[1 + rnd.nextInt(20000)];
            rnd.nextBytes(d);
            writeModel(n, new byte[size], rnd.nextInt(size - d.length), d);
        }
        graph.closeAll();
        byte[] image = Files.readAllBytes(good);
        java.nio.ByteBuffer h = java.nio.ByteBuffer.wrap(image); // big-endian, as qcow2
        List<int[]> metadata = new ArrayList<>(); // [start, end) of header fields and tables
        metadata.add(new int[] {0, 104});
        int l1Off = (int) h.getLong(40);
        int l1Size = h.getInt(36);
        metadata.add(new int[] {l1Off, l1Off + 8 * l1Size});
        int rtOff = (int) h.getLong(48);
        metadata.add(new int[] {rtOff, rtOff + 64});
        for (int e = 0; e < 8; e++) {
            long rb = h.getLong(rtOff + 8 * e);
            if (rb != 0) {
                metadata.add(new int[] {(int) rb, (int) rb + 4096});
            }
        }
        for (int e = 0; e < l1Size; e++) {
            long l2 = h.getLong(l1Off + 8 * e) & 0x00fffffffffffe00L;
            if (l2 != 0) {
                metadata.add(new int[] {(int) l2, (int) l2 + 4096});
            }
        }
        int opened = 0;
        int errors = 0;
        for (int variant = 0; variant < 60; variant++) {
            byte[] bad = image.clone();
            for (int k = 0; k < 1 + rnd.nextInt(6); k++) {
                int[] m = metadata.get(rnd.nextInt(metadata.size()));
                int at = m[0] + rnd.nextInt(m[1] - m[0]);
                bad[at] = (byte) rnd.nextInt(256);
            }
            Path img = dir.resolve("bad" + variant + ".qcow2");
            Files.write(img, bad);
            graph = new BlockGraph();
            BlockNode b;
            try {
                b = open(img, "b" + variant);
            } catch (EngineException e) {
                graph.closeAll();
                continue; // refused with a message: fine
            }
            opened++;
            for (int op = 0; op < 40; op++) {
                long off = (long) rnd.nextInt(size / 512) * 512;
                int len = (int) Math.min(size - off, 512L * (1 + rnd.nextInt(64)));
                int r = switch (rnd.nextInt(5)) {
                    case 0 -> t.write(b, off, t.buffer(len, 7), 0);
                    case 1 -> t.op(b, BlockRequest.WRITE_ZEROES, off, len, BlockRequest.MAY_UNMAP);
                    case 2 -> t.op(b, BlockRequest.DISCARD, off, len, 0);
                    case 3 -> t.op(b, BlockRequest.BLOCK_STATUS, off, len, BlockRequest.WANT_DEPTH);
                    default -> t.read(b, off, t.buffer(len, 0));
                };
                if (r < 0) {
                    errors++;
                }
            }
            graph.closeAll();
        }
        graph = null;
        System.out.println("corrupt images opened: " + opened + " of 60, failed requests: " + errors);
        assertTrue(opened > 0 && errors > 0, "corrupt images must open and fail requests, or the loop tests nothing");
    }

    @Test
    void refusesWhatIsNotQcow2() throws Exception {
        Path raw = dir.resolve("plain.raw");
        Files.write(raw, new byte[65536]);
        BlockOptions f = BlockOptions.of("file", null);
        f.filename = raw.toString();
        BlockOptions q = BlockOptions.of("qcow2", "q");
        q.fileInline = f;
        EngineException e = assertThrows(EngineException.class, () -> graph.add(q));
        assertEquals("Image is not in qcow2 format", e.getMessage());
        assertTrue(graph.nodes().isEmpty(), "nothing left behind");
    }

    @Test
    void missingBackingFileIsReportedAndNothingIsLeft() throws Exception {
        Path top = dir.resolve("top.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", "-u", "-b", "gone.qcow2", "-F", "qcow2", top.toString(), "1M");
        EngineException e = assertThrows(EngineException.class, () -> open(top, "top"));
        assertEquals("Could not open backing file: Could not open '" + dir.resolve("gone.qcow2")
                + "': No such file or directory", e.getMessage());
        assertTrue(graph.nodes().isEmpty(), "nothing left behind");
    }

    @ParameterizedTest
    @ValueSource(strings = {"cluster_size=65536", "cluster_size=512", "cluster_size=4096,snapshot"})
    void shrinksWithBlockResize(String opts) throws Exception {
        boolean snapshot = opts.endsWith(",snapshot");
        String o = snapshot ? opts.substring(0, opts.length() - ",snapshot".length()) : opts;
        Path img = dir.resolve("k.qcow2");
        int size = 8 << 20;
        qemuImg("create", "-q", "-f", "qcow2", "-o", o, img.toString(), Integer.toString(size));
        BlockNode n = open(img, "q");
        byte[] model = new byte[size];
        byte[] d = new byte[size];
        new Random(3).nextBytes(d);
        writeModel(n, model, 0, d);
        if (snapshot) {
            graph.closeAll();
            qemuImg("snapshot", "-c", "s1", img.toString());
            graph = new BlockGraph();
            n = open(img, "q");
        }
        long fileBefore = Files.size(img);
        int newSize = (3 << 20) + 4096 + 512; // inside a cluster and an L2 table's range
        graph.resize(n, newSize);
        assertEquals(newSize, n.length());
        byte[] small = Arrays.copyOf(model, newSize);
        readCheck(n, small, 0, newSize);
        if (!snapshot && o.equals("cluster_size=65536")) { // small clusters leave metadata near the end in use
            assertTrue(Files.size(img) < fileBefore / 2, "the file is cut after its last used cluster: "
                    + Files.size(img) + " of " + fileBefore);
        }
        graph.resize(n, size); // growing again: the cropped part reads as zeroes
        byte[] regrown = Arrays.copyOf(small, size);
        readCheck(n, regrown, 0, size);
        closeAndCheck(img, regrown);
        if (snapshot) {
            qemuImg("snapshot", "-a", "s1", img.toString());
            assertArrayEquals(model, rawContents(img), "the snapshot keeps what was cropped");
            checkClean(img);
        }
    }

    @Test
    void growsWithBlockResize() throws Exception {
        Path img = dir.resolve("r.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", "-o", "cluster_size=512", img.toString(), "1M");
        BlockNode n = open(img, "q");
        graph.resize(n, 64L << 20); // 512-byte clusters: the L1 table must grow
        assertEquals(64L << 20, n.length());
        byte[] model = new byte[64 << 20];
        byte[] d = new byte[4096];
        new Random(1).nextBytes(d);
        writeModel(n, model, (64 << 20) - 4096, d);
        readCheck(n, model, (64 << 20) - 8192, 8192);
        closeAndCheck(img, model);
    }
}
