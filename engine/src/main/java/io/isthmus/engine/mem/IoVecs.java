package io.isthmus.engine.mem;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Scatter/gather over a native array of {@code struct iovec {void *iov_base; size_t iov_len;}}, such as a
 * block request's ({@code BlockRequest.iovecs}): the byte at position {@code p} of the described data is in the first
 * iovec whose cumulative length exceeds {@code p}. Copies between that data and a contiguous buffer, zero-fills it,
 * tests it for zeroes and narrows an array to a byte range of the data. The described memory is reached through
 * {@link NativeMemory#EVERYTHING}, each access bounded to its iovec.
 *
 * <p>Thread use: any; stateless and allocation-free. Memory: the caller owns the iovec array and vouches for the
 * memory it describes for the duration of the call. Positions past the described data are ignored (a range that
 * runs off the end is cut there).
 */
public final class IoVecs {
    /** sizeof(struct iovec) on LP64. */
    public static final long IOVEC_SIZE = 16;

    private static final MemorySegment ALL = NativeMemory.EVERYTHING;

    private IoVecs() {}

    public static long base(MemorySegment iov, int i) {
        return iov.get(ValueLayout.JAVA_LONG, i * IOVEC_SIZE);
    }

    public static long len(MemorySegment iov, int i) {
        return iov.get(ValueLayout.JAVA_LONG, i * IOVEC_SIZE + 8);
    }

    public static void set(MemorySegment iov, int i, long base, long len) {
        iov.set(ValueLayout.JAVA_LONG, i * IOVEC_SIZE, base);
        iov.set(ValueLayout.JAVA_LONG, i * IOVEC_SIZE + 8, len);
    }

    /** The memory of iovec {@code i} as a segment. */
    public static MemorySegment segment(MemorySegment iov, int i) {
        return ALL.asSlice(base(iov, i), len(iov, i));
    }

    /** Copies bytes [from, from + dst.byteSize()) of the described data into {@code dst}. */
    public static void copyOut(MemorySegment iov, int count, long from, MemorySegment dst) {
        walk(iov, count, from, dst, true);
    }

    /** Copies {@code src} into bytes [from, from + src.byteSize()) of the described data. */
    public static void copyIn(MemorySegment iov, int count, long from, MemorySegment src) {
        walk(iov, count, from, src, false);
    }

    /** Zero-fills bytes [from, from + len) of the described data. */
    public static void zero(MemorySegment iov, int count, long from, long len) {
        long pos = 0;
        long to = from + len;
        for (int i = 0; i < count && pos < to; i++) {
            long l = len(iov, i);
            long s = Math.max(from, pos);
            long e = Math.min(to, pos + l);
            if (e > s) {
                ALL.asSlice(base(iov, i) + (s - pos), e - s).fill((byte) 0);
            }
            pos += l;
        }
    }

    /** Zero-fills the described data from byte {@code from} to its end. */
    public static void zeroFrom(MemorySegment iov, int count, long from) {
        zero(iov, count, from, Long.MAX_VALUE - from);
    }

    /** Whether every byte of the described data is zero. */
    public static boolean isAllZero(MemorySegment iov, int count) {
        for (int i = 0; i < count; i++) {
            if (!isZero(segment(iov, i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Writes to {@code dst} the iovecs that describe bytes [from, from + len) of the data {@code src} describes;
     * returns their count. {@code dst} must hold as many iovecs as {@code src} (it may be the request's own array
     * when {@code src} is a saved copy of it).
     */
    public static int narrow(MemorySegment src, int count, long from, long len, MemorySegment dst) {
        int n = 0;
        long pos = 0;
        long to = from + len;
        for (int i = 0; i < count && pos < to; i++) {
            long b = base(src, i);
            long l = len(src, i);
            long s = Math.max(from, pos);
            long e = Math.min(to, pos + l);
            if (e > s) {
                set(dst, n++, b + (s - pos), e - s);
            }
            pos += l;
        }
        return n;
    }

    private static void walk(MemorySegment iov, int count, long from, MemorySegment buf, boolean out) {
        long pos = 0;
        long to = from + buf.byteSize();
        for (int i = 0; i < count && pos < to; i++) {
            long l = len(iov, i);
            long s = Math.max(from, pos);
            long e = Math.min(to, pos + l);
            if (e > s) {
                MemorySegment m = ALL.asSlice(base(iov, i) + (s - pos), e - s);
                if (out) {
                    MemorySegment.copy(m, 0, buf, s - from, e - s);
                } else {
                    MemorySegment.copy(buf, s - from, m, 0, e - s);
                }
            }
            pos += l;
        }
    }

    private static boolean isZero(MemorySegment s) {
        long n = s.byteSize();
        long i = 0;
        for (; i + 8 <= n; i += 8) {
            if (s.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != 0) {
                return false;
            }
        }
        for (; i < n; i++) {
            if (s.get(ValueLayout.JAVA_BYTE, i) != 0) {
                return false;
            }
        }
        return true;
    }
}
