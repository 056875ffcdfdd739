package io.isthmus.engine.export.fuse;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockNode;
import io.isthmus.engine.block.BlockOptions;
import io.isthmus.engine.block.BlockRequest;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.loop.IoThread;
import java.io.RandomAccessFile;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A raw file node of the block layer (O_DIRECT) served through a real mount, with the resize glue done the way the
 * export driver will do it (posted to a control thread, the result posted back to the IoThread): O_DIRECT and
 * buffered writes at odd offsets, punched holes, a growable write past EOF and a truncate; after unmount the image
 * holds exactly what was written (qemu-img compare against a model).
 */
class FuseFileNodeTest {
    static final int MiB = 1 << 20;

    @TempDir
    Path dir;

    static NodeAccess access(BlockNode n) {
        return (NodeAccess) Proxy.newProxyInstance(NodeAccess.class.getClassLoader(), new Class<?>[] {NodeAccess.class},
                (p, m, a) -> switch (m.getName()) {
                    case "nodeName" -> n.nodeName();
                    case "length" -> n.length();
                    case "isReadOnly" -> n.isReadOnly();
                    case "requestAlignment" -> n.requestAlignment();
                    case "maxTransfer" -> (int) Math.min(Integer.MAX_VALUE, n.maxTransfer());
                    case "submit" -> {
                        n.submit((BlockRequest) a[0]);
                        yield null;
                    }
                    case "hashCode" -> System.identityHashCode(p);
                    case "equals" -> p == a[0];
                    default -> null;
                });
    }

    @Test
    void fileNodeRoundTripThroughTheMount() throws Exception {
        FuseMountTest.assumeFuse();
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/qemu-img")), "qemu-img is not installed");
        Path img = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(8L * MiB);
        }
        Path mnt = dir.resolve("mnt");
        Files.createFile(mnt);
        byte[] model = new byte[12 * MiB];
        Random rnd = new Random(3);

        BlockGraph graph = new BlockGraph();
        ExecutorService control = Executors.newSingleThreadExecutor();
        IoThread io = IoThread.start("fuse-file-node");
        FuseMount mount = null;
        FuseServer server = null;
        try {
            BlockOptions o = BlockOptions.of("file", "disk");
            o.filename = img.toString();
            o.cacheDirect = true;
            o.discard = "unmap";
            BlockNode node = graph.add(o);
            FuseNodeControl glue = new FuseNodeControl() {
                @Override
                public void resize(long length, boolean growOnly, ResizeDone done) {
                    IoThread caller = IoThread.current();
                    control.execute(() -> {
                        int r = 0;
                        try {
                            if (!growOnly || node.length() < length) {
                                graph.resize(node, length);
                            }
                        } catch (RuntimeException e) {
                            r = -27;
                        }
                        int res = r;
                        caller.execute(() -> done.resized(res));
                    });
                }

                @Override
                public long allocatedBytes() {
                    return node.actualSize();
                }
            };
            mount = FuseMount.mount(mnt.toString(), FuseMount.Options.of(true, FuseMount.AllowOther.OFF));
            server = FuseServer.start(mount, new FuseFile(access(node), glue,
                    FuseExportConfig.of(true, true, mount.allowOther())), List.of(io));

            // O_DIRECT writes of whole blocks, and buffered writes at odd offsets (bounced by the file node)
            Path src = dir.resolve("src");
            byte[] a = new byte[3 * MiB];
            rnd.nextBytes(a);
            Files.write(src, a);
            FuseMountTest.run("dd", "if=" + src, "of=" + mnt, "bs=64k", "seek=16", "oflag=direct", "conv=notrunc",
                    "status=none");
            System.arraycopy(a, 0, model, MiB, a.length);
            try (RandomAccessFile f = new RandomAccessFile(mnt.toFile(), "rw")) {
                byte[] b = new byte[70001];
                rnd.nextBytes(b);
                f.seek(12345);
                f.write(b);
                System.arraycopy(b, 0, model, 12345, b.length);
            }
            FuseMountTest.run("fallocate", "-p", "-o", "2MiB", "-l", "512KiB", mnt.toString());
            java.util.Arrays.fill(model, 2 * MiB, 2 * MiB + 512 * 1024, (byte) 0);
            // growable: a write past EOF grows the node through the glue
            try (RandomAccessFile f = new RandomAccessFile(mnt.toFile(), "rw")) {
                byte[] b = new byte[5000];
                rnd.nextBytes(b);
                f.seek(10L * MiB + 3);
                f.write(b);
                System.arraycopy(b, 0, model, 10 * MiB + 3, b.length);
            }
            // the node reports its length in 512-byte sectors, as QEMU's block layer
            assertEquals((10L * MiB + 5003 + 511) / 512 * 512, Files.size(mnt));
            FuseMountTest.run("truncate", "-s", "12M", mnt.toString());
            assertEquals(12L * MiB, node.length());
            // read back through the mount with O_DIRECT
            Path out = dir.resolve("out");
            FuseMountTest.run("dd", "if=" + mnt, "of=" + out, "bs=1M", "iflag=direct", "status=none");
            assertArrayEquals(model, Files.readAllBytes(out));
            assertTrue(FuseMountTest.run("stat", "-c", "%b", mnt.toString()).trim().matches("\\d+"));
        } finally {
            if (server != null) {
                server.stop().get(10, TimeUnit.SECONDS);
            }
            if (mount != null) {
                mount.close();
            }
            io.close();
            graph.closeAll();
            control.shutdown();
        }
        assertFalse(FuseMountTest.mounted(mnt));
        Path expected = dir.resolve("expected.raw");
        Files.write(expected, model);
        FuseMountTest.run("qemu-img", "compare", "-f", "raw", "-F", "raw", img.toString(), expected.toString());
        assertEquals(12L * MiB, Files.size(img));
    }
}
