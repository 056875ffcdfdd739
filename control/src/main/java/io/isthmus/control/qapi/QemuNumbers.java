package io.isthmus.control.qapi;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * QEMU's string-to-number conversions as its keyval input visitor uses them (util/cutils.c):
 * {@code qemu_strtoi64} and {@code qemu_strtou64} (C {@code strtoll}/{@code strtoull} with base 0:
 * leading white space, sign, {@code 0x} hex and {@code 0} octal prefixes, nothing after the number;
 * {@code strtoull} wraps negative numbers), {@code qemu_strtosz} (sizes with optional fraction and
 * one of the suffixes B, K, M, G, T, P, E in either case) and {@code qapi_bool_parse}.
 *
 * <p>Each method returns {@code null} when QEMU's function fails (EINVAL or ERANGE); the caller
 * reports QEMU's message.
 */
public final class QemuNumbers {
    static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);
    static final BigInteger U64_MAX = TWO_64.subtract(BigInteger.ONE);
    private static final BigInteger I64_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger I64_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private QemuNumbers() {}

    /** {@code qemu_strtoi64(s, NULL, 0, &v)}. */
    public static Long strtoi64(String s) {
        Parsed p = parseC(s, 0, 0);
        if (p == null || p.end != s.length()) {
            return null;
        }
        BigInteger v = p.negative ? p.magnitude.negate() : p.magnitude;
        if (v.compareTo(I64_MIN) < 0 || v.compareTo(I64_MAX) > 0) {
            return null;
        }
        return v.longValue();
    }

    /** {@code qemu_strtou64(s, NULL, 0, &v)}; the result is in [0, 2^64). */
    public static BigInteger strtou64(String s) {
        Parsed p = parseC(s, 0, 0);
        if (p == null || p.end != s.length()) {
            return null;
        }
        return unsignedValue(p);
    }

    private static BigInteger unsignedValue(Parsed p) {
        if (p.magnitude.compareTo(U64_MAX) > 0) {
            return null;
        }
        return p.negative && p.magnitude.signum() != 0 ? TWO_64.subtract(p.magnitude) : p.magnitude;
    }

    /** {@code qapi_bool_parse}: on/yes/true/y and off/no/false/n. */
    public static Boolean parseBool(String s) {
        return switch (s) {
            case "on", "yes", "true", "y" -> Boolean.TRUE;
            case "off", "no", "false", "n" -> Boolean.FALSE;
            default -> null;
        };
    }

    /** {@code qemu_strtod_finite(s, NULL, &v)} for decimal input. */
    public static Double strtodFinite(String s) {
        int end = decimalFloatEnd(s, skipSpace(s, 0));
        if (end < 0 || end != s.length()) {
            return null;
        }
        double d = Double.parseDouble(s.substring(skipSpace(s, 0), end));
        return Double.isFinite(d) ? d : null;
    }

    /** {@code qemu_strtosz(s, NULL, &v)}: a byte count in [0, 2^64), or null. */
    public static BigInteger strtosz(String s) {
        Parsed p = parseC(s, 0, 10);
        if (p == null) {
            return null;
        }
        BigInteger val = unsignedValue(p);
        if (val == null || s.substring(0, p.end).indexOf('-') >= 0) {
            return null;
        }
        int end = p.end;
        BigInteger valf = BigInteger.ZERO;
        if (val.signum() == 0 && end < s.length() && (s.charAt(end) == 'x' || s.charAt(end) == 'X')) {
            // Looks like hex: reparse, and insist on no fraction.
            p = parseC(s, 0, 16);
            if (p == null) {
                return null;
            }
            val = unsignedValue(p);
            if (val == null) {
                return null;
            }
            end = p.end;
            if (end < s.length() && s.charAt(end) == '.') {
                return null;
            }
        } else if (end < s.length() && s.charAt(end) == '.') {
            int fracEnd = decimalFloatEnd(s, end);
            if (fracEnd < 0) {
                end++; // "1.k" is 1 KiB: the '.' alone is skipped
            } else {
                String frac = s.substring(end, fracEnd);
                if (frac.indexOf('e') >= 0 || frac.indexOf('E') >= 0) {
                    return null;
                }
                double fraction = Double.parseDouble(frac);
                valf = new BigDecimal(fraction).multiply(new BigDecimal(TWO_64)).toBigInteger();
                end = fracEnd;
            }
        }
        long mul = end < s.length() ? suffixMul(s.charAt(end)) : -1;
        if (mul > 0) {
            end++;
        } else {
            mul = 1;
        }
        if (end != s.length()) {
            return null;
        }
        if (mul == 1) {
            return valf.signum() != 0 ? null : val;
        }
        BigInteger m = BigInteger.valueOf(mul);
        BigInteger total = val.multiply(m).shiftLeft(64).add(valf.multiply(m));
        BigInteger result = total.shiftRight(64).add(total.testBit(63) ? BigInteger.ONE : BigInteger.ZERO);
        return result.compareTo(U64_MAX) > 0 ? null : result;
    }

    private static long suffixMul(char c) {
        return switch (Character.toUpperCase(c)) {
            case 'B' -> 1L;
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            case 'T' -> 1L << 40;
            case 'P' -> 1L << 50;
            case 'E' -> 1L << 60;
            default -> -1L;
        };
    }

    private record Parsed(boolean negative, BigInteger magnitude, int end) {}

    private static boolean isCSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0b || c == '\f' || c == '\r';
    }

    private static int skipSpace(String s, int i) {
        while (i < s.length() && isCSpace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /**
     * C strtoull/strtoll digit scanning from {@code start} with {@code base} 0, 10 or 16. Returns
     * null when no digits were found (EINVAL); {@code end} is where parsing stopped.
     */
    private static Parsed parseC(String s, int start, int base) {
        int i = skipSpace(s, start);
        boolean neg = false;
        if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            neg = s.charAt(i) == '-';
            i++;
        }
        boolean hexPrefix = i + 2 < s.length() && s.charAt(i) == '0'
                && (s.charAt(i + 1) == 'x' || s.charAt(i + 1) == 'X')
                && Character.digit(s.charAt(i + 2), 16) >= 0;
        if (base == 0) {
            if (hexPrefix) {
                base = 16;
                i += 2;
            } else if (i < s.length() && s.charAt(i) == '0') {
                base = 8;
            } else {
                base = 10;
            }
        } else if (base == 16 && hexPrefix) {
            i += 2;
        }
        int digitsStart = i;
        BigInteger mag = BigInteger.ZERO;
        BigInteger b = BigInteger.valueOf(base);
        while (i < s.length()) {
            int d = digit(s.charAt(i), base);
            if (d < 0) {
                break;
            }
            mag = mag.multiply(b).add(BigInteger.valueOf(d));
            i++;
        }
        if (i == digitsStart) {
            return null;
        }
        return new Parsed(neg, mag, i);
    }

    private static int digit(char c, int base) {
        if (c > 0x7f) {
            return -1;
        }
        return Character.digit(c, base);
    }

    /** End of the longest prefix of s (from i) that strtod reads as a decimal number, or -1. */
    private static int decimalFloatEnd(String s, int i) {
        int n = s.length();
        if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            i++;
        }
        int digits = 0;
        while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
            digits++;
        }
        if (i < n && s.charAt(i) == '.') {
            i++;
            while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
                digits++;
            }
        }
        if (digits == 0) {
            return -1;
        }
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            int j = i + 1;
            if (j < n && (s.charAt(j) == '+' || s.charAt(j) == '-')) {
                j++;
            }
            int expDigits = 0;
            while (j < n && s.charAt(j) >= '0' && s.charAt(j) <= '9') {
                j++;
                expDigits++;
            }
            if (expDigits > 0) {
                i = j;
            }
        }
        return i;
    }
}
