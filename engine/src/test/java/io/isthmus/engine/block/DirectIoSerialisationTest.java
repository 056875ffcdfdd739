package io.isthmus.engine.block;

import static io.isthmus.engine.block.BlockRequest.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overlapping writes on an O_DIRECT file node while a read-modify-write is in flight: several requests to one aligned
 * block, all in flight at once, must all land (without serialising, each RMW reads the block before the others have
 * written it and its write-back undoes them).
 */
@Timeout(60)
class DirectIoSerialisationTest {
    @TempDir
    Path dir;
    private final BlockGraph g = new BlockGraph();
    private final BlockTestSupport t = new BlockTestSupport();

    @AfterEach
    void tearDown() {
        t.close();
        g.closeAll();
    }

    private BlockNode direct(Path p) {
        BlockOptions o = BlockOptions.of("file", "d");
        o.filename = p.toString();
        o.cacheDirect = true;
        o.discard = "unmap";
        return g.add(o);
    }

    private Path image(long size) throws Exception {
        Path p = dir.resolve("img");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    private BlockRequest write(long offset, MemorySegment data) {
        return new BlockRequest(t.arena, 1).rw(WRITE, offset, data, 0);
    }

    @Test
    void misalignedWritesToOneBlockInFlightTogetherAllLand() throws Exception {
        int rounds = 16, k = 8;
        Path img = image(1 << 20);
        BlockNode n = direct(img);
        int align = n.requestAlignment();
        assertTrue(align > 1, "O_DIRECT alignment probed: " + align);
        int piece = align / k;
        byte[] expect = new byte[rounds * align];
        for (int r = 0; r < rounds; r++) {
            BlockRequest[] reqs = new BlockRequest[k];
            for (int i = 0; i < k; i++) {
                byte fill = (byte) (r * k + i + 1);
                long off = (long) r * align + (long) i * piece + 1; // misaligned start and length
                reqs[i] = write(off, t.buffer(piece - 2, fill));
                java.util.Arrays.fill(expect, (int) off, (int) off + piece - 2, fill);
            }
            int[] res = t.runTogether(n, reqs);
            for (int x : res) {
                assertEquals(0, x);
            }
        }
        byte[] got = java.util.Arrays.copyOf(Files.readAllBytes(img), expect.length);
        assertArrayEquals(expect, got, "every piece of every block survives the others' read-modify-writes");
    }

    @Test
    void laterAlignedWriteWinsOverAnEarlierOverlappingMisalignedOne() throws Exception {
        Path img = image(1 << 20);
        BlockNode n = direct(img);
        int align = n.requestAlignment();
        for (int r = 0; r < 16; r++) {
            long base = (long) r * align;
            BlockRequest rmw = write(base + 10, t.buffer(20, 0x11)); // misaligned: an RMW of the block
            BlockRequest full = write(base, t.buffer(align, 0x22)); // aligned, submitted after it
            BlockRequest zero = new BlockRequest(t.arena, 1).noData(WRITE_ZEROES, base + align, align, MAY_UNMAP);
            BlockRequest rmw2 = write(base + align + 5, t.buffer(7, 0x33)); // after the zeroes, same block
            int[] res = t.runTogether(n, rmw, full, zero, rmw2);
            assertArrayEquals(new int[] {0, 0, 0, 0}, res);
        }
        byte[] f = Files.readAllBytes(img);
        for (int r = 0; r < 16; r++) {
            int base = r * align;
            for (int i = 0; i < align; i++) {
                assertEquals(0x22, f[base + i], "round " + r + " byte " + i + ": the aligned write came last");
            }
        }
        // the last round's second block: zeroes, then the misaligned write on top
        int b = 16 * align;
        for (int i = 0; i < align; i++) {
            assertEquals(i >= 5 && i < 12 ? 0x33 : 0, f[b + i], "zeroed block, byte " + i);
        }
    }
}
