package io.isthmus.control.qmp;

import io.isthmus.control.Daemon;
import io.isthmus.control.QmpError;
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
public final class QmpSession {
    /** QEMU's QMP_REQ_QUEUE_LEN_MAX. */
    static final int QUEUE_MAX = 8;

    private final Daemon daemon;
    private final QmpMonitor monitor;
    private final ClientConnection conn;
    private final OutputQueue out;
    private final JsonStreamParser parser = new JsonStreamParser(this::onMessage);
    private final Semaphore inFlight = new Semaphore(QUEUE_MAX);
    private volatile boolean negotiated;
    private volatile boolean oobEnabled;

    QmpSession(Daemon daemon, QmpMonitor monitor, ClientConnection conn, String name) {
        this.daemon = daemon;
        this.monitor = monitor;
        this.conn = conn;
        this.out = new OutputQueue(conn, name + "-out");
    }

    public boolean negotiated() {
        return negotiated;
    }

    public boolean oobEnabled() {
        return oobEnabled;
    }

    /** Reader loop: greeting, then input until the client leaves. */
    void serve() {
        send(greeting());
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
    public void send(Map<String, Object> message) {
        String text = monitor.pretty() ? Json.writePretty(message).replace("\n", "\r\n") : Json.write(message);
        out.offer((text + "\r\n").getBytes(StandardCharsets.US_ASCII));
    }

    /** qmp_capabilities on this session (control thread). */
    public void negotiate(List<String> enable) throws QmpError {
        if (negotiated) {
            throw new QmpError(QmpError.COMMAND_NOT_FOUND, "Capabilities negotiation is already complete, command ignored");
        }
        boolean oob = false;
        for (String cap : enable) {
            if (!"oob".equals(cap)) {
                throw QmpError.generic("Capability " + cap + " not available");
            }
            oob = true;
        }
        oobEnabled = oob;
        negotiated = true;
    }

    private void onMessage(Object value, JsonParseException error) {
        if (value instanceof Map<?, ?> m && m.containsKey("exec-oob") && !m.containsKey("execute")) {
            // out-of-band: answered right away, ahead of queued in-band commands
            send(QmpDispatcher.dispatchOutOfBand(daemon, this, castMap(m)));
            return;
        }
        inFlight.acquireUninterruptibly(oobEnabled ? 1 : QUEUE_MAX);
        int permits = oobEnabled ? 1 : QUEUE_MAX;
        daemon.loop().post(() -> {
            try {
                Map<String, Object> rsp = QmpDispatcher.dispatchInBand(daemon, this, value, error);
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
