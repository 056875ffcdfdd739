package io.isthmus.engine.block;

import static io.isthmus.engine.block.BlockRequest.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file driver's block-status cache (the last data run found with SEEK_DATA/SEEK_HOLE): answers inside the run
 * come from the cache, and everything that can make a hole (discard, write-zeroes, truncate) forgets it, so a
 * hole made after the run was cached is reported as a hole. No peers: a sparse file in a temporary directory.
 */
@Timeout(30)
class FileNodeStatusCacheTest {
    private static final long K = 1024, M = K * K;
    private static final long DATA = STATUS_DATA | STATUS_ALLOCATED, ZERO = STATUS_ZERO | STATUS_ALLOCATED;

    @TempDir
    Path dir;
    private final BlockGraph g = new BlockGraph();
    private BlockTestSupport t;
    private FileNode n;

    @BeforeEach
    void setUp() throws Exception {
        Path p = dir.resolve("sparse.img");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(4 * M);
        }
        BlockOptions o = BlockOptions.of("file", "bsc");
        o.filename = p.toString();
        o.discard = "unmap";
        n = (FileNode) g.add(o);
        t = new BlockTestSupport();
    }

    @AfterEach
    void tearDown() {
        if (t != null) {
            t.close();
        }
        g.closeAll();
    }

    private long[] status(long offset, long length) throws Exception {
        long[] s = t.status(n, offset, length);
        return new long[] {s[0], s[1]};
    }

    @Test
    void cachedDataRunAnswersInsideItAndHolesMadeLaterAreSeen() throws Exception {
        assertEquals(0, t.write(n, M, t.buffer(M, 7), 0));
        assertArrayEquals(new long[] {M, ZERO}, status(0, 4 * M));
        assertArrayEquals(new long[] {M, DATA}, status(M, 3 * M)); // fills the cache with [1M, 2M)
        assertArrayEquals(new long[] {M / 2, DATA}, status(M + M / 2, 3 * M), "inside the cached run");
        assertArrayEquals(new long[] {64 * K, DATA}, status(M + 64 * K, 64 * K), "clamped to the request");
        assertArrayEquals(new long[] {2 * M, ZERO}, status(2 * M, 2 * M), "past the run: the hole after it");

        assertEquals(0, t.op(n, DISCARD, M + 256 * K, 256 * K, 0));
        assertArrayEquals(new long[] {256 * K, DATA}, status(M, 3 * M), "discard cut the run");
        assertArrayEquals(new long[] {256 * K, ZERO}, status(M + 256 * K, 3 * M));
        assertArrayEquals(new long[] {M / 2, DATA}, status(M + M / 2, 3 * M));

        assertEquals(0, t.write(n, M + 256 * K, t.buffer(256 * K, 1), 0));
        assertArrayEquals(new long[] {M, DATA}, status(M, 3 * M), "rewritten: one run again");

        assertEquals(0, t.op(n, WRITE_ZEROES, M, 128 * K, MAY_UNMAP));
        assertArrayEquals(new long[] {128 * K, ZERO}, status(M, 3 * M), "write-zeroes punched a hole");
        assertArrayEquals(new long[] {M - 128 * K, DATA}, status(M + 128 * K, 3 * M));
    }

    @Test
    void runsFoundOutOfOrderMergeAndStillLoseTheirHoles() throws Exception {
        assertEquals(0, t.write(n, M, t.buffer(2 * M, 7), 0));
        assertArrayEquals(new long[] {M, DATA}, status(2 * M, 2 * M)); // caches [2M, 3M)
        assertArrayEquals(new long[] {2 * M, DATA}, status(M, 3 * M)); // [1M, 3M): merged
        assertArrayEquals(new long[] {M / 2, DATA}, status(2 * M + M / 2, M));
        assertArrayEquals(new long[] {M, ZERO}, status(3 * M, M));
        assertEquals(0, t.op(n, DISCARD, 2 * M, 256 * K, 0));
        assertArrayEquals(new long[] {M, DATA}, status(M, 3 * M));
        assertArrayEquals(new long[] {256 * K, ZERO}, status(2 * M, 2 * M));
        assertArrayEquals(new long[] {M - 256 * K, DATA}, status(2 * M + 256 * K, 2 * M));
        assertArrayEquals(new long[] {M, DATA}, status(M, M)); // refilled after the discard
    }

    @Test
    void truncateForgetsTheCachedRun() throws Exception {
        assertEquals(0, t.write(n, 3 * M, t.buffer(M, 3), 0));
        assertArrayEquals(new long[] {M, DATA}, status(3 * M, M));
        n.truncate(3 * M);
        n.truncate(4 * M);
        assertArrayEquals(new long[] {M, ZERO}, status(3 * M, M));
    }
}
