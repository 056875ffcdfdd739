package io.isthmus.control.qmp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** A client on a UNIX or TCP socket (blocking NIO channel; close unblocks pending reads and writes). */
final class ChannelConnection implements ClientConnection {
    private final SocketChannel channel;

    ChannelConnection(SocketChannel channel) {
        this.channel = channel;
    }

    @Override
    public int read(byte[] buf) throws IOException {
        return channel.read(ByteBuffer.wrap(buf));
    }

    @Override
    public void write(byte[] buf, int off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(buf, off, len);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing: nothing left to report
        }
    }
}
