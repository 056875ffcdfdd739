package io.isthmus.engine.export.vhostuser;

/**
 * Test support: structured values drawn from a byte array (the fuzz input), so that the fuzz tests run the same
 * way under Jazzer and under plain JUnit with seeds or random bytes. Past the end, everything reads as zero.
 */
final class ByteInput {
    private final byte[] b;
    private int at;

    ByteInput(byte[] b) {
        this.b = b;
    }

    int remaining() {
        return b.length - at;
    }

    int u8() {
        return at < b.length ? b[at++] & 0xFF : 0;
    }

    boolean bool() {
        return (u8() & 1) != 0;
    }

    int u16() {
        return u8() | u8() << 8;
    }

    int i32() {
        return u16() | u16() << 16;
    }

    long i64() {
        return (i32() & 0xFFFFFFFFL) | (long) i32() << 32;
    }

    /** A value in [min, max] (inclusive). */
    int range(int min, int max) {
        long span = (long) max - min + 1;
        return (int) (min + Long.remainderUnsigned(i32() & 0xFFFFFFFFL, span));
    }

    byte[] bytes(int n) {
        int k = Math.max(0, Math.min(n, remaining()));
        byte[] r = java.util.Arrays.copyOfRange(b, at, at + k);
        at += k;
        return r;
    }
}
