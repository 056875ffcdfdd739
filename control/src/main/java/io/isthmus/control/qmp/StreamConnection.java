package io.isthmus.control.qmp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** The stdio chardev's client: the process's standard input and output. */
final class StreamConnection implements ClientConnection {
    private final InputStream in;
    private final OutputStream out;
    private volatile boolean closed;

    StreamConnection(InputStream in, OutputStream out) {
        this.in = in;
        this.out = out;
    }

    @Override
    public int read(byte[] buf) throws IOException {
        if (closed) {
            return -1;
        }
        return in.read(buf);
    }

    @Override
    public void write(byte[] buf, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("closed");
        }
        out.write(buf, off, len);
        out.flush();
    }

    @Override
    public void close() {
        closed = true;
    }
}
