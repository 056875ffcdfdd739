package io.isthmus.engine.export.fuse;

import static io.isthmus.engine.export.fuse.FuseProtocol.*;
import static io.isthmus.engine.export.fuse.FuseWire.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The request decoder and the reply encoders against hand-built little-endian bytes. */
class FuseCodecTest {
    static final int MAX_IO = 1 << 20;

    static MemorySegment seg(byte[] b) {
        MemorySegment s = Arena.ofAuto().allocate(b.length + 16);
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 8, b.length);
        return s;
    }

    static int decode(FuseRequest r, byte[] b) {
        return r.decode(seg(b), 8, b.length, MAX_IO);
    }

    @Test
    void header() {
        byte[] b = {
            56, 0, 0, 0, 3, 0, 0, 0, // len 56, GETATTR
            (byte) 0xEF, (byte) 0xCD, (byte) 0xAB, (byte) 0x89, 0x67, 0x45, 0x23, 0x01, // unique
            1, 0, 0, 0, 0, 0, 0, 0, // nodeid
            (byte) 0xE8, 3, 0, 0, (byte) 0xE9, 3, 0, 0, 0x39, 0x30, 0, 0, 0, 0, 0, 0, // uid 1000, gid 1001, pid 12345
            1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0 // getattr_in: flags 1, fh 7
        };
        FuseRequest r = new FuseRequest();
        assertEquals(0, decode(r, b));
        assertEquals(56, r.len);
        assertEquals(GETATTR, r.opcode);
        assertEquals(0x0123456789ABCDEFL, r.unique);
        assertEquals(1, r.nodeid);
        assertEquals(1000, r.uid);
        assertEquals(1001, r.gid);
        assertEquals(12345, r.pid);
        assertEquals(1, r.flags);
        assertEquals(7, r.fh);
    }

    @Test
    void framing() {
        FuseRequest r = new FuseRequest();
        assertEquals(FuseRequest.HALT, decode(r, new byte[39]), "shorter than a header");
        assertEquals(FuseRequest.HALT, decode(r, req(GETATTR, 2, zeros(16), 57)), "len disagrees with the read");
        assertEquals(FuseRequest.HALT, decode(r, req(GETATTR, 2, zeros(16), -1)), "len as unsigned");
        byte[] ext = req(GETATTR, 2, zeros(16));
        ext[36] = 3; // 24 bytes of extensions claimed, the body only has 16
        assertEquals(-22, decode(r, ext));
        assertEquals(2, r.unique, "the header is valid for the error reply");
    }

    @Test
    void writeReadAndTheirLimits() {
        FuseRequest r = new FuseRequest();
        byte[] data = {1, 2, 3, 4, 5};
        assertEquals(0, decode(r, req(WRITE, 4, writeIn(1L << 40, data))));
        assertEquals(1L << 40, r.offset);
        assertEquals(5, r.size);
        assertEquals(8 + 80, r.dataOffset);
        byte[] w = req(WRITE, 4, writeIn(0, data));
        w[40 + 16] = 6; // size 6, payload 5
        assertEquals(-22, decode(r, w));
        assertEquals(0, decode(r, req(READ, 6, readIn(4096, MAX_IO))));
        assertEquals(MAX_IO, r.size);
        assertEquals(-22, decode(r, req(READ, 6, readIn(4096, MAX_IO + 1))));
        assertEquals(-22, decode(r, req(READ, 6, readIn(-1, 10))), "negative offset");
        assertEquals(-22, decode(r, req(WRITE, 6, writeIn(0, new byte[MAX_IO + 1]))));
    }

    @Test
    void perOpcodeSizes() {
        FuseRequest r = new FuseRequest();
        int[][] fixed = {{GETATTR, 16}, {SETATTR, 88}, {OPEN, 8}, {READ, 40}, {RELEASE, 24}, {FLUSH, 24},
                {FSYNC, 16}, {LSEEK, 24}, {FORGET, 8}, {INTERRUPT, 8}, {STATFS, 0}, {DESTROY, 0}};
        for (int[] f : fixed) {
            assertEquals(0, decode(r, req(f[0], 2, zeros(f[1]))), opcodeName(f[0]));
            assertEquals(-22, decode(r, req(f[0], 2, zeros(f[1] + 1))), opcodeName(f[0]) + " longer");
            if (f[1] > 0) {
                assertEquals(-22, decode(r, req(f[0], 2, zeros(f[1] - 1))), opcodeName(f[0]) + " shorter");
            }
        }
        assertEquals(0, decode(r, req(FALLOCATE, 2, fallocateIn(0, 1, 0))));
        assertEquals(-22, decode(r, req(FALLOCATE, 2, fallocateIn(0, 0, 0))), "empty range");
        assertEquals(-22, decode(r, req(FALLOCATE, 2, fallocateIn(Long.MAX_VALUE, 2, 0))), "overflow");
        assertEquals(0, decode(r, req(INIT, 2, zeros(16))), "a pre-7.36 init_in");
        assertEquals(-22, decode(r, req(INIT, 2, zeros(15))));
        assertEquals(0, decode(r, req(LOOKUP, 2, "name\0".getBytes())));
        assertEquals(4, r.nameLength);
        assertEquals(-22, decode(r, req(LOOKUP, 2, "name".getBytes())), "no NUL");
        byte[] bf = le(8 + 32).putInt(2).putInt(0).putLong(1).putLong(1).putLong(2).putLong(1).array();
        assertEquals(0, decode(r, req(BATCH_FORGET, 2, bf)));
        assertTrue(r.noReply());
        bf[0] = 3;
        assertEquals(-22, decode(r, req(BATCH_FORGET, 2, bf)));
        assertEquals(0, decode(r, req(READDIR, 2, zeros(3))), "not served: ENOSYS later, unchecked here");
    }

    @Test
    void setattrAndInitFields() {
        FuseRequest r = new FuseRequest();
        assertEquals(0, decode(r, req(SETATTR, 2, setattrIn(FATTR_SIZE | FATTR_MTIME, 12345, 0640, 11, 22))));
        assertEquals(FATTR_SIZE | FATTR_MTIME, r.valid);
        assertEquals(12345, r.attrSize);
        assertEquals(0640, r.mode);
        assertEquals(11, r.atime);
        assertEquals(22, r.mtime);
        assertEquals(0, decode(r, req(INIT, 2, initIn(7, 40, INIT_EXT | ASYNC_READ | OVER_IO_URING))));
        assertEquals(40, r.minor);
        assertEquals(INIT_EXT | ASYNC_READ | OVER_IO_URING, r.initFlags, "flags2 read with INIT_EXT");
        assertEquals(0, decode(r, req(INIT, 2, initIn(7, 40, ASYNC_READ | OVER_IO_URING))));
        assertEquals(ASYNC_READ, r.initFlags, "flags2 ignored without INIT_EXT");
    }

    @Test
    void encoders() {
        MemorySegment s = Arena.ofAuto().allocate(256);
        assertEquals(16, FuseReplies.outHeader(s, 0, 24, -22, 0x1122334455667788L));
        assertArrayEquals(new byte[] {24, 0, 0, 0, (byte) 0xEA, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
                (byte) 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}, s.asSlice(0, 16).toArray(ValueLayout.JAVA_BYTE));
        assertEquals(8, FuseReplies.writeOut(s, 16, 4096));
        assertArrayEquals(new byte[] {0, 16, 0, 0, 0, 0, 0, 0}, s.asSlice(16, 8).toArray(ValueLayout.JAVA_BYTE));
        assertEquals(8, FuseReplies.lseekOut(s, 0, 0x0102030405L));
        assertArrayEquals(new byte[] {5, 4, 3, 2, 1, 0, 0, 0}, s.asSlice(0, 8).toArray(ValueLayout.JAVA_BYTE));
        assertEquals(16, FuseReplies.openOut(s, 0, 9, FOPEN_DIRECT_IO));
        assertEquals(9, s.get(U64, 0));
        assertEquals(1, s.get(U32, 8));
        assertEquals(104, FuseReplies.attrOut(s, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0100600, 1, 1000, 1001, 512));
        assertEquals(1, s.get(U64, 0));
        assertEquals(2, s.get(U32, 8));
        long a = 16;
        assertEquals(3, s.get(U64, a));       // ino
        assertEquals(4, s.get(U64, a + 8));   // size
        assertEquals(5, s.get(U64, a + 16));  // blocks
        assertEquals(6, s.get(U64, a + 24));  // atime
        assertEquals(8, s.get(U64, a + 32));  // mtime
        assertEquals(10, s.get(U64, a + 40)); // ctime
        assertEquals(7, s.get(U32, a + 48));  // atimensec
        assertEquals(9, s.get(U32, a + 52));
        assertEquals(11, s.get(U32, a + 56));
        assertEquals(0100600, s.get(U32, a + 60));
        assertEquals(1, s.get(U32, a + 64));
        assertEquals(1000, s.get(U32, a + 68));
        assertEquals(1001, s.get(U32, a + 72));
        assertEquals(512, s.get(U32, a + 80));
        assertEquals(80, FuseReplies.statfsOut(s, 0, 100, 1, 2, 3, 4, 4096, 255, 4096));
        assertEquals(100, s.get(U64, 0));
        assertEquals(4, s.get(U64, 32));
        assertEquals(4096, s.get(U32, 40));
        assertEquals(255, s.get(U32, 44));
        assertEquals(4096, s.get(U32, 48));
        assertEquals(64, FuseReplies.initOut(s, 0, 7, 38, 65536, ASYNC_READ | (1L << 33), 65535, 49151, 1 << 20, 1, 256));
        assertEquals(7, s.get(U32, 0));
        assertEquals(38, s.get(U32, 4));
        assertEquals(65536, s.get(U32, 8));
        assertEquals(1, s.get(U32, 12));
        assertEquals((short) 65535, s.get(U16, 16));
        assertEquals((short) 49151, s.get(U16, 18));
        assertEquals(1 << 20, s.get(U32, 20));
        assertEquals(1, s.get(U32, 24));
        assertEquals(256, s.get(U16, 28));
        assertEquals(2, s.get(U32, 32), "flags2");
    }
}
