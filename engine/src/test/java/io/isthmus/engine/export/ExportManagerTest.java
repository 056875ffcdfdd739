package io.isthmus.engine.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.EngineException;
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
    final List<String> deleted = new ArrayList<>();

    ExportManager manager(boolean multi) {
        MemNode n = new MemNode("n", 1 << 20, false);
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
                return args.string("fake-member");
            }

            @Override
            public BlockExport create(ExportOptions o, String fakeMember, NodeAccess node, IoThread[] t) {
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
}
