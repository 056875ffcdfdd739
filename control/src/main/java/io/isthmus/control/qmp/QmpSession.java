package io.isthmus.control.qmp;

import io.isthmus.control.ControlLoop;
import io.isthmus.control.Version;
import io.isthmus.control.json.Json;
import io.isthmus.control.json.JsonParseException;
import io.isthmus.control.json.JsonStreamParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * One client of a QMP monitor, from greeting to disconnect: the JSON stream, capabilities negotiation,
 * and the hand-off of every command to the control thread.
 *
 * <p>Threads: {@link #serve} runs on the monitor's reader thread; commands run on the control thread
 * (their replies are queued from there); output is written by the {@link OutputQueue}'s thread.
 * As in QEMU, without the {@code oob} capability the reader waits for each in-band command to finish
 * before it parses further input (replies strictly in order); with {@code oob}, up to 8 in-band
 * commands may wait, and {@code exec-oob} requests are answered at once from the reader thread.
 */
final class QmpSession {
    /** QEMU's QMP_REQ_QUEUE_LEN_MAX. */
    static final int QUEUE_MAX = 8;

    private final ClientConnection conn;
    private final boolean pretty;
    private final QmpDispatcher dispatcher;
    private final ControlLoop loop;
    private final OutputQueue out;
    private final QmpCapabilities capabilities = new QmpCapabilities();
    private final Semaphore inFlight = new Semaphore(QUEUE_MAX);

    /**
     * @param pretty whether replies and events are pretty-printed (the monitor's {@code pretty})
     * @param loop   the control thread, where in-band commands run
     */
    QmpSession(ClientConnection conn, String name, boolean pretty, QmpDispatcher dispatcher, ControlLoop loop) {
        this.conn = conn;
        this.pretty = pretty;
        this.dispatcher = dispatcher;
        this.loop = loop;
        this.out = new OutputQueue(conn, name + "-out");
    }

    /** True once qmp_capabilities succeeded (events go only to negotiated clients). */
    boolean negotiated() {
        return capabilities.negotiated();
    }

    /** Reader loop: greeting, then input until the client leaves. */
    void serve() {
        send(greeting());
        JsonStreamParser parser = new JsonStreamParser(this::onMessage);
        byte[] buf = new byte[8192];
        try {
            while (true) {
                int n = conn.read(buf);
                if (n < 0) {
                    break;
                }
                parser.feed(buf, 0, n);
            }
        } catch (IOException e) {
            // client gone (reset, or closed for not reading): end of session
        }
        // commands already handed over still run; wait for them so the next client starts clean
        inFlight.acquireUninterruptibly(QUEUE_MAX);
        inFlight.release(QUEUE_MAX);
        out.close();
        out.awaitFlushed(1000);
        conn.close();
    }

    private Map<String, Object> greeting() {
        Map<String, Object> qmp = new LinkedHashMap<>();
        qmp.put("version", Version.versionInfo());
        qmp.put("capabilities", new java.util.ArrayList<Object>(List.of("oob")));
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("QMP", qmp);
        return g;
    }

    /** Queues one message (reply or event) for the client, CRLF-terminated. */
    void send(Map<String, Object> message) {
        String text = pretty ? Json.writePretty(message).replace("\n", "\r\n") : Json.write(message);
        out.offer((text + "\r\n").getBytes(StandardCharsets.US_ASCII));
    }

    private void onMessage(Object value, JsonParseException error) {
        if (value instanceof Map<?, ?> m && m.containsKey("exec-oob") && !m.containsKey("execute")) {
            // out-of-band: answered right away, ahead of queued in-band commands
            send(dispatcher.dispatchOutOfBand(capabilities, castMap(m)));
            return;
        }
        int permits = capabilities.oobEnabled() ? 1 : QUEUE_MAX;
        inFlight.acquireUninterruptibly(permits);
        loop.post(() -> {
            try {
                Map<String, Object> rsp = dispatcher.dispatchInBand(capabilities, value, error);
                send(rsp);
            } finally {
                inFlight.release(permits);
            }
        });
        if (permits == QUEUE_MAX) {
            // no oob: wait for the command to finish before reading on (QEMU suspends the monitor)
            inFlight.acquireUninterruptibly(QUEUE_MAX);
            inFlight.release(QUEUE_MAX);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }

    /** Flushes what is queued and closes the connection (shutdown). */
    void closeFlushed(long timeoutMs) {
        out.close();
        out.awaitFlushed(timeoutMs);
        conn.close();
    }
}
