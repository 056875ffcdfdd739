package io.isthmus.control.json;

import java.nio.charset.StandardCharsets;

/**
 * One-shot JSON entry points with QEMU's semantics: {@link #parse} is qobject_from_json() (exactly one
 * value, QEMU's error texts), {@link #write} the compact QDict-ordered form QMP sends.
 */
public final class Json {
    private static final JsonWriter COMPACT = new JsonWriter(false, true);
    private static final JsonWriter PRETTY = new JsonWriter(true, true);
    private static final JsonWriter INSERTION_ORDER = new JsonWriter(false, false);

    private Json() {
    }

    /** Parses exactly one JSON value, as QEMU parses a JSON command-line argument. */
    public static Object parse(String text) throws JsonParseException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        Object[] result = new Object[1];
        JsonParseException[] error = new JsonParseException[1];
        JsonStreamParser p = new JsonStreamParser((value, err) -> {
            if (result[0] != null) {
                result[0] = null;
                error[0] = new JsonParseException("Expecting at most one JSON value");
            }
            if (error[0] != null) {
                return;
            }
            if (err != null) {
                error[0] = err;
            } else {
                result[0] = value;
            }
        });
        // like a C string, input ends at the first NUL
        int len = 0;
        while (len < b.length && b[len] != 0) {
            len++;
        }
        p.feed(b, 0, len);
        p.flush();
        if (error[0] != null) {
            throw error[0];
        }
        if (result[0] == null) {
            throw new JsonParseException("JSON parse error, expecting value");
        }
        return result[0];
    }

    /** Compact QMP form, members in QEMU's order. */
    public static String write(Object value) {
        return COMPACT.write(value);
    }

    /** Pretty QMP form (--monitor ...,pretty=on), members in QEMU's order, '\n' line ends. */
    public static String writePretty(Object value) {
        return PRETTY.write(value);
    }

    /** Compact form keeping the members' insertion order (diagnostics, tests). */
    public static String writeInsertionOrder(Object value) {
        return INSERTION_ORDER.write(value);
    }
}
