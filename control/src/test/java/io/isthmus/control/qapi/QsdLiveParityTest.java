package io.isthmus.control.qapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.isthmus.control.QmpError;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Runs the validator's and keyval's error tables against a live qemu-storage-daemon and requires
 * the same texts: QMP arguments over a temporary monitor socket, keyval through QSD's command
 * line (one short-lived process per case, each failing at once), and sizes through
 * {@code logical-block-size}, whose value QSD echoes in its range error.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class QsdLiveParityTest {
    private static final String QSD = "/usr/bin/qemu-storage-daemon";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static void assumeQsd() {
        assumeTrue(!"false".equals(System.getProperty("isthmus.it")), "integration tests disabled (isthmus.it=false)");
        assumeTrue(new File(QSD).canExecute(), "qemu-storage-daemon is not installed at " + QSD);
    }

    @Test
    @SuppressWarnings("unchecked")
    void qmpArgumentErrorsMatchQsd() throws Exception {
        assumeQsd();
        Path dir = Files.createTempDirectory("isthmus-qapi-parity");
        Path sock = dir.resolve("qmp.sock");
        Process qsd = new ProcessBuilder(QSD, "--chardev", "socket,id=m,path=" + sock + ",server=on,wait=off",
                "--monitor", "chardev=m").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!Files.exists(sock)) {
                assertTrue(System.nanoTime() < deadline && qsd.isAlive(), "QSD did not create its monitor socket");
                Thread.sleep(5);
            }
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(sock));
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
                in.readLine(); // greeting
                send(ch, in, "{\"execute\":\"qmp_capabilities\"}");
                List<String> mismatches = new ArrayList<>();
                int n = 0;
                for (Arguments a : (Iterable<Arguments>) QapiValidatorTest.badArguments()::iterator) {
                    String command = (String) a.get()[0];
                    String args = ((String) a.get()[1]).replace('\'', '"');
                    Map<String, Object> reply = send(ch, in, "{\"execute\":\"" + command + "\",\"arguments\":" + args + "}");
                    Map<String, Object> error = (Map<String, Object>) reply.get("error");
                    String theirs = error == null ? "(no error)" : (String) error.get("desc");
                    String ours;
                    try {
                        QapiValidatorTest.SCHEMA.validateArguments(command, QapiValidatorTest.json(args));
                        ours = "(no error)";
                    } catch (QmpError e) {
                        ours = e.desc();
                    }
                    if (!ours.equals(theirs)) {
                        mismatches.add(command + " " + args + ": QSD '" + theirs + "', Isthmus '" + ours + "'");
                    }
                    n++;
                }
                assertEquals(List.of(), mismatches);
                assertTrue(n > 50);
            }
        } finally {
            qsd.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> send(SocketChannel ch, BufferedReader in, String cmd) throws IOException {
        ch.write(ByteBuffer.wrap(cmd.getBytes(StandardCharsets.UTF_8)));
        while (true) {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("QSD closed the monitor");
            }
            Map<String, Object> m = JSON.readValue(line, Map.class);
            if (!m.containsKey("event")) {
                return m;
            }
        }
    }

    /** Runs QSD with one option and returns the error text after {@code --opt arg: }. */
    private static String qsdOptionError(String option, String arg, String... before) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(QSD));
        cmd.addAll(List.of(before));
        cmd.add(option);
        cmd.add(arg);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            byte[] out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(10, TimeUnit.SECONDS), "QSD did not exit for " + cmd);
            String text = new String(out, StandardCharsets.UTF_8).strip();
            String[] lines = text.split("\n");
            String last = lines[lines.length - 1];
            String prefix = "qemu-storage-daemon: " + option + " " + arg + ": ";
            return last.startsWith(prefix) ? last.substring(prefix.length()) : "(unexpected output) " + text;
        } finally {
            p.destroyForcibly();
        }
    }

    private static final Map<String, String> OPTION_OF_TYPE = Map.of(
            "BlockdevOptions", "--blockdev", "NbdServerOptions", "--nbd-server", "BlockExportOptions", "--export",
            "ObjectOptions", "--object", "MonitorOptions", "--monitor");

    @Test
    void keyvalErrorsMatchQsdsCommandLine() throws Exception {
        assumeQsd();
        List<String> mismatches = new ArrayList<>();
        for (Arguments a : (Iterable<Arguments>) KeyvalTest.malformed()::iterator) {
            String text = (String) a.get()[0];
            String option = a.get()[1] == null ? "--nbd-server" : "--blockdev";
            String theirs = qsdOptionError(option, text);
            if (!theirs.equals(a.get()[2])) {
                mismatches.add(option + " " + text + ": QSD '" + theirs + "', table '" + a.get()[2] + "'");
            }
        }
        for (Arguments a : (Iterable<Arguments>) KeyvalTest.badValues()::iterator) {
            String option = OPTION_OF_TYPE.get((String) a.get()[0]);
            String text = (String) a.get()[1];
            String theirs = qsdOptionError(option, text);
            if (!theirs.equals(a.get()[3])) {
                mismatches.add(option + " " + text + ": QSD '" + theirs + "', table '" + a.get()[3] + "'");
            }
        }
        assertEquals(List.of(), mismatches);
    }

    /** Sizes QSD parses, checked through vhost-user-blk's logical-block-size range error. */
    @Test
    void sizeParsingMatchesQsd() throws Exception {
        assumeQsd();
        List<String> mismatches = new ArrayList<>();
        for (String size : SizeParsingTest.SIZES.keySet()) {
            String arg = "vhost-user-blk,id=e,node-name=n,addr.type=unix,addr.path=/nonexistent/isthmus/s,logical-block-size=" + size;
            String theirs = qsdOptionError("--export", arg, "--blockdev", "null-co,node-name=n");
            BigInteger ours = QemuNumbers.strtosz(size);
            String expected;
            if (ours == null) {
                expected = "Parameter 'logical-block-size' expects size";
            } else if (ours.bitCount() == 1 && ours.longValue() >= 512 && ours.longValue() <= 2097152) {
                expected = "Failed to bind socket to /nonexistent/isthmus/s: No such file or directory";
            } else if (ours.bitCount() != 1 && ours.longValue() >= 512 && ours.longValue() <= 2097152) {
                expected = "Property e.logical-block-size doesn't take value '" + ours + "', it's not a power of 2";
            } else {
                expected = "Property e.logical-block-size doesn't take value " + ours.longValue()
                        + " (minimum: 512, maximum: 2097152)";
            }
            if (!theirs.equals(expected)) {
                mismatches.add(size + ": QSD '" + theirs + "', Isthmus '" + expected + "'");
            }
        }
        assertEquals(List.of(), mismatches);
    }
}
