package io.isthmus.control.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parser and writer against QEMU 7.2's behaviour (observed with qemu-storage-daemon). */
class JsonParserTest {
    /** Feeds the bytes in the given chunk sizes; returns values and "ERR: text" entries. */
    static List<String> stream(byte[] in, int chunk) {
        List<String> out = new ArrayList<>();
        JsonStreamParser p = new JsonStreamParser((v, e) -> out.add(e != null ? "ERR: " + e.getMessage()
                : Json.writeInsertionOrder(v)));
        for (int i = 0; i < in.length; i += chunk) {
            p.feed(in, i, Math.min(chunk, in.length - i));
        }
        return out;
    }

    static List<String> stream(String s) {
        List<String> whole = stream(s.getBytes(StandardCharsets.UTF_8), Integer.MAX_VALUE);
        assertEquals(whole, stream(s.getBytes(StandardCharsets.UTF_8), 1), "byte-by-byte feeding gives the same");
        return whole;
    }

    @Test
    void concatenatedAndSplit() {
        assertEquals(List.of("{\"a\": 1}", "{\"b\": [true, false, null]}"),
                stream("{\"a\":1}{\"b\":[true,false,null]}"));
        assertEquals(List.of("{\"execute\": \"x\"}"), stream("  {'execute':\n'x'}\r\n"));
        assertEquals(List.of("\"it's\""), stream("'it\\'s' "));
    }

    @Test
    void numbers() throws Exception {
        assertEquals(9223372036854775807L, Json.parse("9223372036854775807"));
        assertEquals(new BigInteger("18446744073709551615"), Json.parse("18446744073709551615"));
        assertEquals(1.8446744073709552E19, Json.parse("18446744073709551616"));
        assertEquals(-9.223372036854775809E18, Json.parse("-9223372036854775809"));
        assertEquals(Double.POSITIVE_INFINITY, Json.parse("1e999"));
        assertEquals(-0.0, Json.parse("-0.0"));
    }

    @Test
    void errorsAreQemus() {
        assertEquals(List.of("ERR: JSON parse error, expecting value"), stream("{\"execute\": }"));
        assertEquals(List.of("ERR: JSON parse error, missing : in object pair"), stream("{\"a\" 1}"));
        assertEquals(List.of("ERR: JSON parse error, expected separator in list"), stream("[1 2]"));
        assertEquals(List.of("ERR: JSON parse error, duplicate key"), stream("{\"a\":1,\"a\":2}"));
        assertEquals(List.of("ERR: JSON parse error, stray '@'", "ERR: JSON parse error, expecting value"),
                stream("{\"a\": @}"));
        assertEquals(List.of("ERR: JSON parse error, stray '\"abc\u0001'", "ERR: JSON parse error, expecting value"),
                stream("{\"execute\": \"abc\u0001def\"}"));
        assertEquals(List.of("ERR: JSON parse error, invalid keyword 'tru'"), stream("tru "));
        assertEquals(List.of("ERR: JSON parse error, \\u12\" is not a valid Unicode character"), stream("\"\\u12\""));
        assertEquals(List.of("ERR: JSON parse error, invalid UTF-8 sequence in string"),
                stream(new byte[] {'"', (byte) 0xEF, (byte) 0xBF, (byte) 0xBE, '"'}, 1));
        assertEquals(List.of("\"\\u0000\""), stream(new byte[] {'"', (byte) 0xC0, (byte) 0x80, '"'}, 1));
        assertEquals(List.of("ERR: JSON parse error, stray '\uFFFD'"), stream(new byte[] {(byte) 0xFF}, 1));
    }

    @Test
    void nestingLimit() {
        String ok = "[".repeat(1024) + "]".repeat(1024);
        assertEquals(1, stream(ok).size());
        List<String> bad = stream("[".repeat(1025) + "]");
        assertEquals(List.of("ERR: JSON nesting depth limit exceeded", "ERR: JSON parse error, expecting value"), bad);
    }

    @Test
    void oneShotParse() {
        JsonParseException e = assertThrows(JsonParseException.class, () -> Json.parse("{} {}"));
        assertEquals("Expecting at most one JSON value", e.getMessage());
        e = assertThrows(JsonParseException.class, () -> Json.parse("{\"a\":"));
        assertEquals("JSON parse error, premature EOI", e.getMessage());
        e = assertThrows(JsonParseException.class, () -> Json.parse(""));
        assertEquals("JSON parse error, expecting value", e.getMessage());
    }

    @Test
    void writerFormatsLikeQemu() {
        Map<String, Object> qemu = new LinkedHashMap<>();
        qemu.put("major", 7L);
        qemu.put("minor", 2L);
        qemu.put("micro", 22L);
        assertEquals("{\"micro\": 22, \"minor\": 2, \"major\": 7}", Json.write(qemu));
        Map<String, Object> rsp = new LinkedHashMap<>();
        rsp.put("error", Map.of("class", "GenericError"));
        rsp.put("id", 1L);
        assertEquals("{\"id\": 1, \"error\": {\"class\": \"GenericError\"}}", Json.write(rsp));
        assertEquals("{\n    \"a\": [\n        1,\n        {\n        }\n    ]\n}",
                Json.writePretty(Map.of("a", List.of(1L, Map.of()))));
        assertEquals("\"\\u00E9\\uD83D\\uDE00\\u007F/\\\"\\\\\\b\\f\\n\\r\\t\\u0001\"",
                Json.write("é😀\u007f/\"\\\b\f\n\r\t\u0001"));
        assertEquals("0.10000000000000001", JsonWriter.formatDouble(0.1));
        assertEquals("1.5", JsonWriter.formatDouble(1.5));
        assertEquals("100", JsonWriter.formatDouble(100.0));
        assertEquals("1.8446744073709552e+19", JsonWriter.formatDouble(1.8446744073709552E19));
        assertEquals("-9.2233720368547758e+18", JsonWriter.formatDouble(-9.223372036854775809E18));
        // expected values printed by glibc's printf("%.17g")
        assertEquals("9.9999999999999995e-08", JsonWriter.formatDouble(1e-7));
        assertEquals("4.9406564584124654e-324", JsonWriter.formatDouble(Double.MIN_VALUE));
        assertEquals("1.7976931348623157e+308", JsonWriter.formatDouble(Double.MAX_VALUE));
        assertEquals("2.5000000000000001e-05", JsonWriter.formatDouble(2.5e-5));
        assertEquals("0.0001", JsonWriter.formatDouble(1e-4));
        assertEquals("1e+100", JsonWriter.formatDouble(1e100));
        assertEquals("inf", JsonWriter.formatDouble(Double.POSITIVE_INFINITY));
        assertEquals("-0", JsonWriter.formatDouble(-0.0));
        assertEquals("12345678901234568", JsonWriter.formatDouble(12345678901234567.0));
        assertEquals("1.2345678901234568e+17", JsonWriter.formatDouble(123456789012345678.0));
    }
}
