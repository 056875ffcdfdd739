package io.isthmus.engine.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class DirtyBitmapTest {

    /** Reference model: one boolean per granule. */
    private static long refNext(boolean[] g, long gran, long len, long offset, long end, boolean want) {
        end = Math.min(end, len);
        for (long o = offset; o < end; ) {
            int i = (int) (o / gran);
            if (g[i] == want) {
                return o;
            }
            o = (long) (i + 1) * gran;
        }
        return -1;
    }

    @Test
    void setResetAndScansAgreeWithAModel() {
        Random rnd = new Random(42);
        for (long gran : new long[] {512, 4096, 65536}) {
            long len = gran * 1000 + 300; // a partial last granule
            DirtyBitmap b = DirtyBitmap.standalone("b", gran, len);
            int granules = (int) ((len + gran - 1) / gran);
            boolean[] model = new boolean[granules];
            for (int round = 0; round < 400; round++) {
                long off = (long) (rnd.nextDouble() * len);
                long l = 1 + (long) (rnd.nextDouble() * gran * (rnd.nextBoolean() ? 3 : 200));
                if (rnd.nextInt(4) != 0) {
                    b.setDirty(off, l);
                    long end = Math.min(off + l, len);
                    for (long g = off / gran; g <= (end - 1) / gran; g++) {
                        model[(int) g] = true;
                    }
                } else {
                    b.resetRange(off, l);
                    long end = Math.min(off + l, len);
                    long first = (off + gran - 1) / gran;
                    long lastExcl = end == len ? (end - 1) / gran + 1 : end / gran;
                    for (long g = first; g < lastExcl; g++) {
                        model[(int) g] = false;
                    }
                }
                long q = (long) (rnd.nextDouble() * len);
                long qe = q + (long) (rnd.nextDouble() * len);
                assertEquals(refNext(model, gran, len, q, qe, true), b.nextDirty(q, qe), "nextDirty " + q);
                assertEquals(refNext(model, gran, len, q, qe, false), b.nextClean(q, qe), "nextClean " + q);
                assertEquals(model[(int) (q / gran)], b.isDirty(q));
            }
            long count = 0;
            for (boolean m : model) {
                count += m ? gran : 0;
            }
            assertEquals(count, b.count());
        }
    }

    @Test
    void extentReportsRunsOfEqualState() {
        DirtyBitmap b = DirtyBitmap.standalone("b", 65536, 1 << 20);
        b.setDirty(65536 + 100, 10); // marks the whole granule [64k, 128k)
        assertEquals(65536, b.extent(0, 1 << 20));
        assertEquals(65536 - 100, b.extent(65536 + 100, 1 << 20));
        assertTrue(b.isDirty(65536));
        assertEquals((1 << 20) - 131072, b.extent(131072, 1 << 20));
        assertEquals(0, b.extent(1 << 20, 1 << 20));
        assertEquals(65536, b.count());
    }

    @Test
    void setBeyondTheEndIsClampedAndClearEmpties() {
        DirtyBitmap b = DirtyBitmap.standalone("b", 512, 1000);
        b.setDirty(900, 10_000);
        assertEquals(512, b.count()); // granule 1 only
        assertEquals(-1, b.nextDirty(0, 512));
        assertEquals(512, b.nextDirty(0, 1000));
        b.clear();
        assertEquals(0, b.count());
        assertEquals(-1, b.nextDirty(0, 1000));
        assertEquals(0, b.nextClean(0, 1000));
    }

    @Test
    void mergeWithSameAndDifferentGranularity() {
        DirtyBitmap a = DirtyBitmap.standalone("a", 65536, 1 << 24);
        DirtyBitmap same = DirtyBitmap.standalone("s", 65536, 1 << 24);
        DirtyBitmap fine = DirtyBitmap.standalone("f", 512, 1 << 24);
        same.setDirty(0, 1);
        fine.setDirty(5 << 20, 1024);
        a.mergeFrom(same);
        a.mergeFrom(fine);
        assertTrue(a.isDirty(0));
        assertTrue(a.isDirty(5 << 20));
        assertFalse(a.isDirty(1 << 20));
        assertEquals(2 * 65536, a.count());
    }

    @Test
    void resizeDropsBitsBeyondTheNewEnd() {
        DirtyBitmap b = DirtyBitmap.standalone("b", 512, 1 << 20);
        b.setDirty(0, 1 << 20);
        b.resize(1000);
        assertEquals(1024, b.count());
        b.resize(1 << 20);
        assertEquals(1024, b.count());
        assertEquals(1024, b.nextClean(0, 1 << 20));
    }
}
