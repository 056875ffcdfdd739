package io.isthmus.control.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.Daemon;
import io.isthmus.control.qapi.QapiSchema;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Monitors in-process: several at once, one client at a time, events, hostile clients. */
@Timeout(60)
class MonitorTest {
    @TempDir
    Path dir;
    private Daemon daemon;
    private Thread loop;

    @BeforeEach
    void start() throws Exception {
        daemon = Daemon.create(QapiSchema.load());
        for (String id : new String[] {"m1", "m2"}) {
            daemon.chardevs().create(Map.of("backend", "socket", "id", id, "path", dir.resolve(id).toString(),
                    "server", "on", "wait", "off"), s -> { });
            daemon.monitors().create(Map.of("chardev", id));
        }
        loop = new Thread(daemon.loop()::run, "test-control-loop");
        loop.start();
    }

    @AfterEach
    void stop() throws Exception {
        daemon.loop().post(daemon::requestShutdown);
        loop.join(10_000);
        daemon.finishShutdown();
    }

    /** Minimal blocking line client (the server frames with CRLF). */
    static final class Client implements AutoCloseable {
        final SocketChannel ch;
        private final StringBuilder buf = new StringBuilder();

        Client(Path p) throws IOException {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(p));
        }

        void send(String s) throws IOException {
            ch.write(ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
        }

        /** The next CRLF-terminated line, or null at end of stream. */
        String line() throws IOException {
            while (true) {
                int i = buf.indexOf("\r\n");
                if (i >= 0) {
                    String l = buf.substring(0, i);
                    buf.delete(0, i + 2);
                    return l;
                }
                ByteBuffer b = ByteBuffer.allocate(65536);
                int n = ch.read(b);
                if (n < 0) {
                    return null;
                }
                buf.append(new String(b.array(), 0, n, StandardCharsets.US_ASCII));
            }
        }

        boolean readyWithin(long ms) throws IOException {
            ch.configureBlocking(false);
            try (java.nio.channels.Selector sel = java.nio.channels.Selector.open()) {
                ch.register(sel, java.nio.channels.SelectionKey.OP_READ);
                return buf.length() > 0 || sel.select(ms) > 0;
            } finally {
                ch.configureBlocking(true);
            }
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    private static void negotiate(Client c) throws IOException {
        assertTrue(c.line().startsWith("{\"QMP\": "));
        c.send("{\"execute\": \"qmp_capabilities\"}");
        assertEquals("{\"return\": {}}", c.line());
    }

    @Test
    void eventsReachEveryNegotiatedMonitorOnly() throws Exception {
        try (Client a = new Client(dir.resolve("m1")); Client b = new Client(dir.resolve("m2"))) {
            negotiate(a);
            assertTrue(b.line().startsWith("{\"QMP\": "));
            daemon.events().emit("BLOCK_EXPORT_DELETED", Map.of("id", "e0"));
            String ev = a.line();
            assertTrue(ev.matches("\\{\"timestamp\": \\{\"seconds\": \\d+, \"microseconds\": \\d+}, "
                    + "\"event\": \"BLOCK_EXPORT_DELETED\", \"data\": \\{\"id\": \"e0\"}}"), ev);
            b.send("{\"execute\": \"qmp_capabilities\", \"id\": 1}");
            assertEquals("{\"return\": {}, \"id\": 1}", b.line(), "no event before negotiation");
            daemon.events().emit("BLOCK_EXPORT_DELETED", Map.of("id", "e1"));
            assertTrue(a.line().contains("\"e1\""));
            assertTrue(b.line().contains("\"e1\""));
        }
    }

    @Test
    void secondClientIsGreetedWhenTheFirstLeaves() throws Exception {
        Client first = new Client(dir.resolve("m1"));
        negotiate(first);
        try (Client second = new Client(dir.resolve("m1"))) {
            assertTrue(!second.readyWithin(300), "second client must wait for the first");
            first.send("{\"execute\": \"query-version\", \"id\": \"partial\"");  // leaves mid-message
            first.close();
            assertTrue(second.line().startsWith("{\"QMP\": "), "greeted once the first left");
            second.send("{\"execute\": \"query-version\"}");
            assertTrue(second.line().contains("CommandNotFound"), "fresh session, no leftover partial input");
        }
    }

    @Test
    void clientThatNeverReadsIsDisconnectedWithoutBlockingOthers() throws Exception {
        try (Client lazy = new Client(dir.resolve("m1")); Client busy = new Client(dir.resolve("m2"))) {
            negotiate(lazy);
            negotiate(busy);
            String big = "x".repeat(64 * 1024);
            Thread emitter = new Thread(() -> {
                for (int i = 0; i < 400; i++) {
                    daemon.events().emit("BLOCK_EXPORT_DELETED", Map.of("id", big));
                }
            });
            emitter.start();
            // the other monitor keeps working while the lazy one's queue overflows
            busy.send("{\"execute\": \"query-version\", \"id\": \"still-here\"}");
            String l;
            do {
                l = busy.line();
            } while (l != null && !l.contains("still-here"));
            assertTrue(l != null && l.contains("still-here"));
            emitter.join(TimeUnit.SECONDS.toMillis(30));
            assertTrue(!emitter.isAlive(), "emitting never blocks on a client that does not read");
            // the lazy client got at most the limit, then end of stream
            long received = 0;
            ByteBuffer b = ByteBuffer.allocate(1 << 20);
            int n;
            while ((n = lazy.ch.read(b)) >= 0) {
                received += n;
                b.clear();
            }
            assertTrue(received < 400L * 64 * 1024, "connection was closed before everything was sent: " + received);
        }
    }

    @Test
    void clientThatSendsCommandsButNeverReadsRepliesIsDisconnectedAndTheMonitorServesTheNext() throws Exception {
        try (Client other = new Client(dir.resolve("m2"))) {
            negotiate(other);
            long received = 0;
            int commands = 0;
            boolean hungUp = false;
            try (Client lazy = new Client(dir.resolve("m1"))) {
                negotiate(lazy);
                // every reply is the whole schema; keep asking without reading until the daemon hangs up
                byte[] ask = "{\"execute\": \"query-qmp-schema\"}".getBytes(StandardCharsets.US_ASCII);
                lazy.ch.configureBlocking(false);
                try {
                    while (commands < 5_000) {
                        ByteBuffer b = ByteBuffer.wrap(ask);
                        while (b.hasRemaining()) {
                            if (lazy.ch.write(b) == 0) {
                                Thread.sleep(1);
                            }
                        }
                        commands++;
                        if (commands % 100 == 0) {
                            // the control thread and the other monitor are not held up meanwhile
                            other.send("{\"execute\": \"query-version\", \"id\": " + commands + "}");
                            assertTrue(other.line().contains("\"id\": " + commands));
                        }
                    }
                } catch (IOException e) {
                    hungUp = true; // broken pipe: the daemon closed the connection
                }
                lazy.ch.configureBlocking(true);
                ByteBuffer b = ByteBuffer.allocate(1 << 20);
                try {
                    int n;
                    while ((n = lazy.ch.read(b.clear())) >= 0) {
                        received += n;
                    }
                } catch (IOException e) {
                    // reset after the hang-up: the end as well
                }
            }
            assertTrue(hungUp, "the daemon closed the connection of a client that does not read (" + commands + " commands)");
            assertTrue(received < OutputQueue.LIMIT,
                    "the queued replies were dropped, not delivered: " + received + " bytes reached the client");
            // the same monitor greets and serves the next client
            try (Client next = new Client(dir.resolve("m1"))) {
                negotiate(next);
                next.send("{\"execute\": \"query-version\", \"id\": \"next\"}");
                assertTrue(next.line().contains("\"id\": \"next\""));
            }
        }
    }

    @Test
    void quitRepliesThenShutsDown() throws Exception {
        try (Client a = new Client(dir.resolve("m1"))) {
            negotiate(a);
            a.send("{\"execute\": \"quit\", \"id\": \"q\"}");
            assertEquals("{\"return\": {}, \"id\": \"q\"}", a.line());
            loop.join(10_000);
            assertTrue(!loop.isAlive(), "control loop stopped");
            daemon.finishShutdown();
            assertNull(a.line(), "connection closed at shutdown");
            assertTrue(Files.exists(dir.resolve("m1")), "QSD 7.2 leaves its monitor socket file");
        }
    }
}
