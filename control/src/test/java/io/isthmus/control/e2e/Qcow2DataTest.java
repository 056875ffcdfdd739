package io.isthmus.control.e2e;

import static io.isthmus.control.e2e.Tools.nbdUri;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The qcow2 driver end to end, through the NBD export, against real peers: images made by qemu-img (every
 * cluster size, refcount width, version 2 and 3, compressed clusters, internal snapshots, backing chains)
 * are written with qemu-io and nbdcopy/fio over NBD, read back with {@code read -P}, and after the daemon
 * stops, {@code qemu-img check} must find them clean and {@code qemu-img compare} identical to a raw
 * reference that qemu-io built by applying the same operations directly. Every case also runs against
 * qemu-storage-daemon, which proves the expectations; block status must equal QSD's.
 */
@Timeout(60)
class Qcow2DataTest {
    private static final long K = 1024;
    private static final long M = 1024 * K;

    static Stream<Daemon.Kind> kinds() {
        return Stream.of(Daemon.Kind.QSD, Daemon.Kind.ISTHMUS); // QSD proves the case, Isthmus must match it
    }

    /** qemu-img create -o options for the write/read/compare battery: cluster size first. */
    static Stream<Arguments> formats() {
        List<String> opts = List.of(
                "cluster_size=512,refcount_bits=1",
                "cluster_size=4096,compat=0.10",
                "cluster_size=65536,refcount_bits=64,lazy_refcounts=off",
                "cluster_size=2M,refcount_bits=16");
        return kinds().flatMap(k -> opts.stream().map(o -> Arguments.of(k, o)));
    }

    /**
     * Writes that straddle clusters and an L2 table's end, unaligned writes into unallocated and allocated
     * clusters (copy-on-write of the rest), zero writes with and without unmap over allocated and
     * unallocated clusters, aligned discards, the last cluster, then writes into zeroed clusters.
     */
    static Qcow2Ops sequence(long c, long size) {
        long l2 = c * (c / 8); // the guest bytes one L2 table maps
        return new Qcow2Ops(size)
                .write(0xa5, 0, 3 * c + c / 2)
                .write(0x5a, c / 2 + 100, 1000)
                .write(0x33, l2 - c - 123, 2 * c + 500)
                .write(0x44, 5 * c + 7, c - 14)
                .zero(8 * c, 2 * c, false)
                .write(0x66, 10 * c, 4 * c)
                .zero(11 * c, c, false)
                .zero(12 * c + 100, c, true)
                .zero(16 * c, 3 * c, true)
                .discard(13 * c, c)
                .write(0x99, 20 * c, 8 * c)
                .write(0x9a, 21 * c, c)
                .zero(22 * c, 2 * c, true)
                .discard(25 * c, 2 * c)
                .discard(l2 - c, c)
                .write(0x77, size - c - 5, c + 5)
                .write(0xab, 11 * c + 10, 20)
                .write(0xac, 22 * c + c / 2, 10)
                .write(0xad, 26 * c + 1, c)
                .write(0xae, 2 * l2 + 3 * c + 1, 7);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("formats")
    void writeReadCheckCompare(Daemon.Kind kind, String createOptions) throws Exception {
        require(kind);
        long c = parseSize(createOptions.split(",")[0].substring("cluster_size=".length()));
        long l2 = c * (c / 8);
        long size = Math.max(16 * M, 2 * l2 + 64 * c);
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            Path img = create(dir, "disk.qcow2", createOptions, size);
            Path ref = Tools.sparseFile(dir, "ref.raw", size);
            Qcow2Ops ops = sequence(c, size);
            List<String> writes = ops.take();
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.start(kind, dir, List.of("--blockdev", qcow2Node("disk0", img, ""),
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=disk0,name=disk,writable=on"), nbd);
            String uri = nbdUri(nbd, "disk");
            io(uri, writes);
            io(uri, ops.reads());
            assertEquals(fileMap(img), map(uri, null), "block status over NBD vs qemu-img map of the file");
            rawIo(ref, writes);
            quit(d);
            assertCheckClean(img);
            compare(img, "qcow2", ref);
        } finally {
            close(d);
            Tools.deleteTree(dir);
        }
    }

    /** Compressed clusters as qemu-img convert -c writes them, for several cluster sizes. */
    static Stream<Arguments> compressedFormats() {
        return kinds().flatMap(k -> Stream.of(512L, 65536L, 2 * M).map(c -> Arguments.of(k, c)));
    }

    @ParameterizedTest(name = "{0} cluster_size={1}")
    @MethodSource("compressedFormats")
    void compressedClustersReadThenOverwritten(Daemon.Kind kind, long c) throws Exception {
        require(kind, "nbdcopy");
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            long size = Math.max(4 * M, 8 * c);
            Path src = dir.resolve("src.raw");
            Files.write(src, compressible(size, 20251125L + c));
            Path img = dir.resolve("comp.qcow2");
            Tools.run(60, "qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=" + c,
                    src.toString(), img.toString()).ok();
            JsonNode before = check(img);
            assertTrue(before.path("compressed-clusters").asLong() > 0, "qemu-img wrote no compressed cluster: "
                    + before);

            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.start(kind, dir, List.of("--blockdev", qcow2Node("disk0", img, ""),
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=disk0,name=disk,writable=on"), nbd);
            String uri = nbdUri(nbd, "disk");
            Path out = dir.resolve("out.raw");
            Tools.run(60, "nbdcopy", uri, out.toString()).ok();
            assertEquals(-1, Files.mismatch(src, out), "compressed image read over NBD differs from its source");

            // overwrite inside compressed clusters, across two, zero and discard whole ones
            Qcow2Ops ops = new Qcow2Ops(size)
                    .write(0xcc, c + 100, c / 4)
                    .write(0xcd, 3 * c - 10, 20)
                    .zero(5 * c, c, true)
                    .discard(6 * c, c)
                    .write(0xce, 7 * c, c);
            List<String> writes = ops.take();
            io(uri, writes);
            Path ref = dir.resolve("ref.raw");
            Files.copy(src, ref);
            rawIo(ref, writes);
            Tools.run(60, "qemu-img", "compare", "-f", "raw", "-F", "raw", uri, ref.toString()).ok();
            quit(d);
            assertCheckClean(img);
            compare(img, "qcow2", ref);
        } finally {
            close(d);
            Tools.deleteTree(dir);
        }
    }

    static Stream<Arguments> snapshotFormats() {
        return kinds().flatMap(k -> Stream.of("cluster_size=65536", "cluster_size=4096,compat=0.10")
                .map(o -> Arguments.of(k, o)));
    }

    /** Clusters shared with an internal snapshot are copied on write; the snapshot keeps the old data. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("snapshotFormats")
    void internalSnapshotKeepsItsData(Daemon.Kind kind, String createOptions) throws Exception {
        require(kind);
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            long size = 8 * M;
            long c = parseSize(createOptions.split(",")[0].substring("cluster_size=".length()));
            Path img = create(dir, "snap.qcow2", createOptions, size);
            Tools.qemuIo(List.of("-f", "qcow2"), img.toString(), "write -P 0x11 0 2M", "write -P 0x12 4M 64k",
                    "write -P 0x13 5M 1M").ok();
            Tools.run(30, "qemu-img", "snapshot", "-c", "s1", img.toString()).ok();
            Path before = dir.resolve("before.raw");
            Tools.run(30, "qemu-img", "convert", "-f", "qcow2", "-O", "raw", img.toString(), before.toString()).ok();

            Qcow2Ops ops = new Qcow2Ops(size)
                    .write(0x11, 0, 2 * M).write(0x12, 4 * M, 64 * K).write(0x13, 5 * M, M);
            ops.take();
            ops.write(0x21, 100, 1000)
                    .write(0x22, M - 50, 100)
                    .zero(3 * 64 * K, 64 * K, false)
                    .zero(4 * M, 64 * K, true)
                    .discard(5 * M, 2 * c)
                    .write(0x23, 6 * M, M)
                    .write(0x24, 5 * M + 2 * c + 1, 3);
            List<String> writes = ops.take();
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.start(kind, dir, List.of("--blockdev", qcow2Node("disk0", img, ""),
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=disk0,name=disk,writable=on"), nbd);
            String uri = nbdUri(nbd, "disk");
            io(uri, writes);
            io(uri, ops.reads());
            sigterm(d);
            assertCheckClean(img);
            Path ref = dir.resolve("ref.raw");
            Files.copy(before, ref);
            rawIo(ref, writes);
            compare(img, "qcow2", ref);
            String list = Tools.run(30, "qemu-img", "snapshot", "-l", img.toString()).ok().out();
            assertTrue(list.contains(" s1 "), "snapshot s1 gone: " + list);

            Tools.run(30, "qemu-img", "snapshot", "-a", "s1", img.toString()).ok();
            assertCheckClean(img);
            compare(img, "qcow2", before);
        } finally {
            close(d);
            Tools.deleteTree(dir);
        }
    }

    /** What a backing-chain run saw, for comparing the daemons. */
    record ChainMaps(List<String> before, List<String> depthBefore, List<String> after, List<String> depthAfter) {
    }

    /**
     * top.qcow2 over base.qcow2 (named relative to top's directory, format from the header, another
     * cluster size): reads show base data, partial writes copy the base around them, zeroes and discards
     * hide it, the base stays unchanged; nbdinfo --map and qemu:allocation-depth equal QSD's.
     */
    @Test
    void backingChainFromTheHeader() throws Exception {
        require(Daemon.Kind.QSD, "nbdinfo");
        ChainMaps qsd = backingChain(Daemon.Kind.QSD);
        ChainMaps isthmus = backingChain(Daemon.Kind.ISTHMUS);
        assertEquals(qsd.before(), isthmus.before(), "nbdinfo --map before the writes, QSD vs Isthmus");
        assertEquals(qsd.depthBefore(), isthmus.depthBefore(), "allocation depth before the writes");
        assertEquals(qsd.after(), isthmus.after(), "nbdinfo --map after the writes, QSD vs Isthmus");
        assertEquals(qsd.depthAfter(), isthmus.depthAfter(), "allocation depth after the writes");
    }

    private static ChainMaps backingChain(Daemon.Kind kind) throws Exception {
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            long size = 8 * M;
            Path base = create(dir, "base.qcow2", "cluster_size=4096", size);
            Qcow2Ops ops = new Qcow2Ops(size)
                    .write(0x51, 0, 3 * M + 100)
                    .zero(M, 64 * K, false)
                    .write(0x52, 5 * M, 64 * K);
            Tools.qemuIo(List.of("-f", "qcow2"), base.toString(), ops.take().toArray(String[]::new)).ok();
            Path top = dir.resolve("top.qcow2");
            Tools.run(30, "qemu-img", "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
                    top.toString()).ok();
            ops.write(0x61, 2 * M, 64 * K).zero(2 * M + 128 * K, 64 * K, false);
            Tools.qemuIo(List.of("-f", "qcow2"), top.toString(), ops.take().toArray(String[]::new)).ok();
            String baseSum = sha256(base);
            Path ref = dir.resolve("ref.raw");
            Tools.run(30, "qemu-img", "convert", "-f", "qcow2", "-O", "raw", top.toString(), ref.toString()).ok();

            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.start(kind, dir, List.of("--blockdev", qcow2Node("top", top, ""),
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=top,name=top,writable=on,allocation-depth=on"), nbd);
            String uri = nbdUri(nbd, "top");
            io(uri, ops.reads());
            List<String> before = map(uri, null);
            List<String> depthBefore = map(uri, "qemu:allocation-depth");

            ops.write(0x71, 100, 200)
                    .write(0x72, 3 * M - 10, 20)
                    .zero(5 * 64 * K, 64 * K, false)
                    .discard(7 * 64 * K, 64 * K)
                    .write(0x73, M + 1000, 10)
                    .zero(5 * M, 64 * K, true)
                    .write(0x74, 2 * M + 128 * K + 5, 5)
                    .write(0x75, 7 * M + 3, 70000);
            List<String> writes = ops.take();
            io(uri, writes);
            io(uri, ops.reads());
            List<String> after = map(uri, null);
            List<String> depthAfter = map(uri, "qemu:allocation-depth");
            quit(d);
            assertEquals(baseSum, sha256(base), "the backing file changed");
            assertCheckClean(top);
            assertCheckClean(base);
            rawIo(ref, writes);
            compare(top, "qcow2", ref);
            return new ChainMaps(before, depthBefore, after, depthAfter);
        } finally {
            close(d);
            Tools.deleteTree(dir);
        }
    }

    /**
     * A raw backing file the header names without a format (probed as raw), next to {@code backing: null}
     * (the top alone) and {@code backing: "node"} (a base opened as its own node).
     */
    @ParameterizedTest
    @MethodSource("kinds")
    void rawBackingWithoutFormatAndBackingOptions(Daemon.Kind kind) throws Exception {
        require(kind);
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            long size = 4 * M;
            Path base = Tools.sparseFile(dir, "base.raw", size);
            Qcow2Ops chain = new Qcow2Ops(size).write(0x41, 0, M + 3).write(0x42, 3 * M, 512);
            Tools.qemuIo(base.toString(), chain.take().toArray(String[]::new)).ok();
            Path top = dir.resolve("top.qcow2");
            Tools.run(30, "qemu-img", "create", "-f", "qcow2", "-b", "base.raw", "-F", "raw", top.toString()).ok();
            dropBackingFormat(top);
            String info = Tools.run(30, "qemu-img", "info", "--output=json", top.toString()).ok().out();
            assertTrue(!info.contains("backing-filename-format"), "the backing format is still there: " + info);
            Qcow2Ops topOnly = new Qcow2Ops(size);
            for (Qcow2Ops o : List.of(chain, topOnly)) {
                o.write(0x43, 64 * K, 64 * K).zero(3 * M, 64 * K, false);
            }
            List<String> topWrites = topOnly.take();
            chain.take();
            Tools.qemuIo(List.of("-f", "qcow2"), top.toString(), topWrites.toArray(String[]::new)).ok();
            Path alone = dir.resolve("alone.qcow2");
            Files.copy(top, alone);
            Path viaNode = dir.resolve("via-node.qcow2");
            Files.copy(top, viaNode);
            String baseSum = sha256(base);

            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.start(kind, dir, List.of(
                    "--blockdev", qcow2Node("top", top, ""),
                    "--blockdev", "{\"driver\": \"qcow2\", \"node-name\": \"alone\", \"backing\": null, "
                            + "\"file\": {\"driver\": \"file\", \"filename\": \"" + alone + "\"}}",
                    "--blockdev", "driver=raw,node-name=base,read-only=on,file.driver=file,file.filename=" + base,
                    "--blockdev", qcow2Node("vianode", viaNode, ",backing=base"),
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=top,name=top,writable=on",
                    "--export", "type=nbd,id=e1,node-name=alone,name=alone,writable=on",
                    "--export", "type=nbd,id=e2,node-name=vianode,name=vianode,writable=on"), nbd);
            Qcow2Ops viaNodeOps = new Qcow2Ops(size);
            viaNodeOps.write(0x41, 0, M + 3).write(0x42, 3 * M, 512).write(0x43, 64 * K, 64 * K)
                    .zero(3 * M, 64 * K, false);
            viaNodeOps.take();
            io(nbdUri(nbd, "top"), chain.reads());
            io(nbdUri(nbd, "alone"), topOnly.reads());
            io(nbdUri(nbd, "vianode"), viaNodeOps.reads());
            // a partial write copies the base (or zeroes, without a backing) around it
            for (Qcow2Ops o : List.of(chain, topOnly, viaNodeOps)) {
                o.write(0x44, M - 7, 14).write(0x45, 3 * M + 100, 1000);
            }
            String[] names = {"top", "alone", "vianode"};
            List<Qcow2Ops> models = List.of(chain, topOnly, viaNodeOps);
            for (int i = 0; i < 3; i++) {
                Qcow2Ops o = models.get(i);
                io(nbdUri(nbd, names[i]), o.take());
                io(nbdUri(nbd, names[i]), o.reads());
            }
            quit(d);
            assertEquals(baseSum, sha256(base), "the raw backing file changed");
            for (Path p : List.of(top, alone, viaNode)) {
                assertCheckClean(p);
            }
        } finally {
            close(d);
            Tools.deleteTree(dir);
        }
    }

    /**
     * 512-byte clusters with 64-bit refcounts written full: about two thousand refcount blocks, so the
     * refcount table grows several times while data clusters and L2 tables are allocated.
     */
    @ParameterizedTest
    @MethodSource("kinds")
    void growingRefcountStructures(Daemon.Kind kind) throws Exception {
        require(kind, "nbdcopy");
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            long size = 32 * M;
            Path src = dir.resolve("src.raw");
            byte[] data = new byte[(int) size];
            new Random(7L).nextBytes(data);
            Files.write(src, data);
            Path img = create(dir, "grow.qcow2", "cluster_size=512,refcount_bits=64", size);
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.start(kind, dir, List.of("--blockdev", qcow2Node("disk0", img, ""),
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=disk0,name=disk,writable=on"), nbd);
            Tools.run(60, "nbdcopy", "--request-size=262144", src.toString(), nbdUri(nbd, "disk")).ok();
            Path out = dir.resolve("out.raw");
            Tools.run(60, "nbdcopy", nbdUri(nbd, "disk"), out.toString()).ok();
            assertEquals(-1, Files.mismatch(src, out), "read back over NBD differs from what was written");
            quit(d);
            JsonNode chk = assertCheckClean(img);
            assertEquals(size / 512, chk.path("allocated-clusters").asLong(), "allocated clusters: " + chk);
            compare(img, "qcow2", src);
        } finally {
            close(d);
            Tools.deleteTree(dir);
        }
    }

    /**
     * Several connections allocating at once: fio with four jobs (one connection each, own region,
     * random 4K writes, crc32c-verified), and nbdcopy with four connections into a second image.
     */
    @ParameterizedTest
    @MethodSource("kinds")
    void concurrentConnectionsAllocating(Daemon.Kind kind) throws Exception {
        require(kind, "fio", "nbdcopy");
        Tools.requireFioNbdEngine();
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            long size = 32 * M;
            Path a = create(dir, "fio.qcow2", "cluster_size=4096", size);
            Path b = create(dir, "copy.qcow2", "cluster_size=65536", size);
            Path src = Tools.sparseFile(dir, "src.raw", size);
            Random rnd = new Random(99L);
            try (RandomAccessFile raf = new RandomAccessFile(src.toFile(), "rw")) {
                for (long off = 0; off < size; off += 256 * K) {
                    if ((off / (256 * K)) % 4 == 3) {
                        continue; // a hole
                    }
                    byte[] chunk = new byte[(int) (256 * K - 4096 * ((off / (256 * K)) % 3))];
                    rnd.nextBytes(chunk);
                    raf.seek(off);
                    raf.write(chunk);
                }
            }
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.start(kind, dir, List.of(
                    "--blockdev", qcow2Node("a", a, ""),
                    "--blockdev", qcow2Node("b", b, ""),
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=a,name=a,writable=on",
                    "--export", "type=nbd,id=e1,node-name=b,name=b,writable=on"), nbd);
            Tools.Result r = Tools.run(60, "fio", "--name=alloc", "--ioengine=nbd", "--uri=" + nbdUri(nbd, "a"),
                    "--rw=randwrite", "--bs=4k", "--size=8M", "--offset_increment=8M", "--numjobs=4",
                    "--iodepth=8", "--verify=crc32c", "--verify_fatal=1", "--do_verify=1", "--verify_state_save=0",
                    "--group_reporting", "--output-format=json").ok();
            JsonNode job = Qmp.JSON.readTree(r.out().substring(r.out().indexOf('{'))).get("jobs").get(0);
            assertEquals(0, job.get("error").asInt(), r.out());
            assertEquals(size, job.get("write").get("io_bytes").asLong(), "bytes fio wrote");
            assertEquals(size, job.get("read").get("io_bytes").asLong(), "bytes fio read back and verified");
            Tools.run(60, "nbdcopy", "--connections=4", "--requests=16", "--request-size=65536", src.toString(),
                    nbdUri(nbd, "b")).ok();
            Path outA = dir.resolve("a.raw");
            Path outB = dir.resolve("b.raw");
            Tools.run(60, "nbdcopy", nbdUri(nbd, "a"), outA.toString()).ok();
            Tools.run(60, "nbdcopy", "--connections=4", nbdUri(nbd, "b"), outB.toString()).ok();
            assertEquals(-1, Files.mismatch(src, outB), "nbdcopy with four connections: read back differs");
            quit(d);
            assertCheckClean(a);
            assertCheckClean(b);
            compare(a, "qcow2", outA);
            compare(b, "qcow2", src);
        } finally {
            close(d);
            Tools.deleteTree(dir);
        }
    }

    /**
     * Crash safety: after the client's flush, SIGKILL. Whatever was flushed is there and the image has no
     * corruption (leaked clusters are what an interrupted allocation may leave, in QEMU too).
     */
    @ParameterizedTest
    @MethodSource("kinds")
    void flushedDataSurvivesSigkill(Daemon.Kind kind) throws Exception {
        require(kind);
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            long size = 16 * M;
            Path img = create(dir, "crash.qcow2", "cluster_size=4096", size);
            Qcow2Ops ops = new Qcow2Ops(size).write(0x5c, 0, 3 * M + 5).write(0x5d, 9 * M - 1, 2)
                    .zero(M, 8192, false).write(0x5e, 15 * M, M);
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.start(kind, dir, List.of("--blockdev", qcow2Node("disk0", img, ""),
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=disk0,name=disk,writable=on"), nbd);
            List<String> cmds = new ArrayList<>(ops.take());
            cmds.add("flush");
            io(nbdUri(nbd, "disk"), cmds);
            d.process.destroyForcibly();
            assertTrue(d.process.waitFor(10, TimeUnit.SECONDS), "SIGKILL did not end the daemon");
            JsonNode chk = check(img);
            assertEquals(0, chk.path("corruptions").asLong(), "corruptions after SIGKILL: " + chk);
            assertEquals(0, chk.path("check-errors").asLong(), "check errors after SIGKILL: " + chk);
            QemuIoDataTest.assertNoFailure(Tools.qemuIo(List.of("-f", "qcow2"), img.toString(),
                    ops.reads().toArray(String[]::new)).ok());
        } finally {
            close(d);
            Tools.deleteTree(dir);
        }
    }

    /**
     * conventions.md 2.2, libnbd's interop test: an inherited listening socket (addr.type=fd), implied
     * keys, the empty export name, a file name relative to the daemon's working directory; SIGTERM ends it.
     */
    @ParameterizedTest
    @MethodSource("kinds")
    void libnbdInteropCommandLine(Daemon.Kind kind) throws Exception {
        require(kind, "nbdinfo");
        org.junit.jupiter.api.Assumptions.assumeTrue(new File("/usr/bin/python3").canExecute(),
                "python3 is not installed");
        Path dir = Tools.tempDir();
        Process p = null;
        try {
            Path img = create(dir, "qemu-storage-daemon-disk.qcow2", null, 10 * M);
            Path helper = Path.of(Qcow2DataTest.class.getResource("/diff/with-inherited-socket.py").toURI());
            List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", helper.toString(), "unix-listening",
                    dir.toString(), "--"));
            cmd.addAll(Daemon.command(kind));
            cmd.addAll(List.of("--blockdev", "qcow2,file.driver=file,file.filename=" + img.getFileName()
                            + ",node-name=disk0",
                    "--nbd-server", "addr.type=fd,addr.str={fd}",
                    "--export", "nbd,node-name=disk0,id=nbd0,name=,writable=on"));
            Path err = dir.resolve("stderr.txt");
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(err.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            Path sock = dir.resolve("inherited.sock");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!Files.exists(sock) && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            String uri = nbdUri(sock, "");
            io(uri, List.of("write -P 0x31 512 512", "read -P 0 0 512", "read -P 0x31 512 512",
                    "read -P 0 1024 10484736"));
            assertEquals(String.valueOf(10 * M), Tools.run(30, "nbdinfo", "--size", uri).ok().out().strip(),
                    "export size");
            p.destroy();
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "still running 20 s after SIGTERM");
            assertEquals(0, p.exitValue(), "exit status after SIGTERM; stderr: " + Files.readString(err));
            assertCheckClean(img);
            QemuIoDataTest.assertNoFailure(Tools.qemuIo(List.of("-f", "qcow2"), img.toString(),
                    "read -P 0x31 512 512", "read -P 0 0 512").ok());
        } finally {
            if (p != null) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            Tools.deleteTree(dir);
        }
    }

    /**
     * conventions.md 2.2, iotest qsd-jobs: a stdio monitor, qcow2 nodes over named file nodes, an overlay
     * whose backing is the exported base node. It starts, serves the export, and quits on the monitor.
     */
    @ParameterizedTest
    @MethodSource("kinds")
    void qsdJobsCommandLine(Daemon.Kind kind) throws Exception {
        require(kind);
        Path dir = Tools.tempDir();
        Process p = null;
        try {
            Path base = create(dir, "t.qcow2.base", null, 128 * M);
            Path overlay = dir.resolve("t.qcow2");
            Tools.run(30, "qemu-img", "create", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2",
                    overlay.toString()).ok();
            Path nbd = dir.resolve("nbd.sock");
            List<String> cmd = Daemon.command(kind);
            cmd.addAll(List.of("--chardev", "stdio,id=stdio", "--monitor", "chardev=stdio",
                    "--blockdev", "node-name=file_base,driver=file,filename=" + base,
                    "--blockdev", "node-name=fmt_base,driver=qcow2,file=file_base",
                    "--blockdev", "node-name=file_overlay,driver=file,filename=" + overlay,
                    "--blockdev", "node-name=fmt_overlay,driver=qcow2,file=file_overlay,backing=fmt_base",
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=export1,node-name=fmt_base,writable=on,name=export1"));
            Path err = dir.resolve("stderr.txt");
            p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            OutputStream in = p.getOutputStream();
            String greeting = out.readLine();
            assertTrue(greeting != null && greeting.contains("\"QMP\""), "greeting: " + greeting
                    + "\nstderr: " + Files.readString(err));
            in.write("{\"execute\":\"qmp_capabilities\"}\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            assertEquals("{\"return\": {}}", out.readLine());
            io(nbdUri(nbd, "export1"), List.of("write -P 0x3a 1M 70000", "read -P 0x3a 1M 70000",
                    "read -P 0 0 1M"));
            in.write("{\"execute\": \"quit\"}\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            List<String> rest = new ArrayList<>(); // the reply, after events of the shutdown
            for (String line; (line = out.readLine()) != null; ) {
                if (!line.contains("\"event\"")) {
                    rest.add(line);
                }
            }
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "still running 20 s after quit");
            assertEquals(0, p.exitValue(), "exit status after quit; stderr: " + Files.readString(err));
            assertEquals(List.of("{\"return\": {}}"), rest, "reply to quit");
            assertCheckClean(base);
            assertCheckClean(overlay);
            // the overlay sees what went into its backing file
            QemuIoDataTest.assertNoFailure(Tools.qemuIo(List.of("-f", "qcow2", "-r"), overlay.toString(),
                    "read -P 0x3a 1M 70000").ok());
        } finally {
            if (p != null) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            Tools.deleteTree(dir);
        }
    }

    /**
     * What the driver does not implement is refused when the node is opened (the daemon does not start),
     * never served: encryption, an external data file, extended L2 entries, zstd compression.
     */
    @Test
    void unsupportedFeaturesAreRefusedAtOpen() throws Exception {
        require(Daemon.Kind.ISTHMUS);
        Path dir = Tools.tempDir();
        try {
            // the control: the same options on a plain image open and serve
            Path plain = create(dir, "plain.qcow2", null, M);
            Path nbd = dir.resolve("nbd.sock");
            try (Daemon d = Daemon.isthmus(dir, List.of("--blockdev", qcow2Node("disk0", plain, ""),
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=e0,node-name=disk0,name=disk"), nbd)) {
                QemuIoDataTest.assertNoFailure(Tools.qemuIo(List.of("-r", "-f", "raw"), nbdUri(nbd, "disk"),
                        "read -P 0 0 1M").ok());
            }
            List<List<String>> creates = List.of(
                    List.of("-o", "compression_type=zstd"),
                    List.of("-o", "extended_l2=on"),
                    List.of("-o", "data_file=" + dir.resolve("data.raw")),
                    List.of("--object", "secret,id=s0,data=pw", "-o", "encrypt.format=luks,encrypt.key-secret=s0"),
                    List.of("--object", "secret,id=s0,data=pw", "-o", "encrypt.format=aes,encrypt.key-secret=s0"));
            for (int i = 0; i < creates.size(); i++) {
                Path img = dir.resolve("u" + i + ".qcow2");
                List<String> cmd = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "qcow2"));
                cmd.addAll(creates.get(i));
                cmd.addAll(List.of(img.toString(), "1M"));
                Tools.Result made = Tools.run(30, cmd);
                for (int retry = 0; retry < 3 && made.exit() != 0
                        && made.err().contains("Unable to get accurate CPU usage"); retry++) {
                    made = Tools.run(30, cmd); // LUKS times its key derivation with getrusage, which can read 0
                }
                made.ok();
                List<String> daemon = Daemon.command(Daemon.Kind.ISTHMUS);
                daemon.addAll(List.of("--blockdev", qcow2Node("disk0", img, "")));
                Tools.Result r = Tools.run(20, daemon);
                assertEquals(1, r.exit(), "Isthmus must refuse " + creates.get(i) + ": " + r);
                assertTrue(r.err().contains("--blockdev " + qcow2Node("disk0", img, "") + ": "),
                        "the refusal names the option: " + r);
            }
        } finally {
            Tools.deleteTree(dir);
        }
    }

    // ---- helpers ----

    private static void require(Daemon.Kind kind, String... more) {
        Tools.require("qemu-img", "qemu-io");
        Tools.require(more);
        if (kind == Daemon.Kind.QSD) {
            Tools.require("qemu-storage-daemon");
        }
    }

    private static String qcow2Node(String name, Path img, String extra) {
        return "driver=qcow2,node-name=" + name + ",discard=unmap,file.driver=file,file.filename=" + img + extra;
    }

    private static Path create(Path dir, String name, String options, long size)
            throws IOException, InterruptedException {
        Path img = dir.resolve(name);
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "qcow2"));
        if (options != null) {
            cmd.add("-o");
            cmd.add(options);
        }
        cmd.add(img.toString());
        cmd.add(String.valueOf(size));
        Tools.run(30, cmd).ok();
        return img;
    }

    /** qemu-io (raw) over NBD with the commands; any failed command or pattern mismatch fails the test. */
    private static void io(String uri, List<String> commands) throws IOException, InterruptedException {
        QemuIoDataTest.assertNoFailure(Tools.qemuIo(uri, commands.toArray(String[]::new)).ok());
    }

    /** The same commands directly on a raw file (discards punch holes). */
    private static void rawIo(Path file, List<String> commands) throws IOException, InterruptedException {
        QemuIoDataTest.assertNoFailure(Tools.qemuIo(List.of("-f", "raw", "-d", "unmap"), file.toString(),
                commands.toArray(String[]::new)).ok());
    }

    private static void compare(Path img, String format, Path ref) throws IOException, InterruptedException {
        Tools.run(60, "qemu-img", "compare", "-f", format, "-F", "raw", img.toString(), ref.toString()).ok();
    }

    /** qemu-img check --output=json (exit 0 clean, 2 corrupt, 3 leaks). */
    private static JsonNode check(Path img) throws IOException, InterruptedException {
        Tools.Result r = Tools.run(60, "qemu-img", "check", "--output=json", "-f", "qcow2", img.toString());
        assertTrue(r.out().startsWith("{"), "qemu-img check: " + r);
        return Qmp.JSON.readTree(r.out());
    }

    /** No errors, corruptions or leaks; the header is not marked corrupt nor dirty. */
    private static JsonNode assertCheckClean(Path img) throws IOException, InterruptedException {
        Tools.Result r = Tools.run(60, "qemu-img", "check", "--output=json", "-f", "qcow2", img.toString());
        assertEquals(0, r.exit(), () -> "qemu-img check " + img.getFileName() + ": " + r);
        JsonNode j = Qmp.JSON.readTree(r.out());
        assertEquals(0, j.path("check-errors").asLong(), r.out());
        assertEquals(0, j.path("corruptions").asLong(), r.out());
        assertEquals(0, j.path("leaks").asLong(), r.out());
        JsonNode info = Qmp.JSON.readTree(Tools.run(30, "qemu-img", "info", "--output=json", "-f", "qcow2",
                img.toString()).ok().out());
        JsonNode data = info.path("format-specific").path("data");
        assertTrue(!data.has("corrupt") || !data.get("corrupt").asBoolean(), "corrupt bit: " + info);
        assertEquals(false, info.path("dirty-flag").asBoolean(true), "dirty bit: " + info);
        return j;
    }

    /** nbdinfo --map (of base:allocation or the given context), one "offset length type" per extent. */
    private static List<String> map(String uri, String context) throws IOException, InterruptedException {
        Tools.Result r = Tools.run(30, "nbdinfo", context == null ? "--map" : "--map=" + context, uri).ok();
        // neighbours of one type merged: how a server splits its replies is not the point
        List<String> extents = new ArrayList<>();
        long start = 0;
        long length = 0;
        String type = null;
        for (String line : r.out().strip().split("\n")) {
            String[] f = line.strip().split("\\s+", 4);
            long s = Long.parseLong(f[0]);
            long l = Long.parseLong(f[1]);
            String t = f[2] + " " + f[3];
            if (type != null && type.equals(t) && start + length == s) {
                length += l;
                continue;
            }
            if (type != null) {
                extents.add(start + " " + length + " " + type);
            }
            start = s;
            length = l;
            type = t;
        }
        if (type != null) {
            extents.add(start + " " + length + " " + type);
        }
        return extents;
    }

    /**
     * QEMU's reading of the image's metadata ({@code qemu-img map -U} on the file the daemon holds), as
     * nbdinfo --map would print base:allocation for it: what the export's block status must say.
     */
    private static List<String> fileMap(Path img) throws IOException, InterruptedException {
        String json = Tools.run(60, "qemu-img", "map", "-U", "--output=json", "-f", "qcow2", img.toString())
                .ok().out();
        List<String> out = new ArrayList<>();
        for (String e : MapJson.extents(json)) {
            String[] f = e.split("[+:]");
            out.add(f[0] + " " + f[1] + " " + switch (f[2]) {
                case "data" -> "0 data";
                case "zero" -> "3 hole,zero";
                default -> "1 hole";
            });
        }
        return out;
    }

    /** Quits over QMP; the daemon must exit 0. */
    private static void quit(Daemon d) throws IOException, InterruptedException {
        d.qmp.execute("quit", null);
        assertTrue(d.process.waitFor(20, TimeUnit.SECONDS), d.kind + " still running 20 s after quit");
        assertEquals(0, d.process.exitValue(), d.kind + " exit status after quit; stderr: " + d.stderr());
    }

    private static void sigterm(Daemon d) throws InterruptedException {
        d.process.destroy();
        assertTrue(d.process.waitFor(20, TimeUnit.SECONDS), d.kind + " still running 20 s after SIGTERM");
        assertEquals(0, d.process.exitValue(), d.kind + " exit status after SIGTERM; stderr: " + d.stderr());
    }

    private static void close(Daemon d) {
        if (d != null) {
            d.close();
        }
    }

    private static long parseSize(String s) {
        return s.endsWith("M") ? Long.parseLong(s.substring(0, s.length() - 1)) * M : Long.parseLong(s);
    }

    /** Data that compresses (text, runs, zeroes) with some random clusters in between. */
    private static byte[] compressible(long size, long seed) {
        byte[] b = new byte[(int) size];
        Random rnd = new Random(seed);
        for (int off = 0; off < b.length; off += 4096) {
            int kind = (off / 4096) % 7;
            if (kind == 5) {
                continue; // zeroes
            }
            if (kind == 6 && rnd.nextInt(3) == 0) {
                byte[] r = new byte[4096];
                rnd.nextBytes(r);
                System.arraycopy(r, 0, b, off, 4096);
                continue;
            }
            byte[] line = ("block " + off + " of the compressible source, kind " + kind + "\n")
                    .getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 4096; i++) {
                b[off + i] = line[i % line.length];
            }
        }
        return b;
    }

    /**
     * Turns the backing format header extension (0xe2792aca) into an unknown one, which readers ignore:
     * the image then names its backing file without a format, as images from older QEMU do.
     */
    private static void dropBackingFormat(Path img) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(img.toFile(), "rw")) {
            byte[] head = new byte[4096];
            raf.readFully(head);
            ByteBuffer bb = ByteBuffer.wrap(head);
            int version = bb.getInt(4);
            int off = version >= 3 ? bb.getInt(100) : 72;
            while (off + 8 <= head.length) {
                int type = bb.getInt(off);
                int len = bb.getInt(off + 4);
                if (type == 0) {
                    break;
                }
                if (type == 0xe2792aca) {
                    raf.seek(off);
                    raf.writeInt(0x7a7a7a7a);
                    return;
                }
                off += 8 + ((len + 7) & ~7);
            }
            throw new IOException("no backing format extension in " + img);
        }
    }

    private static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }
}
