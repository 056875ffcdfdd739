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
 * <p>Not recursive: nesting (bounded by the streamer's limit of 1024) costs heap, not thread stack.
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

    /** An open array or object while its members are parsed. */
    private static final class Frame {
        final ArrayList<Object> list;
        final LinkedHashMap<String, Object> dict;
        String key;           // dict: the key whose value is being parsed, null while a key is expected

        Frame(ArrayList<Object> list, LinkedHashMap<String, Object> dict) {
            this.list = list;
            this.dict = dict;
        }
    }

    /**
     * Parses one value. Iterative, with an explicit stack of open containers, so that nesting costs heap and
     * not thread stack (an IoThread or monitor thread runs with a small stack). The first error stops the
     * parse; the messages and the order in which errors are found are those of QEMU's recursive parser.
     */
    private Object parseValue() {
        ArrayList<Frame> stack = new ArrayList<>();
        Object value;
        needValue:
        while (true) {
            JsonToken t = peek();
            if (t == null) {
                fail("premature EOI");
                return null;
            }
            switch (t.type()) {
                case JsonLexer.LCURLY -> {
                    pop();
                    JsonToken next = peek();
                    if (next == null) {
                        fail("premature EOI");
                        return null;
                    }
                    if (next.type() != JsonLexer.RCURLY) {
                        stack.add(new Frame(null, new LinkedHashMap<>()));
                        continue needValue; // the first key
                    }
                    pop();
                    value = new LinkedHashMap<String, Object>();
                }
                case JsonLexer.LSQUARE -> {
                    pop();
                    JsonToken next = peek();
                    if (next == null) {
                        fail("premature EOI");
                        return null;
                    }
                    if (next.type() != JsonLexer.RSQUARE) {
                        stack.add(new Frame(new ArrayList<>(), null));
                        continue needValue; // the first element
                    }
                    pop();
                    value = new ArrayList<Object>();
                }
                case JsonLexer.INTEGER, JsonLexer.FLOAT, JsonLexer.STRING -> value = parseLiteral();
                case JsonLexer.KEYWORD -> value = parseKeyword();
                default -> {
                    fail("expecting value");
                    return null;
                }
            }
            if (value == null) {
                return null; // error already recorded
            }
            // a complete value: hand it to the innermost open container, closing containers as they end
            while (!stack.isEmpty()) {
                Frame f = stack.getLast();
                if (f.list != null) {
                    f.list.add(value);
                    JsonToken sep = pop();
                    if (sep == null) {
                        fail("premature EOI");
                        return null;
                    }
                    if (sep.type() == JsonLexer.RSQUARE) {
                        stack.removeLast();
                        value = f.list;
                        continue;
                    }
                    if (sep.type() != JsonLexer.COMMA) {
                        fail("expected separator in list");
                        return null;
                    }
                    continue needValue;
                }
                if (f.key == null) {
                    if (!(value instanceof String k)) {
                        fail("key is not a string in object");
                        return null;
                    }
                    JsonToken colon = pop();
                    if (colon == null) {
                        fail("premature EOI");
                        return null;
                    }
                    if (colon.type() != JsonLexer.COLON) {
                        fail("missing : in object pair");
                        return null;
                    }
                    f.key = k;
                    continue needValue;
                }
                if (f.dict.containsKey(f.key)) {
                    fail("duplicate key");
                    return null;
                }
                f.dict.put(f.key, value);
                f.key = null;
                JsonToken sep = pop();
                if (sep == null) {
                    fail("premature EOI");
                    return null;
                }
                if (sep.type() == JsonLexer.RCURLY) {
                    stack.removeLast();
                    value = f.dict;
                    continue;
                }
                if (sep.type() != JsonLexer.COMMA) {
                    fail("expected separator in dict");
                    return null;
                }
                if (peek() == null) {
                    fail("premature EOI");
                    return null;
                }
                continue needValue;
            }
            return value;
        }
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
