package io.isthmus.control.qapi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code qemu_strtosz} and the integer conversions of the keyval visitor. */
class SizeParsingTest {
    /** Input and the value QEMU 7.2 parses (null = rejected); QsdLiveParityTest checks them live. */
    static final Map<String, String> SIZES = new LinkedHashMap<>();

    static {
        String[][] table = {
            {"100", "100"}, {" 3", "3"}, {"+7", "7"}, {"1.", "1"}, {"1.k", "1024"}, {"1.5k", "1536"},
            {"0.3k", "307"}, {"4k", "4096"}, {"4K", "4096"}, {"2m", "2097152"}, {"1G", "1073741824"},
            {"1t", "1099511627776"}, {"1p", "1125899906842624"}, {"1e", "1152921504606846976"},
            {"15.99E", "18435214858663483136"}, {"16E", null}, {"1e3", null}, {"1.5e1k", null},
            {"0.1b", null}, {"1.5", null}, {"0.4999999b", null}, {"0x", null}, {"0x.5", null},
            {"0x1b", "27"}, {"0x400", "1024"}, {"0x1k", "1024"}, {"1.0000000000000000001k", "1024"},
            {"-1", null}, {"", null}, {"k", null}, {"512b", "512"}, {"512B", "512"}, {"1kb", null},
            {"18446744073709551615", "18446744073709551615"}, {"18446744073709551616", null},
            {"0.5", null}, {"0.5k", "512"}, {".5k", null}, {"1 k", null}, {"1k ", null},
        };
        for (String[] e : table) {
            SIZES.put(e[0], e[1]);
        }
    }

    @Test
    void sizesParseLikeQemu() {
        SIZES.forEach((in, out) -> assertEquals(out == null ? null : new BigInteger(out), QemuNumbers.strtosz(in), in));
    }

    @Test
    void integersParseLikeStrtoll() {
        assertEquals(16L, QemuNumbers.strtoi64("0x10"));
        assertEquals(8L, QemuNumbers.strtoi64("010"));
        assertEquals(-5L, QemuNumbers.strtoi64(" -5"));
        assertEquals(Long.MAX_VALUE, QemuNumbers.strtoi64("9223372036854775807"));
        assertEquals(null, QemuNumbers.strtoi64("9223372036854775808"));
        assertEquals(Long.MIN_VALUE, QemuNumbers.strtoi64("-9223372036854775808"));
        assertEquals(null, QemuNumbers.strtoi64("0x"));
        assertEquals(null, QemuNumbers.strtoi64("08"));
        assertEquals(null, QemuNumbers.strtoi64("1 "));
        assertEquals(null, QemuNumbers.strtoi64(""));
        assertEquals(new BigInteger("18446744073709551615"), QemuNumbers.strtou64("-1"));
        assertEquals(new BigInteger("18446744073709551615"), QemuNumbers.strtou64("0xffffffffffffffff"));
        assertEquals(null, QemuNumbers.strtou64("0x10000000000000000"));
        assertEquals(BigInteger.ONE, QemuNumbers.strtou64("-18446744073709551615"));
        assertEquals(Boolean.TRUE, QemuNumbers.parseBool("y"));
        assertEquals(Boolean.FALSE, QemuNumbers.parseBool("n"));
        assertEquals(null, QemuNumbers.parseBool("On"));
    }
}
