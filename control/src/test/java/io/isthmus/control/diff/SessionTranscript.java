package io.isthmus.control.diff;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Runs a {@link QmpScript} against one daemon and records, per step, the replies in order (masked:
 * the greeting's and query-version's {@code package}, the daemon's private directory as {@code DIR}, and
 * generated node names, which end in two random digits in QEMU) and, for the whole session, the events as a
 * multiset (timestamps masked). {@code DIR} in a command is replaced by the daemon's directory.
 */
final class SessionTranscript {
    private static final Pattern PACKAGE = Pattern.compile("\"package\": \"[^\"]*\"");
    private static final Pattern TIMESTAMP = Pattern.compile(
            "\"timestamp\": \\{(\\s*)\"seconds\": \\d+,(\\s*)\"microseconds\": \\d+(\\s*)\\}");
    private static final Pattern GENERATED_NODE_NAME = Pattern.compile("#block\\d+");
    private static final long READ_TIMEOUT_MS = 5000;

    private final String dir;

    private SessionTranscript(Path dir) {
        this.dir = dir.toString();
    }

    final List<List<String>> stepReplies = new ArrayList<>();
    final TreeMap<String, Integer> events = new TreeMap<>();
    final List<String> exitStatus = new ArrayList<>();

    static SessionTranscript run(QmpScript script, DaemonUnderTest d) throws IOException, InterruptedException {
        SessionTranscript t = new SessionTranscript(d.dir);
        Path sock = d.awaitSocket("qmp.sock", 15000);
        QmpTestClient c = new QmpTestClient(sock);
        int sync = 0;
        try {
            t.addGreeting(c.readMessage(READ_TIMEOUT_MS));
            for (QmpScript.Step step : script.steps()) {
                List<String> replies = new ArrayList<>();
                switch (step.kind()) {
                    case SEND -> {
                        for (int i = 0; i < step.chunks().size(); i++) {
                            if (i > 0) {
                                Thread.sleep(50);
                            }
                            c.send(withDir(step.chunks().get(i), t.dir));
                        }
                        String marker = "\"__sync-" + (sync++) + "__\"";
                        c.send("{\"execute\": \"query-version\", \"id\": " + marker + "}");
                        for (String m : c.readUntil(m -> m.contains(marker), READ_TIMEOUT_MS)) {
                            if (!m.contains(marker)) {
                                t.add(replies, m);
                            }
                        }
                    }
                    case RECONNECT -> {
                        c.close();
                        c = new QmpTestClient(sock);
                        t.addGreetingTo(replies, c.readMessage(READ_TIMEOUT_MS));
                    }
                    case QUIT, SIGNAL -> {
                        if (step.kind() == QmpScript.Kind.QUIT) {
                            c.send("{\"execute\": \"quit\"}");
                        } else {
                            String sig = step.line().substring("@signal ".length()).trim();
                            new ProcessBuilder("kill", "-" + sig, Long.toString(d.process.pid())).start().waitFor();
                        }
                        for (String m : c.readToEnd(READ_TIMEOUT_MS)) {
                            t.add(replies, m);
                        }
                        boolean exited = d.process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
                        t.exitStatus.add(exited ? "exit " + d.process.exitValue() : "still running");
                    }
                }
                t.stepReplies.add(replies);
            }
        } finally {
            c.close();
        }
        return t;
    }

    private void addGreeting(String m) {
        List<String> l = new ArrayList<>();
        addGreetingTo(l, m);
        stepReplies.add(l);
    }

    private void addGreetingTo(List<String> l, String m) {
        l.add(m == null ? "<<no greeting>>" : mask(m));
    }

    private void add(List<String> replies, String m) {
        if (m.contains("\"timestamp\"") && m.contains("\"event\"")) {
            events.merge(mask(m), 1, Integer::sum);
        } else {
            replies.add(mask(m));
        }
    }

    /** The chunk with every {@code DIR} replaced by the daemon's directory (bytes otherwise untouched). */
    static byte[] withDir(byte[] chunk, String dir) {
        byte[] d = dir.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(chunk.length);
        for (int i = 0; i < chunk.length; i++) {
            if (i + 3 <= chunk.length && chunk[i] == 'D' && chunk[i + 1] == 'I' && chunk[i + 2] == 'R') {
                out.write(d, 0, d.length);
                i += 2;
            } else {
                out.write(chunk[i]);
            }
        }
        return out.toByteArray();
    }

    private String mask(String m) {
        m = m.replace(dir, "DIR");
        m = GENERATED_NODE_NAME.matcher(m).replaceAll("#blockN");
        m = PACKAGE.matcher(m).replaceAll("\"package\": \"<PACKAGE>\"");
        return TIMESTAMP.matcher(m).replaceAll("\"timestamp\": {$1\"seconds\": S,$2\"microseconds\": US$3}");
    }
}
