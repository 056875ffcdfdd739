package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;

/**
 * The {@code CMSG_*} macros of {@code sys/socket.h}, which jextract cannot express, over a control buffer held as
 * a {@link MemorySegment}. Headers are addressed by their byte offset in that buffer; -1 means "no header"
 * (C's NULL). Walking never reads outside the buffer, whatever lengths the peer put in it.
 *
 * <p>Pure arithmetic and bounded segment access: any thread, no native calls, no allocation.
 */
public final class Cmsg {
    private Cmsg() {}

    private static final long HDR = SysSocket.cmsghdr.byteSize(); // 16, already aligned
    private static final long OFF_LEN = 0, OFF_LEVEL = 8, OFF_TYPE = 12;

    /** CMSG_ALIGN: rounds up to the alignment of size_t. */
    public static long align(long len) {
        return (len + 7) & ~7L;
    }

    /** CMSG_SPACE: bytes a control message with {@code len} data bytes takes in the buffer. */
    public static long space(long len) {
        return align(len) + align(HDR);
    }

    /** CMSG_LEN: the value of cmsg_len for {@code len} data bytes. */
    public static long len(long len) {
        return align(HDR) + len;
    }

    /** CMSG_DATA: offset of the data of the header at {@code hdr}. */
    public static long data(long hdr) {
        return hdr + align(HDR);
    }

    /** CMSG_FIRSTHDR: 0 when the first {@code controllen} bytes of the buffer hold a header, else -1. */
    public static long first(MemorySegment control, long controllen) {
        return controllen >= HDR && controllen <= control.byteSize() ? 0 : -1;
    }

    /** CMSG_NXTHDR (glibc's __cmsg_nxthdr): the header after {@code hdr}, or -1 at the end or on a bad length. */
    public static long next(MemorySegment control, long controllen, long hdr) {
        long limit = Math.min(controllen, control.byteSize());
        if (hdr < 0 || hdr + HDR > limit) {
            return -1;
        }
        long cl = control.get(JAVA_LONG, hdr + OFF_LEN);
        if (cl < HDR) {
            return -1;
        }
        long nxt = hdr + align(cl);
        if (nxt < 0 || nxt + HDR > limit) {
            return -1;
        }
        long nl = control.get(JAVA_LONG, nxt + OFF_LEN);
        if (nl < 0 || nxt + align(nl) > limit) {
            return -1;
        }
        return nxt;
    }

    public static long cmsgLen(MemorySegment control, long hdr) {
        return control.get(JAVA_LONG, hdr + OFF_LEN);
    }

    public static int level(MemorySegment control, long hdr) {
        return control.get(JAVA_INT, hdr + OFF_LEVEL);
    }

    public static int type(MemorySegment control, long hdr) {
        return control.get(JAVA_INT, hdr + OFF_TYPE);
    }

    /** Data bytes of the header at {@code hdr}, bounded by the buffer: {@code cmsg_len - CMSG_LEN(0)}, or 0. */
    public static long dataLength(MemorySegment control, long controllen, long hdr) {
        long limit = Math.min(controllen, control.byteSize());
        long cl = cmsgLen(control, hdr);
        if (cl < len(0) || hdr + cl > limit) {
            return Math.max(0, limit - data(hdr));
        }
        return cl - len(0);
    }

    /** Writes a header at {@code hdr} for {@code dataLen} bytes of data (filled by the caller at {@link #data}). */
    public static void put(MemorySegment control, long hdr, int level, int type, long dataLen) {
        control.set(JAVA_LONG, hdr + OFF_LEN, len(dataLen));
        control.set(JAVA_INT, hdr + OFF_LEVEL, level);
        control.set(JAVA_INT, hdr + OFF_TYPE, type);
    }
}
