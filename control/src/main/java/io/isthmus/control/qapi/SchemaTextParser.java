package io.isthmus.control.qapi;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads QEMU's QAPI schema language: a sequence of top-level JSON-like objects with single-quoted
 * strings (double quotes are accepted too), {@code #} comments to end of line, {@code true} and
 * {@code false}. Produces plain values: {@code LinkedHashMap}, {@code ArrayList}, {@code String},
 * {@code Boolean}.
 *
 * <p>The schema files are ours and trusted, so errors are reported as {@link IllegalStateException}
 * with the file name and line; they indicate a broken build, not bad user input.
 */
final class SchemaTextParser {
    private final String file;
    private final String text;
    private int pos;
    private int line = 1;

    private SchemaTextParser(String file, String text) {
        this.file = file;
        this.text = text;
    }

    /** Parses every top-level expression of a schema file, in order. */
    static List<Map<String, Object>> parse(String file, String text) {
        SchemaTextParser p = new SchemaTextParser(file, text);
        List<Map<String, Object>> out = new ArrayList<>();
        while (true) {
            p.skipSpace();
            if (p.pos >= p.text.length()) {
                return out;
            }
            Object v = p.value();
            if (!(v instanceof Map<?, ?>)) {
                throw p.error("top-level expression must be an object");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) v;
            out.add(m);
        }
    }

    private void skipSpace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '#') {
                while (pos < text.length() && text.charAt(pos) != '\n') {
                    pos++;
                }
            } else if (c == '\n') {
                line++;
                pos++;
            } else if (c == ' ' || c == '\t' || c == '\r') {
                pos++;
            } else {
                return;
            }
        }
    }

    private Object value() {
        skipSpace();
        if (pos >= text.length()) {
            throw error("unexpected end of file");
        }
        char c = text.charAt(pos);
        switch (c) {
            case '{' -> {
                pos++;
                Map<String, Object> m = new LinkedHashMap<>();
                skipSpace();
                if (peek() == '}') {
                    pos++;
                    return m;
                }
                while (true) {
                    skipSpace();
                    Object k = value();
                    if (!(k instanceof String key)) {
                        throw error("object key must be a string");
                    }
                    skipSpace();
                    expect(':');
                    Object v = value();
                    if (m.put(key, v) != null) {
                        throw error("duplicate key '" + key + "'");
                    }
                    skipSpace();
                    if (peek() == ',') {
                        pos++;
                        continue;
                    }
                    expect('}');
                    return m;
                }
            }
            case '[' -> {
                pos++;
                List<Object> l = new ArrayList<>();
                skipSpace();
                if (peek() == ']') {
                    pos++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    skipSpace();
                    if (peek() == ',') {
                        pos++;
                        continue;
                    }
                    expect(']');
                    return l;
                }
            }
            case '\'', '"' -> {
                pos++;
                StringBuilder sb = new StringBuilder();
                while (true) {
                    if (pos >= text.length() || text.charAt(pos) == '\n') {
                        throw error("unterminated string");
                    }
                    char d = text.charAt(pos++);
                    if (d == c) {
                        return sb.toString();
                    }
                    if (d == '\\') {
                        if (pos >= text.length()) {
                            throw error("unterminated string");
                        }
                        sb.append(text.charAt(pos++));
                    } else {
                        sb.append(d);
                    }
                }
            }
            default -> {
                if (text.startsWith("true", pos)) {
                    pos += 4;
                    return Boolean.TRUE;
                }
                if (text.startsWith("false", pos)) {
                    pos += 5;
                    return Boolean.FALSE;
                }
                throw error("stray '" + c + "'");
            }
        }
    }

    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\0';
    }

    private void expect(char c) {
        skipSpace();
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private IllegalStateException error(String msg) {
        return new IllegalStateException(file + ":" + line + ": " + msg);
    }
}
