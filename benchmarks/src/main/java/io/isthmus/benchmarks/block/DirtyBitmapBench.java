package io.isthmus.benchmarks.block;

import io.isthmus.engine.block.DirtyBitmap;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Dirty bitmaps on a 1 TiB node at 64 KiB granularity: marking a 4 KiB write (the per-write cost on the data
 * path), and the scans NBD block status does: the extent at a random offset, and walking every dirty extent
 * of a sparse (1 in 1000 granules) bitmap.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class DirtyBitmapBench {
    static final long LENGTH = 1L << 40;
    static final long GRAN = 65536;

    private DirtyBitmap writes;
    private DirtyBitmap sparse;
    private final SplittableRandom rnd = new SplittableRandom(1);

    @Setup(Level.Trial)
    public void setUp() {
        writes = DirtyBitmap.standalone("w", GRAN, LENGTH);
        sparse = DirtyBitmap.standalone("s", GRAN, LENGTH);
        SplittableRandom r = new SplittableRandom(2);
        long granules = LENGTH / GRAN;
        for (long i = 0; i < granules / 1000; i++) {
            sparse.setDirty(r.nextLong(granules) * GRAN, 4096);
        }
    }

    @Benchmark
    public void setDirty4k() {
        writes.setDirty(rnd.nextLong(LENGTH / 4096) * 4096, 4096);
    }

    @Benchmark
    public long extentAtRandomOffset() {
        long off = rnd.nextLong(LENGTH / GRAN) * GRAN;
        return sparse.extent(off, Math.min(LENGTH, off + (1L << 32)));
    }

    /** One full walk of a 1 TiB bitmap's dirty extents (about 16 k of them); result in ns per walk. */
    @Benchmark
    public long walkAllDirtyExtents() {
        long pos = 0;
        long n = 0;
        while (pos < LENGTH) {
            long d = sparse.nextDirty(pos, LENGTH);
            if (d < 0) {
                break;
            }
            long c = sparse.nextClean(d, LENGTH);
            pos = c < 0 ? LENGTH : c;
            n++;
        }
        return n;
    }
}
