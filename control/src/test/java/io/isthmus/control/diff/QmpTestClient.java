package io.isthmus.control.diff;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw QMP client for tests: sends bytes as given and splits the server's output into messages by
 * JSON structure (so pretty-printed output works too), keeping each message's exact text including
 * its line ending. Reads have a deadline; a server that says nothing in time yields what came so far.
 */
final class QmpTestClient implements AutoCloseable {
    private final SocketChannel ch;
    private final Selector selector;
    private final StringBuilder pending = new StringBuilder();
    private boolean eof;

    QmpTestClient(Path socket) throws IOException {
        this(connect(socket));
    }

    /** A client on an already connected channel (TCP, or a socket the test accepted). */
    QmpTestClient(SocketChannel connected) throws IOException {
        ch = connected;
        ch.configureBlocking(false);
        selector = Selector.open();
        ch.register(selector, SelectionKey.OP_READ);
    }

    /** Connects, retrying while the socket file exists but is not listening yet (bind before listen). */
    static SocketChannel connect(Path socket) throws IOException {
        return connect(UnixDomainSocketAddress.of(socket));
    }

    /** Connects to a UNIX or TCP address, retrying while nothing listens there yet (bind before listen). */
    static SocketChannel connect(java.net.SocketAddress address) throws IOException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            SocketChannel c = address instanceof UnixDomainSocketAddress
                    ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
            try {
                c.connect(address);
                return c;
            } catch (java.net.SocketException e) { // refused, or the socket file is not there yet
                c.close();
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    void send(byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    boolean eof() {
        return eof;
    }

    /** Reads one message, or null if none is complete before the deadline (or at end of stream). */
    String readMessage(long timeoutMs) throws IOException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (true) {
            String m = takeMessage();
            if (m != null) {
                return m;
            }
            if (eof) {
                return null;
            }
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return null;
            }
            selector.select(left);
            selector.selectedKeys().clear();
            ByteBuffer buf = ByteBuffer.allocate(65536);
            int n = ch.read(buf);
            if (n < 0) {
                eof = true;
            } else if (n > 0) {
                pending.append(new String(buf.array(), 0, n, StandardCharsets.ISO_8859_1));
            }
        }
    }

    /** Reads messages until one satisfies the predicate (inclusive), or the deadline passes. */
    List<String> readUntil(java.util.function.Predicate<String> last, long timeoutMs) throws IOException {
        List<String> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            String m = readMessage(Math.max(1, left));
            if (m == null) {
                out.add("<<timeout or end of stream>>");
                return out;
            }
            out.add(m);
            if (last.test(m)) {
                return out;
            }
        }
    }

    /** Everything until the server closes the connection (bounded by the deadline). */
    List<String> readToEnd(long timeoutMs) throws IOException {
        List<String> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (!eof) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                out.add("<<connection still open>>");
                break;
            }
            String m = readMessage(left);
            if (m != null) {
                out.add(m);
            }
        }
        String m;
        while ((m = takeMessage()) != null) {
            out.add(m);
        }
        return out;
    }

    /** A complete top-level JSON value plus the line end after it, if the buffer holds one. */
    private String takeMessage() {
        int depth = 0;
        boolean inString = false;
        boolean started = false;
        for (int i = 0; i < pending.length(); i++) {
            char c = pending.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
                continue;
            }
            if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
                started = true;
            } else if (c == '}' || c == ']') {
                depth--;
                if (started && depth == 0) {
                    int end = i + 1;
                    while (end < pending.length() && (pending.charAt(end) == '\r' || pending.charAt(end) == '\n')) {
                        end++;
                        if (pending.charAt(end - 1) == '\n') {
                            break;
                        }
                    }
                    if (end == i + 1 || pending.charAt(end - 1) != '\n') {
                        if (!eof) {
                            return null; // line end not here yet
                        }
                    }
                    String msg = pending.substring(0, end);
                    pending.delete(0, end);
                    return msg;
                }
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        selector.close();
        ch.close();
    }
}
