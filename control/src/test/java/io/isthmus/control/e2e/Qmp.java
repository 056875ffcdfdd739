package io.isthmus.control.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A QMP client for the end-to-end tests: a reader thread parses each line (QMP sends one message per
 * line) into a queue; replies and events are taken from it with deadlines. End of stream is a marker.
 */
final class Qmp implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Object> EOF = Map.of("<eof>", true);

    private final SocketChannel ch;
    private final OutputStream out;
    private final BlockingQueue<Map<String, Object>> incoming = new LinkedBlockingQueue<>();
    /** Events seen while waiting for replies, in arrival order. */
    private final List<Map<String, Object>> events = new ArrayList<>();
    private boolean eof;
    private final Thread reader;

    private Qmp(SocketChannel ch) {
        this.ch = ch;
        this.out = Channels.newOutputStream(ch);
        this.reader = Thread.ofPlatform().daemon().name("e2e-qmp-reader").start(this::readLoop);
    }

    /** Connects (retrying until the daemon listens), reads the greeting and negotiates capabilities. */
    static Qmp connect(Path socket, Process daemon) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                c.connect(UnixDomainSocketAddress.of(socket));
                Qmp q = new Qmp(c);
                Map<String, Object> greeting = q.next(10_000);
                if (greeting == null || !greeting.containsKey("QMP")) {
                    throw new IOException("no QMP greeting: " + greeting);
                }
                Map<String, Object> r = q.execute("qmp_capabilities", null);
                if (!r.containsKey("return")) {
                    throw new IOException("qmp_capabilities: " + r);
                }
                return q;
            } catch (java.net.SocketException e) {
                c.close();
                if (!daemon.isAlive()) {
                    throw new IOException("daemon exited with " + daemon.exitValue() + " before its monitor listened");
                }
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(10);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private void readLoop() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.isBlank()) {
                    incoming.add(JSON.readValue(line, LinkedHashMap.class));
                }
            }
        } catch (IOException ignored) {
            // closed
        } finally {
            incoming.add(EOF);
        }
    }

    /** The next message, or null on timeout or at end of stream. */
    Map<String, Object> next(long timeoutMs) throws InterruptedException {
        if (eof) {
            return null;
        }
        Map<String, Object> m = incoming.poll(timeoutMs, TimeUnit.MILLISECONDS);
        if (m == EOF) {
            eof = true;
            return null;
        }
        return m;
    }

    /** Sends a command and returns its reply (events before it are kept for {@link #awaitEvent}). */
    Map<String, Object> execute(String command, Map<String, Object> arguments) throws IOException, InterruptedException {
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("execute", command);
        if (arguments != null) {
            msg.put("arguments", arguments);
        }
        out.write((JSON.writeValueAsString(msg) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            Map<String, Object> m = left > 0 ? next(left) : null;
            if (m == null) {
                throw new IOException("no reply to " + command + (eof ? " (end of stream)" : " (timeout)"));
            }
            if (m.containsKey("event")) {
                events.add(m);
            } else {
                return m;
            }
        }
    }

    /** Executes and asserts success; returns the "return" value. */
    Object ok(String command, Map<String, Object> arguments) throws IOException, InterruptedException {
        Map<String, Object> r = execute(command, arguments);
        if (!r.containsKey("return")) {
            throw new AssertionError(command + " " + arguments + " failed: " + r);
        }
        return r.get("return");
    }

    /** The error description of a command that must fail. */
    @SuppressWarnings("unchecked")
    String error(String command, Map<String, Object> arguments) throws IOException, InterruptedException {
        Map<String, Object> r = execute(command, arguments);
        if (!r.containsKey("error")) {
            throw new AssertionError(command + " " + arguments + " succeeded but must fail: " + r);
        }
        return (String) ((Map<String, Object>) r.get("error")).get("desc");
    }

    /** Whether a matching event arrived before the replies read so far (it is left recorded). */
    boolean sawEvent(String name, Map<String, Object> data) {
        for (Map<String, Object> e : events) {
            if (matches(e, name, data)) {
                return true;
            }
        }
        return false;
    }

    /** Waits for an event with the given name whose data matches; earlier events stay recorded. */
    Map<String, Object> awaitEvent(String name, Map<String, Object> data, long timeoutMs) throws InterruptedException {
        for (Map<String, Object> e : events) {
            if (matches(e, name, data)) {
                events.remove(e);
                return e;
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            Map<String, Object> m = left > 0 ? next(left) : null;
            if (m == null) {
                return null;
            }
            if (matches(m, name, data)) {
                return m;
            }
            if (m.containsKey("event")) {
                events.add(m);
            }
        }
    }

    /** Every message until the daemon closes the stream (events included), bounded by the deadline. */
    List<Map<String, Object>> readToEnd(long timeoutMs) throws InterruptedException {
        List<Map<String, Object>> all = new ArrayList<>(events);
        events.clear();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!eof) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                all.add(Map.of("<still-open>", true));
                break;
            }
            Map<String, Object> m = next(left);
            if (m != null) {
                all.add(m);
            }
        }
        return all;
    }

    boolean atEof() {
        return eof;
    }

    private static boolean matches(Map<String, Object> m, String name, Map<String, Object> data) {
        return name.equals(m.get("event")) && (data == null || data.equals(m.get("data")));
    }

    static Map<String, Object> args(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Override
    public void close() throws IOException {
        ch.close();
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
