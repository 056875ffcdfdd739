package io.isthmus.engine.export.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockPerm;
import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportContractTest;
import io.isthmus.engine.export.ExportDriver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The export contract for FUSE: every export mounted on its own regular file in the fixture's directory, clients are
 * processes' view of that file (a file channel on the mount, the kernel's FUSE client in between). The driver's
 * control thread is a single-thread executor, as the daemon's control loop. Plus what only FUSE has: a safe delete
 * refused while a handle is open, truncate through the mount (the resize glue), growable writes, the kernel told of
 * a block_resize at once, and no mount left after a delete.
 */
class FuseExportContractTest extends ExportContractTest {
    private ExecutorService control;
    private final Map<String, Object> extra = new HashMap<>();

    @Override
    protected ExportDriver<?> startType() {
        FuseMountTest.assumeFuse();
        control = Executors.newSingleThreadExecutor(r -> new Thread(r, "fuse-contract-control"));
        return new FuseExportDriver(control);
    }

    @Override
    protected void stopType() throws Exception {
        if (control != null) {
            control.shutdown();
            control.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Every export on its own mountpoint, created here as an empty file (as Proxmox does). */
    @Override
    protected Map<String, Object> typeMembers(String id) {
        Path mnt = dir.resolve("mnt-" + id);
        try {
            if (!Files.exists(mnt)) {
                Files.createFile(mnt);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Map<String, Object> m = new HashMap<>(extra);
        m.putIfAbsent("mountpoint", mnt.toString());
        m.putIfAbsent("allow-other", "off");
        return m;
    }

    @Override
    protected Client connect(BlockExport export) throws Exception {
        return new FileClient(Path.of(((FuseExport) export).mountpoint()));
    }

    /** The mounted file: reads through a read-only handle opened at connect, writes through a handle opened lazily. */
    private static final class FileClient implements Client {
        private final Path path;
        private final FileChannel reader;
        private FileChannel writer;

        FileClient(Path path) throws IOException {
            this.path = path;
            this.reader = FileChannel.open(path, StandardOpenOption.READ);
        }

        @Override
        public byte[] read(long offset, int length) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining()) {
                if (reader.read(b, offset + b.position()) < 0) {
                    throw new IOException("EOF at " + (offset + b.position()));
                }
            }
            return b.array();
        }

        @Override
        public void write(long offset, byte[] data) throws IOException {
            if (writer == null) {
                writer = FileChannel.open(path, StandardOpenOption.WRITE); // EROFS on a read-only export
            }
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                writer.write(b, offset + b.position());
            }
        }

        @Override
        public long size() throws IOException {
            return Files.size(path);
        }

        @Override
        public boolean droppedWithin(long millis) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            do {
                try {
                    reader.read(ByteBuffer.allocate(1), 0);
                } catch (IOException e) {
                    return true; // ENOTCONN: the connection is gone
                }
                Thread.sleep(20);
            } while (System.nanoTime() < deadline);
            return false;
        }

        @Override
        public void close() {
            for (FileChannel ch : new FileChannel[] {reader, writer}) {
                try {
                    if (ch != null) {
                        ch.close();
                    }
                } catch (IOException e) {
                    // ENOTCONN from the kernel's FLUSH: the export dropped this client
                }
            }
        }
    }

    // =================================================================================================================
    // what only FUSE has

    private static boolean mounted(Path p) throws IOException {
        String abs = p.toAbsolutePath().toString();
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().anyMatch(l -> l.split(" ")[4].equals(abs));
    }

    @Test
    void safeDeleteRefusedWhileAHandleIsOpenAndTheMountGoesWithTheExport() throws Exception {
        BlockExport e = add("f1", "disk", true);
        Path mnt = dir.resolve("mnt-f1");
        assertTrue(mounted(mnt));
        assertEquals(BlockPerm.CONSISTENT_READ | BlockPerm.WRITE | BlockPerm.RESIZE,
                graph.find("disk").cumulativePerm(), "a writable FUSE export takes resize (QEMU's fuse_export_create)");
        try (FileChannel ch = FileChannel.open(mnt, StandardOpenOption.READ)) {
            assertEquals(1, ((FuseExport) e).openHandles());
            EngineException x = assertThrows(EngineException.class, () -> manager.delete("f1", false));
            assertEquals("export 'f1' still in use", x.getMessage());
            assertFalse(e.shuttingDown());
            assertEquals(4096, ch.read(ByteBuffer.allocate(4096), 0), "still served after the refusal");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (((FuseExport) e).openHandles() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5); // the kernel sends RELEASE asynchronously after close
        }
        manager.delete("f1", false);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (manager.find("f1") != null && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(manager.list().isEmpty());
        assertFalse(mounted(mnt), "no mount left after the delete");
        assertEquals(0, graph.find("disk").cumulativePerm());
    }

    @Test
    void truncateThroughTheMountAndGrowableWrites() throws Exception {
        extra.put("growable", true);
        BlockExport e = add("g", "disk", true);
        Path mnt = dir.resolve("mnt-g");
        assertEquals(SIZE, Files.size(mnt));
        FuseMountTest.run("truncate", "-s", Long.toString(SIZE / 2), mnt.toString());
        assertEquals(SIZE / 2, e.node().length(), "truncate reached the node through the control thread");
        try (FileChannel ch = FileChannel.open(mnt, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            byte[] data = new byte[3000];
            java.util.Arrays.fill(data, (byte) 0x5a);
            ch.write(ByteBuffer.wrap(data), SIZE + 100);
            assertEquals((SIZE + 3100 + 511) / 512 * 512, e.node().length(), "a growable write past EOF grows it");
            ByteBuffer back = ByteBuffer.allocate(3000);
            ch.read(back, SIZE + 100);
            assertArrayEquals(data, back.array());
            ByteBuffer gap = ByteBuffer.allocate(4096);
            ch.read(gap, SIZE / 2);
            assertArrayEquals(new byte[4096], gap.array(), "the bytes between the old end and the write are zeroes");
        }
    }

    @Test
    void theKernelHearsOfABlockResizeAtOnce() throws Exception {
        add("r", "disk", false);
        Path mnt = dir.resolve("mnt-r");
        assertEquals(SIZE, Files.size(mnt)); // cached for a second by the kernel
        control.submit(() -> {
            graph.resize(graph.find("disk"), 3 * SIZE);
            return null;
        }).get(5, TimeUnit.SECONDS);
        assertEquals(3 * SIZE, Files.size(mnt), "the attribute invalidation reached the kernel");
    }

    @Test
    void stBlocksComeFromTheImagesAllocation() throws Exception {
        add("b", "disk", false);
        String image = FuseMountTest.run("stat", "-c", "%b", dir.resolve("disk.img").toString()).trim();
        assertEquals(image, FuseMountTest.run("stat", "-c", "%b", dir.resolve("mnt-b").toString()).trim());
    }

    @Test
    void writesPastTheEndOfANonGrowableExportAreShort() throws Exception {
        add("n", "disk", true);
        Path mnt = dir.resolve("mnt-n");
        try (FileChannel ch = FileChannel.open(mnt, StandardOpenOption.WRITE)) {
            assertEquals(100, ch.write(ByteBuffer.allocate(4096), SIZE - 100), "clipped at EOF");
            IOException x = assertThrows(IOException.class, () -> ch.write(ByteBuffer.allocate(512), SIZE));
            assertTrue(x.getMessage().contains("No space left on device"), x.getMessage());
        }
        assertEquals(SIZE, graph.find("disk").length());
    }

    @Test
    void mountpointRefusalsWithQemusTexts() throws Exception {
        add("m", "disk", false);
        String taken = dir.resolve("mnt-m").toString();
        extra.put("mountpoint", taken);
        EngineException x = assertThrows(EngineException.class, () -> add("m2", "disk", false));
        assertEquals("There already is a FUSE export on '" + taken + "'", x.getMessage());
        extra.clear();
        Path missing = dir.resolve("nosuch");
        extra.put("mountpoint", missing.toString());
        x = assertThrows(EngineException.class, () -> add("m3", "disk", false));
        assertEquals("Failed to stat '" + missing + "': No such file or directory", x.getMessage());
        extra.put("mountpoint", dir.toString());
        x = assertThrows(EngineException.class, () -> add("m4", "disk", false));
        assertEquals("'" + dir + "' is not a regular file", x.getMessage());
        assertEquals(1, manager.list().size(), "refused adds leave nothing behind");
        assertEquals(BlockPerm.CONSISTENT_READ, graph.find("disk").cumulativePerm(), "nor a node user");
    }
}
