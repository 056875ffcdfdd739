package io.isthmus.benchmarks.vhost;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The data a verifying run writes: every 8-byte little-endian word of the device holds a mix of its own byte
 * offset, so a block read back proves both its content and that it landed at the right place. Pure function;
 * any thread.
 */
public final class Pattern {
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Pattern() {}

    /** The word at byte offset {@code at} (a multiple of 8) of the device. */
    public static long word(long at) {
        long x = (at + 0x632BE59BD9B4E019L) * 0x9E3779B97F4A7C15L;
        return x ^ (x >>> 31);
    }

    /** Fills {@code len} bytes (a multiple of 8) of {@code buf} at {@code at} with the device's at {@code offset}. */
    static void fill(MemorySegment buf, long at, long len, long offset) {
        for (long i = 0; i < len; i += 8) {
            buf.set(WORD, at + i, word(offset + i));
        }
    }

    /** True if {@code len} bytes of {@code buf} at {@code at} hold the pattern of the device bytes at {@code offset}. */
    static boolean check(MemorySegment buf, long at, long len, long offset) {
        for (long i = 0; i < len; i += 8) {
            if (buf.get(WORD, at + i) != word(offset + i)) {
                return false;
            }
        }
        return true;
    }
}
