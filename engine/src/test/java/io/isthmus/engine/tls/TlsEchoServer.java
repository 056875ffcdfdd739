package io.isthmus.engine.tls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;

/**
 * Test harness: accepts one TCP connection on 127.0.0.1 (ephemeral port) and pumps bytes between the socket and a
 * {@link TlsSession} from a single thread with a non-blocking channel and a selector — the same driving pattern
 * an IoThread uses (receive into {@link TlsSession#inputSpace()}, send {@link TlsSession#pendingOutput()}). After
 * the handshake it echoes every plaintext byte back until the peer ends the stream. The outcome (state, failure,
 * peer identity) completes {@link #result}.
 */
final class TlsEchoServer implements AutoCloseable {
    record Result(TlsSession.State state, String failure, String peerName, String pskUsername, String protocol,
                  long echoed) {}

    final CompletableFuture<Result> result = new CompletableFuture<>();
    private final ServerSocketChannel listener;
    private final Thread thread;
    private volatile boolean stop;

    TlsEchoServer(TlsCredentials creds, Authz authz) throws IOException {
        listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        thread = Thread.ofPlatform().name("tls-echo").daemon().start(() -> {
            try {
                result.complete(serve(creds, authz));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
    }

    int port() {
        return ((InetSocketAddress) listener.socket().getLocalSocketAddress()).getPort();
    }

    private Result serve(TlsCredentials creds, Authz authz) throws IOException {
        try (SocketChannel ch = listener.accept();
             Selector sel = Selector.open();
             TlsSession s = TlsSession.server(creds, authz);
             Arena arena = Arena.ofConfined()) {
            ch.configureBlocking(false);
            SelectionKey key = ch.register(sel, SelectionKey.OP_READ);
            MemorySegment plain = arena.allocate(64 * 1024);
            long echoBacklogStart = 0, echoBacklogEnd = 0;
            long echoed = 0;
            boolean eof = false;
            while (!stop) {
                // 1. make progress with what is buffered
                if (s.state() == TlsSession.State.HANDSHAKING) {
                    s.handshake();
                }
                if (s.state() == TlsSession.State.ESTABLISHED) {
                    while (true) {
                        if (echoBacklogEnd > echoBacklogStart) {
                            long w = s.write(plain.asSlice(echoBacklogStart, echoBacklogEnd - echoBacklogStart));
                            if (w < 0) {
                                break;
                            }
                            echoBacklogStart += w;
                            echoed += w;
                            if (echoBacklogEnd > echoBacklogStart) {
                                break; // output full: send first
                            }
                        }
                        echoBacklogStart = echoBacklogEnd = 0;
                        long r = s.read(plain);
                        if (r > 0) {
                            echoBacklogEnd = r;
                            continue;
                        }
                        if (r == TlsSession.EOF) {
                            s.bye();
                            eof = true;
                        }
                        break;
                    }
                }
                // 2. send
                while (s.hasPendingOutput()) {
                    ByteBuffer b = s.pendingOutput().asByteBuffer();
                    int n = ch.write(b);
                    if (n <= 0) {
                        break;
                    }
                    if (s.outputSent(n)) {
                        s.handshake();
                    }
                }
                if (s.state() == TlsSession.State.FAILED || s.state() == TlsSession.State.CLOSED || eof) {
                    if (!s.hasPendingOutput()) {
                        return new Result(s.state(), s.failure(), s.peerName(), s.pskUsername(),
                                s.state() == TlsSession.State.FAILED ? null : s.protocol(), echoed);
                    }
                }
                // 3. wait for the socket
                key.interestOps(SelectionKey.OP_READ | (s.hasPendingOutput() ? SelectionKey.OP_WRITE : 0));
                sel.select(200);
                if (key.isReadable()) {
                    MemorySegment space = s.inputSpace();
                    if (space.byteSize() > 0) {
                        int n = ch.read(space.asByteBuffer());
                        if (n < 0) {
                            s.inputEof();
                            if (s.state() == TlsSession.State.HANDSHAKING) {
                                s.handshake();
                                if (s.state() == TlsSession.State.HANDSHAKING) {
                                    return new Result(s.state(), "peer closed during handshake", null, null, null,
                                            echoed);
                                }
                            }
                        } else {
                            s.inputReceived(n);
                        }
                    }
                }
                sel.selectedKeys().clear();
            }
            return new Result(s.state(), "stopped", s.peerName(), s.pskUsername(), null, echoed);
        }
    }

    @Override
    public void close() throws IOException {
        stop = true;
        listener.close();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
