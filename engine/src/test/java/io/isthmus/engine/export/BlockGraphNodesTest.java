package io.isthmus.engine.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockNode;
import io.isthmus.engine.block.BlockOptions;
import io.isthmus.engine.block.BlockPerm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * NodeAccess over the real block graph: the permissions an export asks for, its own truncate, and what its
 * listener hears (QEMU's BlockDevOps: drained_begin/drained_end around drains of the node or a node below it,
 * resize_cb after any length change).
 */
@Timeout(30)
class BlockGraphNodesTest {
    private static final long MIB = 1 << 20;
    private static final int READ = BlockPerm.CONSISTENT_READ;
    private final BlockGraph g = new BlockGraph();
    private Path dir;
    private NodeResolver nodes;

    /** Records what a listener hears, in order. */
    static final class Events implements NodeListener {
        final List<String> heard = new ArrayList<>();

        @Override
        public void drainedBegin() {
            heard.add("begin");
        }

        @Override
        public void drainedEnd() {
            heard.add("end");
        }

        @Override
        public void lengthChanged(long length) {
            heard.add("length " + length);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        dir = Files.createTempDirectory("isthmus-nodes-");
        Path p = dir.resolve("f.img");
        Files.write(p, new byte[(int) MIB]);
        BlockOptions f = BlockOptions.of("file", "f");
        f.filename = p.toString();
        g.add(f);
        BlockOptions r = BlockOptions.of("raw", "r");
        r.fileRef = "f";
        g.add(r);
        nodes = BlockGraphNodes.resolver(g);
    }

    @AfterEach
    void tearDown() throws Exception {
        g.closeAll();
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
        }
    }

    private NodeAccess attach(String node, int perms, int shared) {
        return nodes.find(node).attach("e", perms, shared, false);
    }

    @Test
    void anExportsOwnTruncateDrainsResizesBitmapsAndTellsEveryUser() {
        BlockNode f = g.find("f");
        g.addBitmap(f, "b", null, false, false);
        NodeAccess growable = attach("f", READ | BlockPerm.WRITE | BlockPerm.RESIZE, BlockPerm.ALL);
        NodeAccess other = attach("f", READ, BlockPerm.ALL);
        Events mine = new Events();
        Events theirs = new Events();
        growable.setListener(mine);
        other.setListener(theirs);
        growable.truncate(2 * MIB);
        assertEquals(2 * MIB, f.length());
        assertEquals(2 * MIB, other.length());
        assertEquals(2 * MIB, f.findBitmap("b").length(), "the node's bitmaps follow");
        assertEquals(List.of("begin", "length " + 2 * MIB, "end"), theirs.heard, "inside one drained section");
        assertEquals(List.of("begin", "length " + 2 * MIB, "end"), mine.heard, "as QEMU, the resizing user too");
        growable.detach();
        other.detach();
    }

    @Test
    void truncateNeedsTheResizePermission() {
        NodeAccess a = attach("f", READ | BlockPerm.WRITE, BlockPerm.ALL);
        assertThrows(IllegalStateException.class, () -> a.truncate(2 * MIB));
        assertEquals(MIB, a.length());
        a.detach();
        assertThrows(IllegalStateException.class, () -> a.truncate(2 * MIB), "nor after detach");
    }

    @Test
    void takingResizeConflictsWithAnExportThatUnsharesIt() {
        NodeAccess nbdLike = attach("f", READ, BlockPerm.ALL & ~BlockPerm.RESIZE);
        EngineException e = assertThrows(EngineException.class,
                () -> attach("f", READ | BlockPerm.WRITE | BlockPerm.RESIZE, BlockPerm.ALL));
        assertEquals("Permission conflict on node 'f': permissions 'resize' are both required by an unnamed block device"
                + " (uses node 'f' as 'root' child) and unshared by an unnamed block device (uses node 'f' as 'root'"
                + " child).", e.getMessage());
        assertEquals(READ, g.find("f").cumulativePerm(), "the refused attach left nothing behind");
        nbdLike.detach();
    }

    @Test
    void blockResizeIsHeardThroughAParentNode() {
        NodeAccess onRaw = attach("r", READ, BlockPerm.ALL);
        Events ev = new Events();
        onRaw.setListener(ev);
        g.resize(g.find("f"), 3 * MIB);
        assertEquals(3 * MIB, onRaw.length());
        assertEquals(List.of("begin", "length " + 3 * MIB, "end"), ev.heard);
        onRaw.detach();
    }

    @Test
    void nestedDrainsAreHeardOnce() {
        NodeAccess onRaw = attach("r", READ, BlockPerm.ALL);
        Events ev = new Events();
        onRaw.setListener(ev);
        BlockNode f = g.find("f");
        BlockNode r = g.find("r");
        r.drainedBegin();
        f.drainedBegin(); // below the raw node: the same user, already quiescing
        f.drainedBegin();
        f.drainedEnd();
        f.drainedEnd();
        assertEquals(List.of("begin"), ev.heard, "still drained through 'r'");
        r.drainedEnd();
        assertEquals(List.of("begin", "end"), ev.heard);
        onRaw.setListener(null);
        f.drainedBegin();
        f.drainedEnd();
        assertEquals(2, ev.heard.size(), "a removed listener hears nothing");
        onRaw.detach();
    }

    @Test
    void detachStopsTheEvents() {
        NodeAccess a = attach("f", READ, BlockPerm.ALL);
        Events ev = new Events();
        a.setListener(ev);
        a.detach();
        a.detach(); // idempotent
        g.resize(g.find("f"), 2 * MIB);
        assertTrue(ev.heard.isEmpty());
        assertTrue(!g.find("f").hasUsers(), "the user is gone (the raw node stays a parent)");
    }
}
