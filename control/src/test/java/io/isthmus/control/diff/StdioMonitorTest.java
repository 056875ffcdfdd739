package io.isthmus.control.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

/**
 * A monitor on {@code --chardev stdio}, plain and {@code pretty=on}, against qemu-storage-daemon and
 * Isthmus: the same input (commands, errors, a command split across nothing but concatenation, quit)
 * on stdin; stdout must match byte for byte once the package string is masked, and so must stderr
 * and the exit status.
 */
@Timeout(120)
class StdioMonitorTest {
    private static final String INPUT = "{\"execute\": \"query-version\"}"
            + "{\"execute\": \"qmp_capabilities\", \"id\": {\"a\": [1, 2, {}], \"b\": []}}"
            + "{\"execute\": \"query-version\", \"id\": 1}{\"execute\": \"nosuch\", \"id\": 2}[1, 2]"
            + "{'execute': 'object-add', 'arguments': {'qom-type': 'iothread', 'id': 'io0', 'poll-max-ns': 'x'}}"
            + "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"secret\", \"id\": \"s0\", \"data\": \"\\u00e9\\t\"}}"
            + "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"s0\"}, \"id\": \"\\u0001\"}"
            + "{\"execute\": \"quit\"}";

    record Outcome(String stdout, String stderr, int status) {
    }

    @ParameterizedTest
    @ValueSource(strings = {"chardev=m", "chardev=m,pretty=on", "chardev=m,pretty=off"})
    void sameBytesAsQsd(String monitor) throws Exception {
        assumeTrue(DiffSupport.integrationEnabled(), "integration tests disabled (isthmus.it=false)");
        assumeTrue(DaemonUnderTest.qsdAvailable(), "qemu-storage-daemon is not installed");
        assertEquals(run(DaemonUnderTest.Kind.QSD, monitor), run(DaemonUnderTest.Kind.ISTHMUS, monitor), monitor);
    }

    private static Outcome run(DaemonUnderTest.Kind kind, String monitor) throws Exception {
        Path dir = Files.createTempDirectory("isthmus-stdio-");
        Process p = null;
        try {
            Path in = Files.writeString(dir.resolve("in.txt"), INPUT);
            List<String> cmd = DaemonUnderTest.command(kind);
            cmd.addAll(List.of("--chardev", "stdio,id=m", "--monitor", monitor));
            p = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectOutput(dir.resolve("out").toFile())
                    .redirectError(dir.resolve("err").toFile()).start();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                return new Outcome("<<still running>>", "", -1);
            }
            String out = Files.readString(dir.resolve("out"), StandardCharsets.ISO_8859_1)
                    .replaceAll("\"package\": \"[^\"]*\"", "\"package\": \"P\"");
            String err = Files.readString(dir.resolve("err"), StandardCharsets.UTF_8).replace("qemu-storage-daemon", "isthmus");
            return new Outcome(out, err, p.exitValue());
        } finally {
            if (p != null) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            DaemonUnderTest.deleteTree(dir);
        }
    }
}
