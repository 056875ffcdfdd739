package io.isthmus.engine.export.nbd;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A minimal blocking NBD client for tests that need to misbehave on purpose. */
final class RawNbdClient implements AutoCloseable {
    final SocketChannel ch;

    RawNbdClient(Path socket) throws IOException {
        ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    byte[] read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new java.io.EOFException("EOF after " + b.position() + " of " + n);
            }
        }
        return b.array();
    }

    /** True when the server closed the connection (read returns EOF) before any byte arrived. */
    boolean closedByServer() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1);
        try {
            return ch.read(b) < 0;
        } catch (IOException e) {
            return true;
        }
    }

    void write(byte[] b) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(b);
        while (bb.hasRemaining()) {
            ch.write(bb);
        }
    }

    /** Greeting, fixed newstyle, structured replies, GO on {@code export}. */
    RawNbdClient handshake(String export, boolean structured) throws IOException {
        read(18);
        write(NbdHandshakeTest.flags(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES));
        if (structured) {
            write(NbdHandshakeTest.opt(Nbd.OPT_STRUCTURED_REPLY, new byte[0]));
            readOptionReplies();
        }
        write(NbdHandshakeTest.opt(Nbd.OPT_GO, NbdHandshakeTest.infoData(export)));
        int type = readOptionReplies();
        if (type != Nbd.REP_ACK) {
            throw new IOException("GO failed: 0x" + Integer.toHexString(type));
        }
        return this;
    }

    /** Reads option replies up to the final one; returns its type. */
    int readOptionReplies() throws IOException {
        while (true) {
            ByteBuffer h = ByteBuffer.wrap(read(20));
            h.getLong();
            h.getInt();
            int type = h.getInt();
            int len = h.getInt();
            read(len);
            if (type != Nbd.REP_INFO && type != Nbd.REP_SERVER && type != Nbd.REP_META_CONTEXT) {
                return type;
            }
        }
    }

    void request(int flags, int type, long cookie, long offset, int length, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
        b.putInt(Nbd.REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie).putLong(offset)
                .putInt(length);
        if (payload != null) {
            b.put(payload);
        }
        write(b.array());
    }

    /** One structured chunk: {flags, type, cookie, payload}. */
    record Chunk(int flags, int type, long cookie, byte[] payload) {
        int error() {
            return ByteBuffer.wrap(payload).getInt();
        }

        String message() {
            ByteBuffer b = ByteBuffer.wrap(payload);
            b.getInt();
            int n = b.getShort();
            return new String(payload, 6, n, StandardCharsets.UTF_8);
        }
    }

    Chunk chunk() throws IOException {
        ByteBuffer h = ByteBuffer.wrap(read(4));
        int magic = h.getInt();
        if (magic == Nbd.SIMPLE_REPLY_MAGIC) {
            ByteBuffer r = ByteBuffer.wrap(read(12));
            int err = r.getInt();
            return new Chunk(Nbd.REPLY_FLAG_DONE, -1, r.getLong(), ByteBuffer.allocate(4).putInt(err).array());
        }
        if (magic != Nbd.STRUCTURED_REPLY_MAGIC) {
            throw new IOException("bad reply magic 0x" + Integer.toHexString(magic));
        }
        ByteBuffer r = ByteBuffer.wrap(read(16));
        int flags = r.getShort() & 0xFFFF;
        int type = r.getShort() & 0xFFFF;
        long cookie = r.getLong();
        int len = r.getInt();
        return new Chunk(flags, type, cookie, read(len));
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
