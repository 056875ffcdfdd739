package io.isthmus.engine.export.fuse;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Test helper: builds FUSE requests as the kernel writes them (little-endian) and reads replies. */
final class FuseWire {
    private FuseWire() {}

    static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A request with a correct header length. */
    static byte[] req(int opcode, long unique, byte[] body) {
        return req(opcode, unique, body, 40 + body.length);
    }

    /** A request whose header claims {@code len}. */
    static byte[] req(int opcode, long unique, byte[] body, int len) {
        ByteBuffer b = le(40 + body.length);
        b.putInt(len).putInt(opcode).putLong(unique).putLong(1).putInt(0).putInt(0).putInt(1234).putShort((short) 0)
                .putShort((short) 0);
        b.put(body);
        return b.array();
    }

    static byte[] readIn(long offset, int size) {
        return le(40).putLong(0).putLong(offset).putInt(size).putInt(0).putLong(0).putInt(0).putInt(0).array();
    }

    static byte[] writeIn(long offset, byte[] data) {
        ByteBuffer b = le(40 + data.length);
        b.putLong(0).putLong(offset).putInt(data.length).putInt(0).putLong(0).putInt(0).putInt(0).put(data);
        return b.array();
    }

    static byte[] initIn(int major, int minor, long flags) {
        ByteBuffer b = le(64);
        b.putInt(major).putInt(minor).putInt(128 * 1024).putInt((int) flags).putInt((int) (flags >>> 32));
        return b.array();
    }

    static byte[] setattrIn(int valid, long size, int mode, long atime, long mtime) {
        ByteBuffer b = le(88);
        b.putInt(valid).putInt(0).putLong(0).putLong(size).putLong(0).putLong(atime).putLong(mtime).putLong(0);
        b.putInt(0).putInt(0).putInt(0).putInt(mode).putInt(0).putInt(0).putInt(0).putInt(0);
        return b.array();
    }

    static byte[] fallocateIn(long offset, long length, int mode) {
        return le(32).putLong(0).putLong(offset).putLong(length).putInt(mode).putInt(0).array();
    }

    static byte[] lseekIn(long offset, int whence) {
        return le(24).putLong(0).putLong(offset).putInt(whence).putInt(0).array();
    }

    static byte[] u64(long v) {
        return le(8).putLong(v).array();
    }

    static byte[] zeros(int n) {
        return new byte[n];
    }

    /** A reply: header fields and the body after it. */
    record Reply(int len, int error, long unique, ByteBuffer body) {
        static Reply of(byte[] b, int n) {
            ByteBuffer bb = ByteBuffer.wrap(b, 0, n).order(ByteOrder.LITTLE_ENDIAN);
            int len = bb.getInt();
            int err = bb.getInt();
            long unique = bb.getLong();
            return new Reply(len, err, unique, bb.slice().order(ByteOrder.LITTLE_ENDIAN));
        }
    }
}
