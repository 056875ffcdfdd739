package io.isthmus.control.json;

/**
 * QEMU's "modified UTF-8" rules (util/unicode.c): what the JSON parser accepts inside strings and how
 * raw bytes become text in error messages.
 *
 * <p>Differences from strict UTF-8 that matter for compatibility: {@code C0 80} encodes U+0000,
 * noncharacters (U+FDD0..U+FDEF, U+xxFFFE/F) and surrogate code points are invalid, and an invalid
 * sequence counts as one unit ending at the first byte that is not a continuation byte.
 */
public final class ModUtf8 {
    private static final int[] MIN_CP = {0x80, 0x800, 0x10000, 0x200000, 0x4000000};

    private ModUtf8() {
    }

    /** True for what QEMU's is_valid_codepoint() accepts. */
    public static boolean isValidCodepoint(int cp) {
        if (cp < 0 || cp > 0x10FFFF) {
            return false;
        }
        if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) {
            return false;
        }
        return cp < 0xD800 || cp > 0xDFFF;
    }

    /**
     * Decodes one code point at {@code pos} (bytes past {@code end} read as NUL, like a C string).
     * Returns {@code cp | (length << 32)}, with cp = -1 for an invalid sequence; length is at least 1
     * unless the byte at pos is NUL or pos >= end (then 0).
     */
    public static long decode(byte[] s, int pos, int end) {
        if (pos >= end || s[pos] == 0) {
            return pack(-1, 0);
        }
        int p = pos;
        int b = s[p++] & 0xFF;
        int cp;
        if (b < 0x80) {
            cp = b;
        } else if (b >= 0xFE) {
            cp = -1;
        } else if ((b & 0x40) == 0) {
            cp = -1;
        } else {
            int len = 0;
            int mask;
            for (mask = 0x80; (b & mask) != 0; mask >>= 1) {
                len++;
            }
            cp = b & (mask - 1);
            for (int i = 1; i < len; i++) {
                int c = p < end ? s[p] & 0xFF : 0;
                if ((c & 0xC0) != 0x80) {
                    return pack(-1, p - pos);
                }
                p++;
                cp = (cp << 6) | (c & 0x3F);
            }
            if (!isValidCodepoint(cp)) {
                cp = -1;
            } else if (cp < MIN_CP[len - 2] && !(cp == 0 && len == 2)) {
                cp = -1;
            }
        }
        return pack(cp, p - pos);
    }

    private static long pack(int cp, int len) {
        return (cp & 0xFFFFFFFFL) | ((long) len << 32);
    }

    public static int codepoint(long packed) {
        return (int) packed;
    }

    public static int length(long packed) {
        return (int) (packed >>> 32);
    }

    /**
     * Text of raw bytes as QEMU would print them through a JSON string: stops at the first NUL (C
     * string), each invalid sequence becomes U+FFFD.
     */
    public static String lenientString(byte[] s, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from);
        int p = from;
        while (p < to && s[p] != 0) {
            long r = decode(s, p, to);
            int cp = codepoint(r);
            sb.appendCodePoint(cp < 0 ? 0xFFFD : cp);
            p += Math.max(1, length(r));
        }
        return sb.toString();
    }
}
