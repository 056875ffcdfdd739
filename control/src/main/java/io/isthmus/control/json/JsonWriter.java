package io.isthmus.control.json;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;

/**
 * Serialises control values the way QEMU's qobject writer does (qobject/qjson.c): {@code ": "} after
 * keys, {@code ", "} between members, ASCII only (everything outside 0x20..0x7E escaped as
 * {@code \\uXXXX} with upper-case hex, surrogate pairs beyond the BMP), doubles as C's {@code %.17g},
 * and in pretty mode a newline plus four spaces per level before every member and closing bracket.
 *
 * <p>Objects are written in QEMU's QDict iteration order ({@link QDictOrder}) unless the writer was made
 * with {@code qdictOrder=false}, which keeps insertion order.
 */
public final class JsonWriter {
    private final boolean pretty;
    private final boolean qdictOrder;

    public JsonWriter(boolean pretty, boolean qdictOrder) {
        this.pretty = pretty;
        this.qdictOrder = qdictOrder;
    }

    public String write(Object value) {
        StringBuilder sb = new StringBuilder(128);
        write(sb, value, 0);
        return sb.toString();
    }

    public void write(StringBuilder sb, Object value, int indent) {
        switch (value) {
            case null -> throw new IllegalArgumentException("absent value cannot be serialised");
            case JsonNull n -> sb.append("null");
            case Boolean b -> sb.append(b ? "true" : "false");
            case String s -> quote(sb, s);
            case Long l -> sb.append(l.longValue());
            case Integer i -> sb.append(i.intValue());
            case BigInteger b -> sb.append(b);
            case Double d -> sb.append(formatDouble(d));
            case Map<?, ?> m -> writeObject(sb, m, indent);
            case List<?> l -> writeArray(sb, l, indent);
            default -> throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
        }
    }

    @SuppressWarnings("unchecked")
    private void writeObject(StringBuilder sb, Map<?, ?> m, int indent) {
        sb.append('{');
        Map<String, Object> map = (Map<String, Object>) m;
        Iterable<Map.Entry<String, Object>> entries = qdictOrder ? QDictOrder.entries(map) : map.entrySet();
        boolean first = true;
        for (Map.Entry<String, Object> e : entries) {
            if (!first) {
                sb.append(pretty ? "," : ", ");
            }
            first = false;
            newline(sb, indent + 1);
            quote(sb, e.getKey());
            sb.append(": ");
            write(sb, e.getValue(), indent + 1);
        }
        newline(sb, indent);
        sb.append('}');
    }

    private void writeArray(StringBuilder sb, List<?> list, int indent) {
        sb.append('[');
        boolean first = true;
        for (Object o : list) {
            if (!first) {
                sb.append(pretty ? "," : ", ");
            }
            first = false;
            newline(sb, indent + 1);
            write(sb, o, indent + 1);
        }
        newline(sb, indent);
        sb.append(']');
    }

    private void newline(StringBuilder sb, int indent) {
        if (pretty) {
            sb.append('\n');
            sb.repeat(' ', indent * 4);
        }
    }

    /** Appends s as a JSON string literal with QEMU's escaping. */
    public static void quote(StringBuilder sb, String s) {
        sb.append('"');
        int n = s.length();
        for (int i = 0; i < n; ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            switch (cp) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (cp >= 0xD800 && cp <= 0xDFFF) {
                        cp = 0xFFFD; // a lone surrogate cannot come from valid input
                    }
                    if (cp > 0xFFFF) {
                        hex4(sb, 0xD800 + ((cp - 0x10000) >> 10));
                        hex4(sb, 0xDC00 + ((cp - 0x10000) & 0x3FF));
                    } else if (cp < 0x20 || cp >= 0x7F) {
                        hex4(sb, cp);
                    } else {
                        sb.append((char) cp);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static void hex4(StringBuilder sb, int v) {
        sb.append("\\u");
        String h = Integer.toHexString(v).toUpperCase(java.util.Locale.ROOT);
        sb.repeat('0', 4 - h.length());
        sb.append(h);
    }

    /** C's {@code printf("%.17g", d)}, which QEMU uses for every double. */
    public static String formatDouble(double d) {
        if (Double.isNaN(d)) {
            return (Double.doubleToRawLongBits(d) < 0) ? "-nan" : "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (Double.doubleToRawLongBits(d) < 0) ? "-0" : "0";
        }
        final int precision = 17;
        BigDecimal bd = new BigDecimal(d).round(new MathContext(precision, RoundingMode.HALF_EVEN));
        int exp = bd.precision() - bd.scale() - 1;
        String digits = bd.unscaledValue().abs().toString();
        // pad digits to the full precision (trailing zeros are stripped below anyway)
        StringBuilder mant = new StringBuilder(digits);
        while (mant.length() < precision) {
            mant.append('0');
        }
        StringBuilder out = new StringBuilder(32);
        if (bd.signum() < 0) {
            out.append('-');
        }
        if (exp < -4 || exp >= precision) {
            out.append(mant.charAt(0));
            String frac = stripZeros(mant.substring(1));
            if (!frac.isEmpty()) {
                out.append('.').append(frac);
            }
            out.append('e').append(exp < 0 ? '-' : '+');
            int a = Math.abs(exp);
            if (a < 10) {
                out.append('0');
            }
            out.append(a);
        } else if (exp >= 0) {
            out.append(mant, 0, exp + 1);
            String frac = stripZeros(mant.substring(exp + 1));
            if (!frac.isEmpty()) {
                out.append('.').append(frac);
            }
        } else {
            out.append("0.");
            out.repeat('0', -exp - 1);
            out.append(stripZeros(mant.substring(0, precision)));
        }
        return out.toString();
    }

    private static String stripZeros(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '0') {
            end--;
        }
        return s.substring(0, end);
    }
}
