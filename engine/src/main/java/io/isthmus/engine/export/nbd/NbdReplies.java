package io.isthmus.engine.export.nbd;

import java.lang.foreign.MemorySegment;

/**
 * Encoders for transmission-phase replies into native memory (big-endian). Pure functions over a segment and an
 * offset; each returns the number of bytes written. Used by {@link NbdConnection} for every reply and by tests
 * and benchmarks directly. Adjacent header fields go out as one 64-bit store (magic with error, or magic with
 * flags and type): every native store inlines a var-handle chain, so fewer stores make the reply path cheaper
 * for the JIT to compile (on a freshly started daemon, compiling the data path is a large share of the CPU its
 * first copy costs).
 */
public final class NbdReplies {
    private NbdReplies() {
    }

    /** Simple reply: magic, error, cookie (16 bytes). */
    public static int simple(MemorySegment s, long at, int nbdError, long cookie) {
        s.set(Nbd.BE_LONG, at, ((long) Nbd.SIMPLE_REPLY_MAGIC << 32) | (nbdError & 0xFFFFFFFFL));
        s.set(Nbd.BE_LONG, at + 8, cookie);
        return Nbd.SIMPLE_REPLY_SIZE;
    }

    /**
     * A chunk header: structured (20 bytes) or, with {@code extended}, extended (32 bytes, carrying the
     * request's offset and a 64-bit payload length).
     */
    public static int chunk(MemorySegment s, long at, boolean extended, int flags, int type, long cookie,
            long offset, long payloadLength) {
        if (extended) {
            s.set(Nbd.BE_LONG, at, magicFlagsType(Nbd.EXTENDED_REPLY_MAGIC, flags, type));
            s.set(Nbd.BE_LONG, at + 8, cookie);
            s.set(Nbd.BE_LONG, at + 16, offset);
            s.set(Nbd.BE_LONG, at + 24, payloadLength);
            return Nbd.EXTENDED_REPLY_SIZE;
        }
        s.set(Nbd.BE_LONG, at, magicFlagsType(Nbd.STRUCTURED_REPLY_MAGIC, flags, type));
        s.set(Nbd.BE_LONG, at + 8, cookie);
        s.set(Nbd.BE_INT, at + 16, (int) payloadLength);
        return Nbd.STRUCTURED_REPLY_SIZE;
    }

    /** The first 8 bytes of a chunk header: 32-bit magic, 16-bit flags, 16-bit type. */
    private static long magicFlagsType(int magic, int flags, int type) {
        return ((long) magic << 32) | ((flags & 0xFFFFL) << 16) | (type & 0xFFFFL);
    }

    /** OFFSET_DATA chunk header plus its offset field; the data follows in a separate iovec. */
    public static int dataChunk(MemorySegment s, long at, boolean extended, boolean done, long cookie,
            long requestOffset, long dataOffset, long dataLength) {
        int n = chunk(s, at, extended, done ? Nbd.REPLY_FLAG_DONE : 0, Nbd.REPLY_TYPE_OFFSET_DATA, cookie,
                requestOffset, 8 + dataLength);
        s.set(Nbd.BE_LONG, at + n, dataOffset);
        return n + 8;
    }

    /** OFFSET_HOLE chunk: header, offset, 32-bit hole size. */
    public static int holeChunk(MemorySegment s, long at, boolean extended, boolean done, long cookie,
            long requestOffset, long holeOffset, int holeSize) {
        int n = chunk(s, at, extended, done ? Nbd.REPLY_FLAG_DONE : 0, Nbd.REPLY_TYPE_OFFSET_HOLE, cookie,
                requestOffset, 12);
        s.set(Nbd.BE_LONG, at + n, holeOffset);
        s.set(Nbd.BE_INT, at + n + 8, holeSize);
        return n + 12;
    }

    /** ERROR chunk (always final): header, error, message length, message bytes. */
    public static int errorChunk(MemorySegment s, long at, boolean extended, long cookie, long requestOffset,
            int nbdError, byte[] message) {
        int n = chunk(s, at, extended, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_ERROR, cookie, requestOffset,
                6 + message.length);
        s.set(Nbd.BE_INT, at + n, nbdError);
        s.set(Nbd.BE_SHORT, at + n + 4, (short) message.length);
        MemorySegment.copy(message, 0, s, java.lang.foreign.ValueLayout.JAVA_BYTE, at + n + 6, message.length);
        return n + 6 + message.length;
    }

    /** NONE chunk with DONE: success without payload. */
    public static int done(MemorySegment s, long at, boolean extended, long cookie, long requestOffset) {
        return chunk(s, at, extended, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_NONE, cookie, requestOffset, 0);
    }
}
