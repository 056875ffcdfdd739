package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.StructLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checker itself: with probe output for struct flock (as gcc on x86-64 reports it), the real layout
 * passes, and a copy changed by one byte, a missing field, a missing struct, a wrong constant and a wrong
 * bitfield each fail. No gcc needed: the probe lines are given.
 */
class LayoutCheckerTest {
    static final LayoutProbe PROBE = LayoutProbe.parse(List.of(
            "struct flock 32",
            "field flock.l_type 0 2",
            "field flock.l_whence 2 2",
            "field flock.l_start 8 8",
            "field flock.l_len 16 8",
            "field flock.l_pid 24 4",
            "bit fuse_file_info.direct_io 33 1",
            "const F_OFD_SETLK 37",
            "const BLKGETSIZE64 2148012658"));

    /** The real layout, and copies of it broken in one place each. */
    public static final class Good {
        public static final StructLayout flock = Fcntl.flock;
        public static final int F_OFD_SETLK = 37;
        public static final long BLKGETSIZE64 = 0x80081272L;
        public static final Bitfield direct_io = new Bitfield("fuse_file_info", "direct_io", 33, 1);
        @Derived public static final int NOT_A_C_CONSTANT = 5;
    }

    public static final class PaddingShiftedByOneByte {
        // the padding after l_whence is 4 bytes in C; here l_whence is followed by 5 (l_start unaligned at 9)
        public static final StructLayout flock = structLayout(
                JAVA_SHORT.withName("l_type"),
                JAVA_SHORT.withName("l_whence"),
                paddingLayout(5),
                JAVA_LONG.withByteAlignment(1).withName("l_start"),
                JAVA_LONG.withByteAlignment(1).withName("l_len"),
                JAVA_INT.withByteAlignment(1).withName("l_pid"),
                paddingLayout(3)
        ).withName("flock");
    }

    public static final class TrailingPaddingForgotten {
        public static final StructLayout flock = structLayout(
                JAVA_SHORT.withName("l_type"), JAVA_SHORT.withName("l_whence"), paddingLayout(4),
                JAVA_LONG.withName("l_start"), JAVA_LONG.withName("l_len"), JAVA_INT.withName("l_pid")
        ).withName("flock");
    }

    public static final class UnknownField {
        public static final StructLayout flock = structLayout(
                JAVA_SHORT.withName("l_type"), JAVA_SHORT.withName("l_whence"), paddingLayout(4),
                JAVA_LONG.withName("l_start"), JAVA_LONG.withName("l_length"), JAVA_INT.withName("l_pid"),
                paddingLayout(4)
        ).withName("flock");
    }

    public static final class NoProbeEntry {
        public static final StructLayout flock64 = structLayout(JAVA_LONG.withName("x")).withName("flock64");
        public static final StructLayout unnamed = structLayout(JAVA_LONG.withName("x"));
    }

    public static final class WrongValues {
        public static final int F_OFD_SETLK = 38;
        public static final int F_NOT_IN_PROBE = 1;
        public static final Bitfield direct_io = new Bitfield("fuse_file_info", "direct_io", 34, 1);
        public static final Bitfield keep_cache = new Bitfield("fuse_file_info", "keep_cache", 34, 1);
    }

    private static List<String> check(Class<?> c) throws Exception {
        return new LayoutChecker(PROBE).checkClasses(List.of(c)).errors();
    }

    @Test
    void theRealLayoutPasses() throws Exception {
        LayoutChecker ch = new LayoutChecker(PROBE).checkClasses(List.of(Good.class));
        assertEquals(List.of(), ch.errors());
        assertEquals(1, ch.layoutsChecked);
        assertEquals(5, ch.fieldsChecked);
        assertEquals(2, ch.constantsChecked, "the @Derived constant is exempt");
        assertEquals(1, ch.bitfieldsChecked);
    }

    @Test
    void aPaddingShiftedByOneByteFails() throws Exception {
        List<String> e = check(PaddingShiftedByOneByte.class);
        assertEquals(List.of(
                "PaddingShiftedByOneByte.flock: offsetof(flock.l_start) is 8 in C, 9 in Java",
                "PaddingShiftedByOneByte.flock: offsetof(flock.l_len) is 16 in C, 17 in Java",
                "PaddingShiftedByOneByte.flock: offsetof(flock.l_pid) is 24 in C, 25 in Java"), e);
    }

    @Test
    void aWrongSizeFails() throws Exception {
        assertEquals(List.of("TrailingPaddingForgotten.flock: sizeof(struct flock) is 32 in C, 28 in Java"),
                check(TrailingPaddingForgotten.class));
    }

    @Test
    void aFieldTheProbeDoesNotKnowFails() throws Exception {
        List<String> e = check(UnknownField.class);
        assertEquals(1, e.size(), e.toString());
        assertTrue(e.get(0).contains("no probe entry for field flock.l_length"), e.get(0));
    }

    @Test
    void aLayoutWithoutProbeEntryOrNameFails() throws Exception {
        List<String> e = check(NoProbeEntry.class);
        assertEquals(2, e.size(), e.toString());
        assertTrue(e.stream().anyMatch(s -> s.contains("no probe entry for struct flock64")), e.toString());
        assertTrue(e.stream().anyMatch(s -> s.contains("layout has no name")), e.toString());
    }

    @Test
    void wrongOrUnknownConstantsAndBitfieldsFail() throws Exception {
        List<String> e = check(WrongValues.class);
        assertEquals(4, e.size(), e.toString());
        assertTrue(e.contains("WrongValues.F_OFD_SETLK: F_OFD_SETLK is 37 in C, 38 in Java"), e.toString());
        assertTrue(e.stream().anyMatch(s -> s.contains("no probe entry for constant F_NOT_IN_PROBE")), e.toString());
        assertTrue(e.stream().anyMatch(s -> s.contains("bitfield fuse_file_info.direct_io is at bit 33")),
                e.toString());
        assertTrue(e.stream().anyMatch(s -> s.contains("no probe entry for bitfield fuse_file_info.keep_cache")),
                e.toString());
    }
}
