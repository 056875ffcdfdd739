package io.isthmus.control.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Random bytes into the JSON stream parser, fed in random chunk sizes: the only outcomes allowed are
 * values and {@link JsonParseException}s (nothing else may escape), the result must not depend on how
 * the input is split, and every value must survive a write/parse round trip (except non-finite
 * doubles, which QEMU writes as {@code inf}/{@code nan}). Under plain JUnit this
 * runs the committed seeds (regression mode); {@code JAZZER_FUZZ=1} fuzzes.
 */
class JsonFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void streamParser(FuzzedDataProvider data) throws Exception {
        int chunk = data.consumeInt(1, 64);
        byte[] input = data.consumeRemainingAsBytes();
        List<Object> whole = collect(input, input.length + 1);
        List<Object> chunked = collect(input, chunk);
        assertEquals(whole, chunked, "result depends on how the input is split");
        for (Object o : whole) {
            if (!(o instanceof String s && s.startsWith("ERR: ")) && finite(o)) {
                String text = Json.write(o);
                assertEquals(text, Json.write(Json.parse(text)), "write/parse round trip");
            }
        }
        try {
            Json.parse(new String(input, StandardCharsets.UTF_8));
        } catch (JsonParseException expected) {
            // refused input is fine
        }
    }

    /**
     * A deterministic random walk over JSON's alphabet (plus control bytes, 0xFF and broken UTF-8), run
     * under plain JUnit: Jazzer 0.24 cannot instrument Java 25 class files, so coverage guidance is
     * weak; this covers the lexer's and parser's corners regardless.
     */
    @org.junit.jupiter.api.Test
    void randomStreamsOnlyYieldValuesOrParseErrors() throws Exception {
        String[] atoms = {"{", "}", "[", "]", ":", ",", "\"", "'", "\\", "\\u", "\\ud83d", "\\ude00", "0", "1",
            "-", ".", "e", "+", "true", "fals", "null", "x", " ", "\n", "\u0001", "\u00ff", "\"a\"", "'b'", "12345678901234567890"};
        byte[][] raw = {{(byte) 0xFF}, {(byte) 0xC3}, {(byte) 0xC3, (byte) 0xA9}, {(byte) 0xC0, (byte) 0x80},
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {0}};
        java.util.Random r = new java.util.Random(7);
        for (int i = 0; i < 20000; i++) {
            java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
            int n = r.nextInt(16);
            for (int j = 0; j < n; j++) {
                if (r.nextInt(8) == 0) {
                    b.write(raw[r.nextInt(raw.length)]);
                } else {
                    b.write(atoms[r.nextInt(atoms.length)].getBytes(StandardCharsets.UTF_8));
                }
            }
            byte[] in = b.toByteArray();
            List<Object> whole = collect(in, in.length + 1);
            assertEquals(whole, collect(in, 1 + r.nextInt(4)));
            for (Object o : whole) {
                if (!(o instanceof String s && s.startsWith("ERR: ")) && finite(o)) {
                    String text = Json.write(o);
                    assertEquals(text, Json.write(Json.parse(text)));
                }
            }
        }
    }

    /** QEMU writes infinite doubles as inf (not JSON), so those values do not round-trip, by design. */
    private static boolean finite(Object o) {
        if (o instanceof Double d) {
            return Double.isFinite(d);
        }
        if (o instanceof java.util.Map<?, ?> m) {
            return m.values().stream().allMatch(JsonFuzzTest::finite);
        }
        if (o instanceof List<?> l) {
            return l.stream().allMatch(JsonFuzzTest::finite);
        }
        return true;
    }

    private static List<Object> collect(byte[] input, int chunk) {
        List<Object> out = new ArrayList<>();
        JsonStreamParser p = new JsonStreamParser((v, e) -> out.add(e != null ? "ERR: " + e.getMessage() : v));
        for (int i = 0; i < input.length; i += chunk) {
            p.feed(input, i, Math.min(chunk, input.length - i));
        }
        p.flush();
        return out;
    }
}
