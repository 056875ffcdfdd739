package io.isthmus.engine.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.EngineException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Graph, node names, permissions and bitmap rules, with the texts QSD 7.2 gives for the same input. */
@Timeout(30)
class BlockGraphTest {
    private final BlockGraph g = new BlockGraph();

    private static BlockOptions nul(String name) {
        return BlockOptions.of("null-co", name);
    }

    private static void refused(String text, org.junit.jupiter.api.function.Executable e) {
        EngineException ex = assertThrows(EngineException.class, e);
        assertEquals(text, ex.getMessage());
    }

    @Test
    void nodeNameRules() {
        g.add(nul("a-b_c.d"));
        refused("Duplicate nodes with node-name='a-b_c.d'", () -> g.add(nul("a-b_c.d")));
        refused("Invalid node-name: '1x'", () -> g.add(nul("1x")));
        refused("Invalid node-name: 'a b'", () -> g.add(nul("a b")));
        refused("Invalid node-name: '#a'", () -> g.add(nul("#a")));
        refused("Node name too long", () -> g.add(nul("a".repeat(32))));
        g.add(nul("a".repeat(31)));
        refused("'node-name' must be specified for the root node", () -> g.add(nul(null)));
        refused("Failed to find node with node-name='nosuch'", () -> g.delete("nosuch"));
        assertEquals(List.of("a".repeat(31), "a-b_c.d"), g.nodes().stream().map(BlockNode::nodeName).toList());
    }

    @Test
    void nullDefaultsAndFilenames() {
        BlockNode n = g.add(nul("n"));
        assertEquals(1L << 30, n.length());
        assertEquals("null-co://", n.filename());
        BlockOptions o = nul("m");
        o.size = 1000L;
        BlockNode m = g.add(o);
        assertEquals(1024, m.length());
        assertEquals("json:{\"driver\": \"null-co\", \"size\": 1000}", m.filename());
        BlockOptions bad = nul("x");
        bad.latencyNs = -1L;
        refused("latency-ns is invalid", () -> g.add(bad));
        BlockOptions dz = nul("y");
        dz.detectZeroes = BlockOptions.DetectZeroes.UNMAP;
        refused("setting detect-zeroes to unmap is not allowed without setting discard operation to unmap",
                () -> g.add(dz));
    }

    @Test
    void rawWindowChecksAndInlineChild() {
        BlockOptions n = nul("n");
        n.size = 1000L;
        g.add(n);
        BlockOptions r = BlockOptions.of("raw", "r");
        r.fileRef = "n";
        r.offset = 2000L;
        refused("Offset (2000) cannot be greater than size of the containing file (1024)", () -> g.add(r));
        r.offset = 500L;
        r.size = 600L;
        refused("The sum of offset (500) and size (600) has to be smaller or equal to the  actual size of the "
                + "containing file (1024)", () -> g.add(r));
        r.offset = null;
        r.size = 100L;
        refused("Specified size is not multiple of 512", () -> g.add(r));
        r.fileRef = "nosuch";
        refused("Cannot find device='nosuch' nor node-name='nosuch'", () -> g.add(r));
        assertNull(g.find("r"));

        BlockOptions w = BlockOptions.of("raw", "w");
        w.fileInline = nul(null);
        w.offset = 512L;
        w.size = 1024L;
        BlockNode wn = g.add(w);
        assertEquals(1024, wn.length());
        assertEquals("json:{\"offset\": 512, \"driver\": \"raw\", \"size\": 1024, \"file\": {\"driver\": \"null-co\"}}",
                wn.filename());
        BlockNode child = wn.children().get(0).child();
        assertTrue(child.nodeName().matches("#block\\d+"), child.nodeName());
        refused("Node " + child.nodeName() + " is not owned by the monitor", () -> g.delete(child.nodeName()));
        refused("Cannot resize fixed-size raw disks", () -> g.resize(wn, 4096));
        g.delete("w");
        assertNull(g.find(child.nodeName()), "the inline child goes with its parent");
    }

    @Test
    void deleteRulesAndResizeTexts() {
        g.add(nul("n"));
        BlockOptions r = BlockOptions.of("raw", "r");
        r.fileRef = "n";
        g.add(r);
        refused("Block device n is in use", () -> g.delete("n"));
        refused("Image format driver does not support resize", () -> g.resize(g.find("n"), 4096));
        refused("Parameter 'size' expects a >0 size", () -> g.resize(g.find("n"), -1));
        BlockUser u = g.find("r").attach("an unnamed block device", BlockPerm.CONSISTENT_READ, BlockPerm.ALL);
        refused("Node r is in use", () -> g.delete("r"));
        u.detach();
        g.delete("r");
        g.delete("n");
        assertTrue(g.nodes().isEmpty());
    }

    @Test
    void permissionConflictsUseQemusText() {
        BlockNode n = g.add(nul("n"));
        BlockUser export = n.attach("an unnamed block device", BlockPerm.CONSISTENT_READ | BlockPerm.WRITE,
                BlockPerm.ALL & ~BlockPerm.RESIZE);
        refused("Permission conflict on node 'n': permissions 'resize' are both required by an unnamed block device"
                + " (uses node 'n' as 'root' child) and unshared by an unnamed block device (uses node 'n' as 'root'"
                + " child).", () -> g.resize(n, 4096));
        refused("Permission conflict on node 'n': permissions 'write' are both required by block device 'x' (uses"
                + " node 'n' as 'root' child) and unshared by an unnamed block device (uses node 'n' as 'root' child).",
                () -> {
                    export.setPermissions(BlockPerm.CONSISTENT_READ, BlockPerm.CONSISTENT_READ);
                    n.attach("block device 'x'", BlockPerm.WRITE, BlockPerm.ALL);
                });
        assertEquals(1, n.parents().size(), "the refused user is not left attached");
        assertEquals(BlockPerm.CONSISTENT_READ, n.cumulativePerm());
        export.detach();
        assertEquals(0, n.cumulativePerm());
    }

    @Test
    void permissionsPropagateThroughRawAndReadOnlyIsRefused() {
        BlockOptions o = nul("n");
        o.readOnly = true;
        g.add(o);
        BlockOptions r = BlockOptions.of("raw", "r");
        r.fileRef = "n";
        BlockNode raw = g.add(r);
        refused("Block node is read-only",
                () -> raw.attach("an unnamed block device", BlockPerm.WRITE, BlockPerm.ALL));
        BlockUser u = raw.attach("an unnamed block device", BlockPerm.CONSISTENT_READ,
                BlockPerm.ALL & ~BlockPerm.RESIZE);
        assertEquals(BlockPerm.CONSISTENT_READ, g.find("n").cumulativePerm());
        assertEquals(BlockPerm.ALL & ~BlockPerm.RESIZE, g.find("n").cumulativeSharedPerm());
        u.detach();
        assertEquals(0, g.find("n").cumulativePerm());
        assertEquals(BlockPerm.ALL, g.find("n").cumulativeSharedPerm());
    }

    @Test
    void bitmapRulesAndTexts() {
        BlockNode n = g.add(nul("n"));
        g.addBitmap(n, "b0", null, false, false);
        refused("Bitmap already exists: b0", () -> g.addBitmap(n, "b0", null, false, false));
        refused("Granularity must be power of 2 and at least 512", () -> g.addBitmap(n, "b1", 1000L, false, false));
        refused("Granularity must be power of 2 and at least 512", () -> g.addBitmap(n, "b1", 256L, false, false));
        refused("Can't store persistent bitmaps to n: Operation not supported",
                () -> g.addBitmap(n, "b1", null, true, false));
        refused("Bitmap name too long: " + "b".repeat(1024), () -> g.addBitmap(n, "b".repeat(1024), null, false, false));
        g.addBitmap(n, "b".repeat(1023), null, false, false);
        DirtyBitmap b2 = g.addBitmap(n, "b2", 512L, false, true);
        assertFalse(b2.isEnabled());
        assertEquals(List.of("b2", "b".repeat(1023), "b0"), n.bitmaps().stream().map(DirtyBitmap::name).toList());
        assertEquals(65536, n.findBitmap("b0").granularity());

        refused("Node 'nosuch' not found", () -> g.removeBitmap("nosuch", "b0"));
        refused("Dirty bitmap 'zz' not found", () -> g.removeBitmap("n", "zz"));
        refused("Dirty bitmap 'zz' not found", () -> g.clearBitmap("n", "zz"));
        g.enableBitmap("n", "b2", true);
        g.enableBitmap("n", "b2", true);
        assertTrue(b2.isEnabled());

        b2.setBusy(true);
        String busy = "Bitmap 'b2' is currently in use by another operation and cannot be used";
        refused(busy, () -> g.removeBitmap("n", "b2"));
        refused(busy, () -> g.clearBitmap("n", "b2"));
        refused(busy, () -> g.enableBitmap("n", "b2", false));
        refused(busy, () -> g.mergeBitmaps("n", "b0", List.<String[]>of(new String[] {"n", "b2"})));
        refused(busy, () -> g.mergeBitmaps("n", "b2", List.<String[]>of(new String[] {"n", "b0"})));
        b2.setBusy(false);

        BlockOptions small = nul("s");
        small.size = 1024L;
        BlockNode s = g.add(small);
        g.addBitmap(s, "sb", null, false, false);
        refused("Bitmaps are of different sizes (destination size is 1073741824, source size is 1024) and can't be"
                + " merged", () -> g.mergeBitmaps("n", "b2", List.<String[]>of(new String[] {"s", "sb"})));
        n.findBitmap("b0").setDirty(0, 1);
        g.mergeBitmaps("n", "b2", List.<String[]>of(new String[] {"n", "b0"}));
        assertTrue(b2.isDirty(100));
        g.clearBitmap("n", "b2");
        assertEquals(0, b2.count());
        g.removeBitmap("n", "b2");
        assertNull(n.findBitmap("b2"));
        assertNotNull(n.findBitmap("b0"));
    }
}
