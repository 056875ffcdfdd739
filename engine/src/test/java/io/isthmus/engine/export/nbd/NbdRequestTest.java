package io.isthmus.engine.export.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** Request header decoding and QEMU's request checks, and the reply encoders. */
class NbdRequestTest {
    static final long SIZE = 1 << 20;
    static final int RW = Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_SEND_FLUSH;
    static final int RO = RW | Nbd.FLAG_READ_ONLY;

    static MemorySegment header(boolean ext, int flags, int type, long cookie, long off, long len) {
        MemorySegment s = Arena.ofAuto().allocate(64);
        s.set(Nbd.BE_INT, 0, ext ? Nbd.EXTENDED_REQUEST_MAGIC : Nbd.REQUEST_MAGIC);
        s.set(Nbd.BE_SHORT, 4, (short) flags);
        s.set(Nbd.BE_SHORT, 6, (short) type);
        s.set(Nbd.BE_LONG, 8, cookie);
        s.set(Nbd.BE_LONG, 16, off);
        if (ext) {
            s.set(Nbd.BE_LONG, 24, len);
        } else {
            s.set(Nbd.BE_INT, 24, (int) len);
        }
        return s;
    }

    @Test
    void decodesSimpleAndExtendedHeaders() {
        NbdRequest r = new NbdRequest();
        assertEquals(28, r.decode(header(false, 1, Nbd.CMD_WRITE, 77, 4096, 0xFFFFFFF0L), 0, 28, false));
        assertEquals(Nbd.CMD_WRITE, r.type);
        assertEquals(77, r.cookie);
        assertEquals(0xFFFFFFF0L, r.length, "32-bit length is unsigned");
        assertEquals(0xFFFFFFF0L, r.payloadLength(false));
        assertEquals(NbdRequest.INCOMPLETE, r.decode(header(false, 0, 0, 0, 0, 0), 0, 27, false));
        assertEquals(NbdRequest.BAD_MAGIC, r.decode(header(true, 0, 0, 0, 0, 0), 0, 32, false));
        assertEquals(32, r.decode(header(true, Nbd.CMD_FLAG_PAYLOAD_LEN, Nbd.CMD_BLOCK_STATUS, 1, 0, 12), 0, 32, true));
        assertEquals(12, r.payloadLength(true));
        assertEquals(NbdRequest.BAD_MAGIC, r.decode(header(false, 0, 0, 0, 0, 0), 0, 32, true));
    }

    static int check(int flags, int type, long off, long len, int exportFlags, boolean structured) {
        NbdRequest r = new NbdRequest();
        r.decode(header(false, flags, type, 1, off, len), 0, 28, false);
        return r.check(len, SIZE, exportFlags, structured, false);
    }

    @Test
    void checksInQemuOrderWithItsErrors() {
        assertEquals(0, check(0, Nbd.CMD_READ, 0, 4096, RW, false));
        assertEquals(0, check(0, Nbd.CMD_READ, SIZE, 0, RW, false), "zero length at EOF is fine");
        assertEquals(-22, check(0, Nbd.CMD_READ, 0, 33 << 20, RW, false));
        assertEquals(-30, check(0, Nbd.CMD_WRITE, 0, 4096, RO, false));
        assertEquals(-30, check(0, Nbd.CMD_TRIM, 0, 4096, RO, false));
        assertEquals(0, check(0, Nbd.CMD_CACHE, 0, 4096, RO, false));
        assertEquals(-28, check(0, Nbd.CMD_WRITE, SIZE - 1, 2, RW, false), "write past EOF is ENOSPC");
        assertEquals(-28, check(0, Nbd.CMD_WRITE_ZEROES, SIZE + 1, 0, RW, false));
        assertEquals(-22, check(0, Nbd.CMD_READ, SIZE, 1, RW, false), "read past EOF is EINVAL");
        assertEquals(-22, check(0, Nbd.CMD_READ, -1L, 1, RW, false), "offset wrap-around");
        assertEquals(-22, check(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 0, 1, RW, false), "DF needs structured replies");
        assertEquals(0, check(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 0, 1, RW, true));
        assertEquals(-22, check(Nbd.CMD_FLAG_NO_HOLE, Nbd.CMD_WRITE, 0, 1, RW, true));
        assertEquals(0, check(Nbd.CMD_FLAG_NO_HOLE | Nbd.CMD_FLAG_FAST_ZERO | 1, Nbd.CMD_WRITE_ZEROES, 0, 1, RW, true));
        assertEquals(0, check(Nbd.CMD_FLAG_REQ_ONE, Nbd.CMD_BLOCK_STATUS, 0, 1, RW, true));
        assertEquals(-22, check(0x8000, Nbd.CMD_FLUSH, 0, 0, RW, true));
        assertEquals(-22, check(0, 42, 0, 0, RW, true), "unknown command");
        NbdRequest r = new NbdRequest();
        r.decode(header(false, 0, Nbd.CMD_READ, 1, SIZE, 1), 0, 28, false);
        r.check(1, SIZE, RW, false, false);
        assertEquals("operation past EOF; From: 1048576, Len: 1, Size: 1048576", r.error);
        r.decode(header(false, 0x40, Nbd.CMD_TRIM, 1, 0, 1), 0, 28, false);
        r.check(1, SIZE, RW, false, false);
        assertEquals("unsupported flags for command trim (got 0x40)", r.error);
    }

    @Test
    void replyEncoders() {
        MemorySegment s = Arena.ofAuto().allocate(256);
        assertEquals(16, NbdReplies.simple(s, 0, 5, 9));
        assertEquals(Nbd.SIMPLE_REPLY_MAGIC, s.get(Nbd.BE_INT, 0));
        assertEquals(5, s.get(Nbd.BE_INT, 4));
        assertEquals(9, s.get(Nbd.BE_LONG, 8));
        assertEquals(28, NbdReplies.dataChunk(s, 0, false, true, 3, 0, 4096, 512));
        assertEquals(Nbd.STRUCTURED_REPLY_MAGIC, s.get(Nbd.BE_INT, 0));
        assertEquals(Nbd.REPLY_FLAG_DONE, s.get(Nbd.BE_SHORT, 4));
        assertEquals(Nbd.REPLY_TYPE_OFFSET_DATA, s.get(Nbd.BE_SHORT, 6));
        assertEquals(520, s.get(Nbd.BE_INT, 16));
        assertEquals(4096, s.get(Nbd.BE_LONG, 20));
        assertEquals(44, NbdReplies.holeChunk(s, 0, true, false, 3, 100, 200, 300));
        assertEquals(Nbd.EXTENDED_REPLY_MAGIC, s.get(Nbd.BE_INT, 0));
        assertEquals(100, s.get(Nbd.BE_LONG, 16));
        assertEquals(12, s.get(Nbd.BE_LONG, 24));
        assertEquals(300, s.get(Nbd.BE_INT, 40));
        int n = NbdReplies.errorChunk(s, 0, false, 3, 0, Nbd.EIO, "boom".getBytes());
        assertEquals(20 + 6 + 4, n);
        assertEquals((short) Nbd.REPLY_TYPE_ERROR, s.get(Nbd.BE_SHORT, 6));
        assertEquals(Nbd.EIO, s.get(Nbd.BE_INT, 20));
        assertEquals(4, s.get(Nbd.BE_SHORT, 24));
    }

    @Test
    void errnoMapping() {
        assertEquals(Nbd.EPERM, Nbd.errnoToNbd(30));
        assertEquals(Nbd.ENOSPC, Nbd.errnoToNbd(122));
        assertEquals(Nbd.ENOTSUP, Nbd.errnoToNbd(95));
        assertEquals(Nbd.EINVAL, Nbd.errnoToNbd(2));
        assertEquals(Nbd.ESHUTDOWN, Nbd.errnoToNbd(108));
    }
}
