package io.isthmus.engine.block;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A dirty bitmap of a node: one bit per granule (a power of two >= 512 bytes), set when a write, write-zeroes or
 * discard reaches the node while the bitmap is enabled.
 *
 * <p>Thread use: IoThreads set bits ({@link #setDirty}) with one atomic OR per touched word (skipped when the
 * bits are already set), so several IoThreads may write at once; the control thread adds, clears, merges,
 * resizes and queries. Scans ({@link #nextDirty}, {@link #nextClean}) read a word at a time and may run on any
 * thread (an NBD export's IoThread). A clear racing with a write may or may not keep that write's bits, as in
 * QEMU, where the order of the two is not defined either.
 */
public final class DirtyBitmap {
    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);

    private final String name;
    private final long granularity;
    private final int shift;
    private volatile long length;
    private volatile long[] words;
    private volatile boolean enabled = true;
    private volatile boolean busy;
    private final boolean persistent;
    /** Loaded from an image where it was left in use (a crash): its bits are unknown; never recording. */
    private volatile boolean inconsistent;
    /** Loaded from an image opened read-only: it cannot be changed (QEMU's readonly bitmaps). */
    private volatile boolean readOnly;

    DirtyBitmap(String name, long granularity, long length, boolean persistent) {
        if (granularity < 512 || Long.bitCount(granularity) != 1) {
            throw new IllegalArgumentException("granularity " + granularity);
        }
        this.name = name;
        this.granularity = granularity;
        this.shift = Long.numberOfTrailingZeros(granularity);
        this.persistent = persistent;
        this.length = length;
        this.words = new long[wordsFor(length)];
    }

    /** A bitmap not attached to a node (tests, benchmarks). */
    public static DirtyBitmap standalone(String name, long granularity, long length) {
        return new DirtyBitmap(name, granularity, length, false);
    }

    private int wordsFor(long len) {
        long granules = len == 0 ? 0 : ((len - 1) >>> shift) + 1;
        long n = (granules + 63) >>> 6;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("bitmap too large");
        }
        return (int) n;
    }

    public String name() {
        return name;
    }

    public long granularity() {
        return granularity;
    }

    /** The size of the node it covers, in bytes. */
    public long length() {
        return length;
    }

    public boolean isEnabled() {
        return enabled;
    }

    /** QMP "recording". */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /** In use by an operation (an NBD export serving it): no user command may change or remove it. */
    public boolean isBusy() {
        return busy;
    }

    public void setBusy(boolean busy) {
        this.busy = busy;
    }

    public boolean isPersistent() {
        return persistent;
    }

    /** QEMU's inconsistent bitmaps: loaded with the in_use flag set, so its contents cannot be trusted. */
    public boolean isInconsistent() {
        return inconsistent;
    }

    /** Marks the bitmap inconsistent; it stops recording, as in QEMU's bdrv_dirty_bitmap_set_inconsistent. */
    void markInconsistent() {
        inconsistent = true;
        enabled = false;
    }

    public boolean isReadOnly() {
        return readOnly;
    }

    void setReadOnly(boolean readOnly) {
        this.readOnly = readOnly;
    }

    // =============================================================================================================
    // marking (any IoThread)

    /** Marks [offset, offset + len) dirty (clamped to the bitmap's length). */
    public void setDirty(long offset, long len) {
        long end = Math.min(offset + len, length);
        if (len <= 0 || offset >= end) {
            return;
        }
        long[] w = words;
        long first = offset >>> shift;
        long last = (end - 1) >>> shift;
        int fw = (int) (first >>> 6);
        int lw = (int) (last >>> 6);
        if (lw >= w.length) {
            return; // resized concurrently
        }
        for (int i = fw; i <= lw; i++) {
            long mask = -1L;
            if (i == fw) {
                mask &= -1L << (first & 63);
            }
            if (i == lw) {
                mask &= -1L >>> (63 - (last & 63));
            }
            if (((long) WORD.getVolatile(w, i) & mask) != mask) {
                WORD.getAndBitwiseOr(w, i, mask);
            }
        }
    }

    /** Marks [offset, offset + len) clean: whole granules only are cleared when the range covers them partly. */
    public void resetRange(long offset, long len) {
        long end = Math.min(offset + len, length);
        if (len <= 0 || offset >= end) {
            return;
        }
        long first = (offset + granularity - 1) >>> shift;
        long lastExcl = end == length ? ((end - 1) >>> shift) + 1 : end >>> shift;
        long[] w = words;
        for (long g = first; g < lastExcl; ) {
            int i = (int) (g >>> 6);
            long upto = Math.min(lastExcl, ((long) i + 1) << 6);
            long mask = -1L << (g & 63);
            if ((upto & 63) != 0 && (upto >>> 6) == i) {
                mask &= ~(-1L << (upto & 63));
            }
            WORD.getAndBitwiseAnd(w, i, ~mask);
            g = upto;
        }
    }

    /** Clears every bit (block-dirty-bitmap-clear). */
    public void clear() {
        long[] w = words;
        for (int i = 0; i < w.length; i++) {
            WORD.setVolatile(w, i, 0L);
        }
    }

    // =============================================================================================================
    // queries and scans

    public boolean isDirty(long offset) {
        if (offset < 0 || offset >= length) {
            return false;
        }
        long g = offset >>> shift;
        return (((long) WORD.getVolatile(words, (int) (g >>> 6))) & (1L << (g & 63))) != 0;
    }

    /** Dirty bytes, as QMP "count" reports them: dirty granules times the granularity. */
    public long count() {
        long n = 0;
        long[] w = words;
        for (int i = 0; i < w.length; i++) {
            n += Long.bitCount((long) WORD.getVolatile(w, i));
        }
        return n << shift;
    }

    /**
     * The first dirty byte offset in [offset, end), or -1 if that range is clean. The result is {@code offset}
     * itself or the start of a granule.
     */
    public long nextDirty(long offset, long end) {
        return scan(offset, end, false);
    }

    /** The first clean byte offset in [offset, end), or -1 if that range is all dirty. */
    public long nextClean(long offset, long end) {
        return scan(offset, end, true);
    }

    private long scan(long offset, long end, boolean clean) {
        end = Math.min(end, length);
        if (offset < 0 || offset >= end) {
            return -1;
        }
        long[] w = words;
        long g = offset >>> shift;
        long lastG = (end - 1) >>> shift;
        int i = (int) (g >>> 6);
        int li = (int) (lastG >>> 6);
        long word = (long) WORD.getVolatile(w, i);
        if (clean) {
            word = ~word;
        }
        word &= -1L << (g & 63);
        while (true) {
            if (word != 0) {
                long found = ((long) i << 6) + Long.numberOfTrailingZeros(word);
                if (found > lastG) {
                    return -1;
                }
                return Math.max(offset, found << shift);
            }
            if (++i > li) {
                return -1;
            }
            word = (long) WORD.getVolatile(w, i);
            if (clean) {
                word = ~word;
            }
        }
    }

    /**
     * The length of the run of equal state starting at {@code offset}, up to {@code end}: what NBD block status
     * reports for a dirty-bitmap context. Returns 0 when offset >= end.
     */
    public long extent(long offset, long end) {
        end = Math.min(end, length);
        if (offset >= end) {
            return 0;
        }
        long next = isDirty(offset) ? nextClean(offset, end) : nextDirty(offset, end);
        return (next < 0 ? end : next) - offset;
    }

    // =============================================================================================================
    // control-thread operations

    /** Granules covered: one bit each. */
    long granules() {
        long len = length;
        return len == 0 ? 0 : ((len - 1) >>> shift) + 1;
    }

    /** Word {@code i} of the bits (granule g is bit g % 64 of word g / 64): what an image stores little-endian. */
    long word(int i) {
        return (long) WORD.getVolatile(words, i);
    }

    /** ORs {@code v} into word {@code i} (loading from an image); bits past the last granule are dropped. */
    void orWord(int i, long v) {
        long[] w = words;
        if (i >= w.length) {
            return;
        }
        long granules = granules();
        if (i == w.length - 1 && (granules & 63) != 0) {
            v &= -1L >>> (64 - (granules & 63));
        }
        if (v != 0) {
            WORD.getAndBitwiseOr(w, i, v);
        }
    }

    int wordCount() {
        return words.length;
    }

    /** ORs the source into this bitmap; sizes are checked by the caller (QEMU's rule: equal sizes). */
    void mergeFrom(DirtyBitmap src) {
        if (src.granularity == granularity) {
            long[] s = src.words;
            long[] d = words;
            int n = Math.min(s.length, d.length);
            for (int i = 0; i < n; i++) {
                long v = (long) WORD.getVolatile(s, i);
                if (v != 0) {
                    WORD.getAndBitwiseOr(d, i, v);
                }
            }
            return;
        }
        long end = src.length;
        long pos = 0;
        while (pos < end) {
            long d = src.nextDirty(pos, end);
            if (d < 0) {
                break;
            }
            long c = src.nextClean(d, end);
            long stop = c < 0 ? end : c;
            setDirty(d, stop - d);
            pos = stop;
        }
    }

    /** Follows a resize of the node: bits beyond the new end are dropped, new space is clean. */
    void resize(long newLength) {
        long[] old = words;
        long[] n = new long[wordsFor(newLength)];
        System.arraycopy(old, 0, n, 0, Math.min(old.length, n.length));
        long granules = newLength == 0 ? 0 : ((newLength - 1) >>> shift) + 1;
        if ((granules & 63) != 0 && n.length > 0) {
            n[n.length - 1] &= -1L >>> (64 - (granules & 63));
        }
        this.words = n;
        this.length = newLength;
    }
}
