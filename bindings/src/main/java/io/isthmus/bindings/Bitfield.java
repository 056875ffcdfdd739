package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;

/**
 * A C bitfield, which FFM layouts cannot express: {@code width} bits starting at bit {@code bitOffset} of the
 * struct, counting from bit 0 of byte 0 (little-endian numbering, as gcc allocates bitfields on x86-64).
 * Declared as {@code static final} fields beside the struct's layout; the layout probe test finds every one by
 * reflection and checks offset and width against positions the C probe measures at run time.
 *
 * <p>Access reads or writes the aligned 32-bit unit holding the field; the field may not cross it. No native
 * calls, no allocation; thread use is the segment's.
 */
public record Bitfield(String struct, String field, int bitOffset, int width) {
    public Bitfield {
        if (width < 1 || width > 32 || bitOffset < 0 || (bitOffset % 32) + width > 32) {
            throw new IllegalArgumentException("bitfield " + struct + "." + field + " crosses a 32-bit unit");
        }
    }

    private long unit() {
        return (bitOffset / 32) * 4L;
    }

    private int mask() {
        return width == 32 ? -1 : (1 << width) - 1;
    }

    /** The field's value in the struct at {@code base} of {@code s} (unsigned, zero-extended). */
    public int get(MemorySegment s, long base) {
        return (s.get(JAVA_INT, base + unit()) >>> (bitOffset % 32)) & mask();
    }

    public void set(MemorySegment s, long base, int value) {
        int shift = bitOffset % 32;
        int m = mask() << shift;
        int word = s.get(JAVA_INT, base + unit());
        s.set(JAVA_INT, base + unit(), (word & ~m) | ((value << shift) & m));
    }

    public boolean isSet(MemorySegment s) {
        return get(s, 0) != 0;
    }

    public void set(MemorySegment s, boolean on) {
        set(s, 0, on ? 1 : 0);
    }
}
