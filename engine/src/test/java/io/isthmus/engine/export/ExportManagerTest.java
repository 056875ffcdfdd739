package io.isthmus.engine.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockPerm;
import io.isthmus.engine.loop.IoThread;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The common export lifecycle with a fake driver: check order, refcounts, deleted notification. */
class ExportManagerTest {
    static final class FakeExport extends BlockExport {
        int shutdowns, deletes;

        FakeExport(ExportOptions o, NodeAccess n, IoThread[] t) {
            super(o, n, t);
        }

        @Override
        protected void requestShutdown() {
            shutdowns++;
        }

        @Override
        protected void delete() {
            deletes++;
        }
    }

    final List<FakeExport> created = new ArrayList<>();
    final List<String> createdWith = new ArrayList<>();
    final List<String> deleted = new ArrayList<>();
    final MemNode n = new MemNode("n", 1 << 20, false);

    /** A driver of type "fake" whose own member {@code growth} ("grow") makes it take RESIZE, as FUSE's growable. */
    ExportManager manager(boolean multi) {
        ExportManager m = new ExportManager(name -> name.equals("n") ? n : null, name -> null, () -> null, Runnable::run);
        m.registerDriver(new ExportDriver<String>() {
            @Override
            public String type() {
                return "fake";
            }

            @Override
            public boolean supportsMultipleIoThreads() {
                return multi;
            }

            @Override
            public boolean supportsInactive() {
                return false;
            }

            @Override
            public String parseOptions(ExportArgs args) {
                return args.string("growth");
            }

            @Override
            public int permissions(ExportOptions common, String growth) {
                int p = ExportDriver.super.permissions(common, growth);
                return common.writable() && "grow".equals(growth) ? p | BlockPerm.RESIZE : p;
            }

            @Override
            public BlockExport create(ExportOptions o, String growth, NodeAccess node, IoThread[] t) {
                createdWith.add(growth);
                FakeExport e = new FakeExport(o, node, t);
                created.add(e);
                return e;
            }
        });
        m.setListener(deleted::add);
        return m;
    }

    static ExportOptions opts(String id, List<String> threads, boolean list, boolean fixed, boolean inactive) {
        return new ExportOptions("fake", id, "n", false, false, threads, list, fixed, inactive);
    }

    @Test
    void deletedFiresOnlyWhenTheLastReferenceGoes() throws Exception {
        ExportManager m = manager(false);
        m.add(opts("e", null, false, false, false), ExportArgs.EMPTY);
        FakeExport e = created.get(0);
        e.ref(); // a client
        assertEquals("export 'e' still in use",
                assertThrows(EngineException.class, () -> m.delete("e", false)).getMessage());
        m.delete("e", true);
        assertEquals(1, e.shutdowns);
        assertTrue(e.shuttingDown());
        assertTrue(deleted.isEmpty(), "still referenced by the client");
        assertEquals("Export 'e' is already shutting down",
                assertThrows(EngineException.class, () -> m.delete("e", true)).getMessage());
        assertEquals(1, m.list().size());
        e.unref();
        assertEquals(List.of("e"), deleted);
        assertEquals(1, e.deletes);
        assertTrue(m.list().isEmpty());
    }

    @Test
    void commonChecks() {
        ExportManager m = manager(false);
        assertEquals("Cannot use fixed-iothread for a multi-threaded export", assertThrows(EngineException.class,
                () -> m.add(opts("e", List.of("a"), true, true, false), ExportArgs.EMPTY)).getMessage());
        assertEquals("No driver found for the requested export type", assertThrows(EngineException.class,
                () -> m.add(new ExportOptions("nbd", "e", "n", false, false, null, false, false, false),
                        ExportArgs.EMPTY))
                .getMessage());
        assertEquals("The set of I/O threads must not be empty", assertThrows(EngineException.class,
                () -> m.add(opts("e", List.of(), true, false, false), ExportArgs.EMPTY)).getMessage());
        assertEquals("iothread \"nothread\" not found", assertThrows(EngineException.class,
                () -> m.add(opts("e", List.of("nothread"), false, false, false), ExportArgs.EMPTY)).getMessage());
        assertEquals("Export type does not support inactive exports", assertThrows(EngineException.class,
                () -> m.add(opts("e", null, false, false, true), ExportArgs.EMPTY)).getMessage());
        assertTrue(created.isEmpty());
    }

    @Test
    void theDriverReadsItsOwnMembersAndAsksForItsPermissions() throws Exception {
        ExportManager m = manager(true);
        java.util.Map<String, Object> a = new java.util.HashMap<>();
        a.put("type", "fake");
        a.put("id", "g");
        a.put("node-name", "n");
        a.put("writable", true);
        a.put("growth", "grow");
        BlockExport e = m.add(ExportArgs.of(a));
        assertEquals(List.of("grow"), createdWith);
        assertEquals(BlockPerm.CONSISTENT_READ | BlockPerm.WRITE | BlockPerm.RESIZE, n.lastPerms);
        assertEquals(BlockPerm.ALL, n.lastShared, "the common part shares everything");
        assertTrue(e.writable());
        m.delete("g", true);

        a.put("id", "r");
        a.put("writable", false);
        a.remove("growth");
        a.put("iothread", List.of());
        assertEquals("The set of I/O threads must not be empty",
                assertThrows(EngineException.class, () -> m.add(ExportArgs.of(a))).getMessage(),
                "the list form of iothread is read from the members");
        a.remove("iothread");
        m.add(ExportArgs.of(a));
        assertEquals(BlockPerm.CONSISTENT_READ, n.lastPerms);
        assertEquals(java.util.Arrays.asList("grow", null), createdWith);
    }

    @Test
    void exportArgsReadTheValidatedMembers() {
        ExportArgs a = ExportArgs.of(java.util.Map.of("s", "x", "b", true, "n", 7L,
                "big", new java.math.BigInteger("18446744073709551615"), "l", List.of("a", java.util.Map.of("k", "v")),
                "o", java.util.Map.of("k", "w")));
        assertEquals("x", a.string("s"));
        assertTrue(a.bool("b"));
        assertEquals(false, a.bool("absent"));
        assertEquals(7, a.integer("n", -1));
        assertEquals(-1, a.integer("absent", -1));
        assertEquals(Long.MAX_VALUE, a.integer("big", 0), "a uint64 beyond long saturates");
        assertTrue(a.isList("l"));
        assertEquals("a", a.list("l").get(0));
        assertEquals("v", ((ExportArgs) a.list("l").get(1)).string("k"));
        assertEquals("w", a.nested("o").string("k"));
        assertEquals(null, a.list("absent"));
        assertThrows(ClassCastException.class, () -> a.string("b"));
    }
}
