package io.isthmus.control.json;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Builds a value from the tokens of one complete top-level JSON text, with QEMU's grammar and error
 * texts (qobject/json-parser.c): the first error found wins, and its message is the one QEMU reports
 * ({@code JSON parse error, expecting value}, {@code ... missing : in object pair}, ...).
 *
 * <p>Recursion depth is bounded by the streamer's nesting limit (1024).
 */
final class JsonTokenParser {
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private final List<JsonToken> tokens;
    private int pos;
    private String error;

    private JsonTokenParser(List<JsonToken> tokens) {
        this.tokens = tokens;
    }

    /** Parses the tokens; returns the value, or throws with QEMU's message. */
    static Object parse(List<JsonToken> tokens) throws JsonParseException {
        JsonTokenParser p = new JsonTokenParser(tokens);
        Object v = p.parseValue();
        if (p.error != null) {
            throw new JsonParseException(p.error);
        }
        if (v == null) {
            throw new JsonParseException("JSON parse error, expecting value");
        }
        return v;
    }

    private JsonToken peek() {
        return pos < tokens.size() ? tokens.get(pos) : null;
    }

    private JsonToken pop() {
        return pos < tokens.size() ? tokens.get(pos++) : null;
    }

    private void fail(String message) {
        if (error == null) {
            error = "JSON parse error, " + message;
        }
    }

    private Object parseValue() {
        JsonToken t = peek();
        if (t == null) {
            fail("premature EOI");
            return null;
        }
        return switch (t.type()) {
            case JsonLexer.LCURLY -> parseObject();
            case JsonLexer.LSQUARE -> parseArray();
            case JsonLexer.INTEGER, JsonLexer.FLOAT, JsonLexer.STRING -> parseLiteral();
            case JsonLexer.KEYWORD -> parseKeyword();
            default -> {
                fail("expecting value");
                yield null;
            }
        };
    }

    private Object parseObject() {
        pop();
        LinkedHashMap<String, Object> dict = new LinkedHashMap<>();
        JsonToken t = peek();
        if (t == null) {
            fail("premature EOI");
            return null;
        }
        if (t.type() == JsonLexer.RCURLY) {
            pop();
            return dict;
        }
        if (!parsePair(dict)) {
            return null;
        }
        t = pop();
        if (t == null) {
            fail("premature EOI");
            return null;
        }
        while (t.type() != JsonLexer.RCURLY) {
            if (t.type() != JsonLexer.COMMA) {
                fail("expected separator in dict");
                return null;
            }
            if (!parsePair(dict)) {
                return null;
            }
            t = pop();
            if (t == null) {
                fail("premature EOI");
                return null;
            }
        }
        return dict;
    }

    private boolean parsePair(LinkedHashMap<String, Object> dict) {
        if (peek() == null) {
            fail("premature EOI");
            return false;
        }
        Object key = parseValue();
        if (!(key instanceof String k)) {
            fail("key is not a string in object");
            return false;
        }
        JsonToken t = pop();
        if (t == null) {
            fail("premature EOI");
            return false;
        }
        if (t.type() != JsonLexer.COLON) {
            fail("missing : in object pair");
            return false;
        }
        Object value = parseValue();
        if (value == null) {
            fail("Missing value in dict");
            return false;
        }
        if (dict.containsKey(k)) {
            fail("duplicate key");
            return false;
        }
        dict.put(k, value);
        return true;
    }

    private Object parseArray() {
        pop();
        ArrayList<Object> list = new ArrayList<>();
        JsonToken t = peek();
        if (t == null) {
            fail("premature EOI");
            return null;
        }
        if (t.type() == JsonLexer.RSQUARE) {
            pop();
            return list;
        }
        Object v = parseValue();
        if (v == null) {
            fail("expecting value");
            return null;
        }
        list.add(v);
        t = pop();
        if (t == null) {
            fail("premature EOI");
            return null;
        }
        while (t.type() != JsonLexer.RSQUARE) {
            if (t.type() != JsonLexer.COMMA) {
                fail("expected separator in list");
                return null;
            }
            v = parseValue();
            if (v == null) {
                fail("expecting value");
                return null;
            }
            list.add(v);
            t = pop();
            if (t == null) {
                fail("premature EOI");
                return null;
            }
        }
        return list;
    }

    private Object parseKeyword() {
        JsonToken t = pop();
        String s = new String(t.text(), java.nio.charset.StandardCharsets.US_ASCII);
        return switch (s) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            case "null" -> JsonNull.NULL;
            default -> {
                fail("invalid keyword '" + s + "'");
                yield null;
            }
        };
    }

    private Object parseLiteral() {
        JsonToken t = pop();
        if (t.type() == JsonLexer.STRING) {
            return parseString(t.text());
        }
        String s = new String(t.text(), java.nio.charset.StandardCharsets.US_ASCII);
        if (t.type() == JsonLexer.INTEGER) {
            // Like QEMU: int64 if it fits, uint64 above that, else a double.
            if (s.charAt(0) != '-') {
                BigInteger b = new BigInteger(s);
                if (b.bitLength() < 64) {
                    return b.longValue();
                }
                if (b.compareTo(UINT64_MAX) <= 0) {
                    return b;
                }
            } else {
                try {
                    return Long.parseLong(s);
                } catch (NumberFormatException e) {
                    // out of range: fall through to double
                }
            }
        }
        return Double.parseDouble(s);
    }

    private String parseString(byte[] s) {
        int quote = s[0];
        int end = s.length;
        StringBuilder sb = new StringBuilder(end);
        int p = 1;
        while (p < end && s[p] != quote) {
            if (s[p] == '\\') {
                int beg = p++;
                int c = p < end ? s[p++] : 0;
                switch (c) {
                    case '"' -> sb.append('"');
                    case '\'' -> sb.append('\'');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        int cp = hex4(s, p);
                        p += 4;
                        if (cp >= 0xD800 && cp <= 0xDBFF && at(s, p) == '\\' && at(s, p + 1) == 'u') {
                            cp = 0x10000 + ((cp & 0x3FF) << 10);
                            int trailing = hex4(s, p + 2);
                            if (trailing >= 0xDC00 && trailing <= 0xDFFF) {
                                cp |= trailing & 0x3FF;
                                p += 6;
                            } else {
                                cp = -1;
                            }
                        }
                        if (!ModUtf8.isValidCodepoint(cp)) {
                            // QEMU prints the escape with %.*s: it stops at the end of the token text.
                            int stop = Math.min(p, end);
                            fail(ModUtf8.lenientString(s, beg, stop) + " is not a valid Unicode character");
                            return null;
                        }
                        sb.appendCodePoint(cp);
                    }
                    default -> {
                        fail("invalid escape sequence in string");
                        return null;
                    }
                }
            } else {
                long r = ModUtf8.decode(s, p, end);
                int cp = ModUtf8.codepoint(r);
                if (cp < 0) {
                    fail("invalid UTF-8 sequence in string");
                    return null;
                }
                sb.appendCodePoint(cp);
                p += ModUtf8.length(r);
            }
        }
        return sb.toString();
    }

    private static int at(byte[] s, int i) {
        return i < s.length ? s[i] : 0;
    }

    private static int hex4(byte[] s, int p) {
        int cp = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(at(s, p + i), 16);
            if (d < 0) {
                return -1;
            }
            cp = (cp << 4) | d;
        }
        return cp;
    }
}
