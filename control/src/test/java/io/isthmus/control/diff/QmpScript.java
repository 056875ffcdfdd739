package io.isthmus.control.diff;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A scripted QMP session (a {@code .qmp} file under {@code src/test/resources/diff/}):
 * <pre>
 * # comment                        ignored, as are blank lines
 * @args --object iothread,id=io0   extra daemon options (DIR = the daemon's private directory)
 * @setup qemu-img create ... DIR/x run in the daemon's directory before the daemon starts (must succeed)
 * @pretty                          the monitor uses pretty=on
 * {"execute": "..."}               sent as is (UTF-8), DIR replaced; replies are collected up to a sync marker
 * @raw BYTES                       sent as is after decoding \xNN, \r, \n, \t, \\ escapes
 * @split PART|PART|...             sent in pieces 50 ms apart (a command split across writes)
 * @reconnect                       closes the connection and opens a new one (fresh session)
 * @quit                            sends quit, reads until the server closes, records exit status
 * @signal TERM|INT|HUP             sends the signal, reads until the server closes, records exit status
 * </pre>
 * After each sending step the harness sends {@code {"execute": "query-version", "id": "__sync-N__"}}
 * and reads until its reply, so every step's replies are known exactly.
 */
record QmpScript(String name, List<String> args, List<String> setup, boolean pretty, List<Step> steps) {
    enum Kind { SEND, RECONNECT, QUIT, SIGNAL }

    /** One step; {@code line} is the script line as written (its identity in known differences). */
    record Step(Kind kind, String line, List<byte[]> chunks) {
    }

    static QmpScript load(Path file) throws IOException {
        List<String> args = new ArrayList<>();
        List<String> setup = new ArrayList<>();
        boolean pretty = false;
        List<Step> steps = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            if (t.startsWith("@args ")) {
                for (String a : t.substring(6).trim().split("\\s+")) {
                    args.add(a);
                }
            } else if (t.startsWith("@setup ")) {
                setup.add(t.substring(7).trim());
            } else if (t.equals("@pretty")) {
                pretty = true;
            } else if (t.startsWith("@raw ")) {
                steps.add(new Step(Kind.SEND, t, List.of(unescape(t.substring(5)))));
            } else if (t.startsWith("@split ")) {
                List<byte[]> parts = new ArrayList<>();
                for (String p : t.substring(7).split("\\|")) {
                    parts.add(unescape(p));
                }
                steps.add(new Step(Kind.SEND, t, parts));
            } else if (t.equals("@reconnect")) {
                steps.add(new Step(Kind.RECONNECT, t, List.of()));
            } else if (t.equals("@quit")) {
                steps.add(new Step(Kind.QUIT, t, List.of()));
            } else if (t.startsWith("@signal ")) {
                steps.add(new Step(Kind.SIGNAL, t, List.of()));
            } else if (t.startsWith("@")) {
                throw new IOException(file + ": unknown directive " + t);
            } else {
                steps.add(new Step(Kind.SEND, t, List.of(t.getBytes(StandardCharsets.UTF_8))));
            }
        }
        String name = file.getFileName().toString();
        return new QmpScript(name, List.copyOf(args), List.copyOf(setup), pretty, List.copyOf(steps));
    }

    static byte[] unescape(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                switch (n) {
                    case 'x' -> {
                        out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                        i += 2;
                    }
                    case 'r' -> out.write('\r');
                    case 'n' -> out.write('\n');
                    case 't' -> out.write('\t');
                    case '\\' -> out.write('\\');
                    default -> {
                        out.write('\\');
                        out.write(n);
                    }
                }
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        return out.toByteArray();
    }
}
