package io.isthmus.engine.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockNode;
import io.isthmus.engine.block.BlockOptions;
import io.isthmus.engine.block.BlockPerm;
import io.isthmus.engine.loop.IoThread;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What every export type must do, whatever its protocol (in the spirit of netty's shared transport suites): a
 * type's test is a thin subclass that says how to start the type, how to open a client and how a client does I/O.
 * The exports go through the engine's {@link ExportManager} over a real block graph (file nodes on a temporary
 * directory) with real IoThreads; clients are real protocol clients.
 *
 * <p>Covered: add/delete in safe and hard modes, delete while in use, duplicate and invalid ids, read-only node vs
 * writable export (and the permissions taken), iothread / fixed-iothread / the list form, length changes,
 * drained sections, and {@link ExportListener#exportDeleted} exactly once per export (checked after every test).
 */
@Timeout(60)
public abstract class ExportContractTest {
    protected static final long SIZE = 1 << 20;
    private static final String RESIZE_REFUSED = "Permission conflict on node 'disk': permissions 'resize' are both"
            + " required by an unnamed block device (uses node 'disk' as 'root' child) and unshared by an unnamed block"
            + " device (uses node 'disk' as 'root' child).";

    protected Path dir;
    protected BlockGraph graph;
    protected IoThread main;
    protected IoThread ioA;
    protected IoThread ioB;
    protected ExportManager manager;
    protected ExportDriver<?> driver;
    private final LinkedBlockingQueue<String> deleted = new LinkedBlockingQueue<>();
    private final List<String> everDeleted = java.util.Collections.synchronizedList(new ArrayList<>());
    private final List<String> added = new ArrayList<>();
    private final List<Client> clients = new ArrayList<>();

    // =================================================================================================================
    // what a type's subclass supplies

    /** A client of one export, speaking the type's protocol. Blocking calls; one thread at a time. */
    protected interface Client extends AutoCloseable {
        /** Reads through the export; IOException when the export fails the request or the connection is gone. */
        byte[] read(long offset, int length) throws IOException;

        /** Writes through the export; IOException when the export refuses it (read-only) or fails. */
        void write(long offset, byte[] data) throws IOException;

        /** The size of the disk as this client sees it now. */
        long size() throws IOException;

        /** Whether the server dropped this client within {@code millis}. */
        boolean droppedWithin(long millis) throws Exception;

        @Override
        void close() throws IOException;
    }

    /**
     * Starts what the type needs (NBD: the server on a UNIX socket in {@link #dir}, its listener on {@link #main})
     * and returns the driver to register. Called once per test, after the fixture is ready.
     */
    protected abstract ExportDriver<?> startType() throws Exception;

    /** Stops what {@link #startType} started; every export is gone by then. */
    protected abstract void stopType() throws Exception;

    /** The type's own block-export-add members for export {@code id} (the defaults when empty). */
    protected Map<String, Object> typeMembers(String id) {
        return Map.of();
    }

    /** Opens a client of {@code export}, ready for I/O. */
    protected abstract Client connect(BlockExport export) throws Exception;

    // =================================================================================================================
    // fixture

    @BeforeEach
    final void setUpFixture() throws Exception {
        dir = Files.createTempDirectory("isthmus-export-contract-");
        graph = new BlockGraph();
        fileNode("disk", false);
        fileNode("ro", true);
        main = IoThread.start("contract-main");
        ioA = IoThread.start("io-a");
        ioB = IoThread.start("io-b");
        Map<String, IoThread> threads = Map.of("io-a", ioA, "io-b", ioB);
        manager = new ExportManager(BlockGraphNodes.resolver(graph), threads::get, () -> main, Runnable::run);
        manager.setListener(id -> {
            everDeleted.add(id);
            deleted.add(id);
        });
        driver = startType();
        manager.registerDriver(driver);
    }

    @AfterEach
    final void tearDownFixture() throws Exception {
        try {
            for (Client c : clients) {
                c.close();
            }
            manager.closeAll(null);
            assertTrue(manager.list().isEmpty(), "every export is gone after closeAll");
            Thread.sleep(50); // a duplicate notification would arrive now
            List<String> got = new ArrayList<>(everDeleted);
            got.sort(null);
            List<String> want = new ArrayList<>(added);
            want.sort(null);
            assertEquals(want, got, "exportDeleted exactly once for every export added");
            for (BlockNode n : graph.nodes()) {
                assertTrue(n.parents().isEmpty(), "no export still holds node " + n.nodeName());
            }
        } finally {
            stopType();
            main.close();
            ioA.close();
            ioB.close();
            graph.closeAll();
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private void fileNode(String name, boolean readOnly) throws IOException {
        Path p = dir.resolve(name + ".img");
        byte[] init = new byte[(int) SIZE];
        for (int i = 0; i < init.length; i += 4096) {
            init[i] = (byte) (i >> 12); // a recognisable first byte in every 4 KiB block
        }
        Files.write(p, init);
        BlockOptions o = BlockOptions.of("file", name);
        o.filename = p.toString();
        o.readOnly = readOnly;
        graph.add(o);
    }

    /** Adds an export through the manager as block-export-add does (members as the control plane validated them). */
    protected final BlockExport add(String id, String node, boolean writable, Object iothread, boolean fixed)
            throws EngineException {
        Map<String, Object> m = new HashMap<>(typeMembers(id));
        m.put("type", driver.type());
        m.put("id", id);
        m.put("node-name", node);
        m.put("writable", writable);
        if (iothread != null) {
            m.put("iothread", iothread);
        }
        m.put("fixed-iothread", fixed);
        BlockExport e = manager.add(ExportArgs.of(m));
        added.add(id);
        return e;
    }

    protected final BlockExport add(String id, String node, boolean writable) throws EngineException {
        return add(id, node, writable, null, false);
    }

    protected final Client client(BlockExport e) throws Exception {
        Client c = connect(e);
        clients.add(c);
        return c;
    }

    private String deletedWithin(long seconds) throws InterruptedException {
        return deleted.poll(seconds, TimeUnit.SECONDS);
    }

    private static void refused(String text, org.junit.jupiter.api.function.Executable e) {
        assertEquals(text, assertThrows(EngineException.class, e).getMessage());
    }

    private static byte[] pattern(int seed, int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (seed + i * 7);
        }
        return b;
    }

    // =================================================================================================================
    // add and delete

    @Test
    public void addThenDeleteSafeWhenIdle() throws Exception {
        BlockExport e = add("e1", "disk", false);
        assertEquals(List.of(e), manager.list());
        assertEquals("e1", e.id());
        assertEquals(driver.type(), e.type());
        assertEquals("disk", e.nodeName());
        assertFalse(e.shuttingDown());
        manager.delete("e1", false);
        assertEquals("e1", deletedWithin(5));
        assertTrue(manager.list().isEmpty());
        refused("Export 'e1' is not found", () -> manager.delete("e1", false));
        add("e1", "disk", false); // the id is free again
    }

    @Test
    public void addThenDeleteHardWhenIdle() throws Exception {
        add("e1", "disk", true);
        manager.delete("e1", true);
        assertEquals("e1", deletedWithin(5));
        assertTrue(manager.list().isEmpty());
        assertEquals(0, graph.find("disk").cumulativePerm(), "the node is released");
    }

    @Test
    public void deleteWhileInUse() throws Exception {
        BlockExport e = add("e1", "disk", true);
        Client c = client(e);
        c.write(8192, pattern(1, 512));
        refused("export 'e1' still in use", () -> manager.delete("e1", false));
        assertFalse(e.shuttingDown());
        assertArrayEquals(pattern(1, 512), c.read(8192, 512), "the client is still served after the refusal");
        manager.delete("e1", true);
        assertTrue(c.droppedWithin(5000), "hard delete drops the client");
        assertEquals("e1", deletedWithin(5));
        assertTrue(manager.list().isEmpty());
        assertThrows(IOException.class, () -> c.read(0, 512));
    }

    @Test
    public void hardDeleteDropsEveryClient() throws Exception {
        BlockExport e = add("e1", "disk", false);
        List<Client> cs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            cs.add(client(e));
        }
        manager.delete("e1", true);
        for (Client c : cs) {
            assertTrue(c.droppedWithin(5000));
        }
        assertEquals("e1", deletedWithin(5));
    }

    @Test
    public void idsAreCheckedBeforeAnythingElse() throws Exception {
        add("e1", "disk", false);
        refused("Block export id 'e1' is already in use", () -> add("e1", "ro", false));
        refused("Invalid block export id", () -> add("1e", "disk", false));
        refused("Cannot find device='' nor node-name='nosuch'", () -> add("e2", "nosuch", false));
        assertEquals(1, manager.list().size());
    }

    // =================================================================================================================
    // read-only node, writable export

    @Test
    public void readOnlyNodeAndWritableExport() throws Exception {
        refused("Cannot export read-only node as writable", () -> add("w", "ro", true));
        BlockExport ro = add("r", "ro", false);
        assertEquals(BlockPerm.CONSISTENT_READ, graph.find("ro").cumulativePerm(), "a read-only export only reads");
        Client rc = client(ro);
        assertEquals(3, rc.read(3 * 4096, 512)[0], "reads the node's data");
        assertThrows(IOException.class, () -> rc.write(0, pattern(2, 512)), "a read-only export refuses writes");
        assertEquals(3, rc.read(3 * 4096, 512)[0], "the client is still served after the refusal");

        BlockExport rw = add("w", "disk", true);
        assertEquals(BlockPerm.CONSISTENT_READ | BlockPerm.WRITE, graph.find("disk").cumulativePerm()
                & ~extraPermissions(driver, "w"), "a writable export reads and writes (and what its type adds)");
        Client wc = client(rw);
        wc.write(4096, pattern(3, 4096));
        assertArrayEquals(pattern(3, 4096), wc.read(4096, 4096));
        assertArrayEquals(pattern(3, 4096), client(rw).read(4096, 4096), "another client sees the write");
    }

    @Test
    public void aReadOnlyExportOfAWritableNodeRefusesWrites() throws Exception {
        Client c = client(add("e1", "disk", false));
        assertThrows(IOException.class, () -> c.write(0, pattern(4, 512)));
        assertEquals(0, c.read(0, 512)[0]);
    }

    // =================================================================================================================
    // IoThreads

    @Test
    public void iothreadAndFixedIothread() throws Exception {
        BlockExport a = add("a", "disk", true, "io-a", false);
        assertArrayEquals(new IoThread[] {ioA}, a.iothreads());
        BlockExport b = add("b", "ro", false, "io-b", true);
        assertArrayEquals(new IoThread[] {ioB}, b.iothreads());
        client(a).write(0, pattern(5, 512));
        assertArrayEquals(pattern(5, 512), client(a).read(0, 512));
        assertEquals(1, client(b).read(4096, 1)[0]);
        BlockExport d = add("d", "disk", false);
        assertArrayEquals(new IoThread[] {main}, d.iothreads(), "without iothread: the default one");
        refused("iothread \"nosuch\" not found", () -> add("x", "disk", false, "nosuch", false));
        refused("Cannot use fixed-iothread for a multi-threaded export",
                () -> add("x", "disk", false, List.of("io-a"), true));
        refused("The set of I/O threads must not be empty", () -> add("x", "disk", false, List.of(), false));
        assertEquals(3, manager.list().size(), "refused adds leave nothing behind");
    }

    @Test
    public void theListFormOfIothread() throws Exception {
        BlockExport one = add("one", "disk", false, List.of("io-b"), false);
        assertArrayEquals(new IoThread[] {ioB}, one.iothreads(), "a one-element list is accepted by every type");
        if (!driver.supportsMultipleIoThreads()) {
            refused(driver.type() + " export does not support multi-threading",
                    () -> add("x", "disk", false, List.of("io-a", "io-b"), false));
            return;
        }
        BlockExport e = add("e1", "disk", true, List.of("io-a", "io-b"), false);
        assertArrayEquals(new IoThread[] {ioA, ioB}, e.iothreads());
        List<Client> cs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Client c = client(e);
            c.write(i * 4096L, pattern(10 + i, 512));
            cs.add(c);
        }
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(pattern(10 + i, 512), cs.get((i + 1) % 4).read(i * 4096L, 512));
        }
    }

    // =================================================================================================================
    // length changes and drained sections

    /** What the type's driver takes on a writable export beyond consistent read and write (FUSE: resize). */
    private <O> int extraPermissions(ExportDriver<O> d, String id) {
        ExportOptions common = new ExportOptions(d.type(), id, "disk", true, false, null, false, false, false);
        return d.permissions(common, d.parseOptions(ExportArgs.of(typeMembers(id))))
                & ~(BlockPerm.CONSISTENT_READ | BlockPerm.WRITE);
    }

    private <O> boolean sharesResize(ExportDriver<O> d, String id) {
        ExportOptions common = new ExportOptions(d.type(), id, "disk", true, false, null, false, false, false);
        return (d.sharedPermissions(common, d.parseOptions(ExportArgs.of(typeMembers(id)))) & BlockPerm.RESIZE) != 0;
    }

    @Test
    public void lengthChanges() throws Exception {
        BlockExport e = add("e1", "disk", true);
        Client c = client(e);
        assertEquals(SIZE, c.size());
        BlockNode disk = graph.find("disk");
        if (!sharesResize(driver, "e1")) {
            // the type needs the size to hold (NBD advertised it): block_resize is refused with QEMU's text
            refused(RESIZE_REFUSED, () -> graph.resize(disk, 2 * SIZE));
            assertEquals(SIZE, disk.length());
            assertEquals(SIZE, c.size());
            manager.delete("e1", true);
            assertEquals("e1", deletedWithin(5));
            graph.resize(disk, 2 * SIZE); // the export gave its permissions back
            assertEquals(2 * SIZE, disk.length());
            return;
        }
        graph.resize(disk, 2 * SIZE);
        assertEquals(2 * SIZE, e.node().length());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (c.size() != 2 * SIZE && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(2 * SIZE, c.size(), "a connected client hears of the new length");
        assertEquals(2 * SIZE, client(e).size(), "a new client sees the new length");
        c.write(SIZE + 4096, pattern(20, 512));
        assertArrayEquals(pattern(20, 512), c.read(SIZE + 4096, 512));
    }

    @Test
    public void requestsDuringADrainedSectionCompleteAfterIt() throws Exception {
        BlockExport e = add("e1", "disk", true, "io-a", false);
        Client c = client(e);
        c.write(12288, pattern(30, 512));
        BlockNode disk = graph.find("disk");
        disk.drainedBegin();
        CompletableFuture<byte[]> read;
        try {
            read = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.read(12288, 512);
                } catch (IOException x) {
                    throw new java.io.UncheckedIOException(x);
                }
            });
            Thread.sleep(300);
            assertFalse(read.isDone(), "a request arriving during the drained section waits");
            assertEquals(0, disk.inFlight(), "nothing runs on the node while it is drained");
        } finally {
            disk.drainedEnd();
        }
        assertArrayEquals(pattern(30, 512), read.get(5, TimeUnit.SECONDS), "it runs once the section ends");
    }

    @Test
    public void theExportIsReleasedWithItsNode() throws Exception {
        BlockExport e = add("e1", "disk", true);
        assertSame(e, manager.find("e1"));
        refused("Node disk is in use", () -> graph.delete("disk"));
        manager.delete("e1", false);
        assertEquals("e1", deletedWithin(5));
        assertNull(manager.find("e1"));
        assertTrue(graph.find("disk").parents().isEmpty());
        assertEquals(List.of(), manager.list());
    }
}
