package io.isthmus.benchmarks.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs the Python tests of benchmarks/compare (benchmarks/harness/tests): the pure logic (medians,
 * ratios, /proc parsing, fio JSON from a recorded sample, table rendering, command lines) and, when
 * integration tests are on, the harness end to end against qemu-storage-daemon and fio (a daemon
 * that fails to start, one that dies mid-run, SIGTERM and Ctrl-C leaving nothing behind, the
 * ceiling server, the vhost-user-blk rows through the userspace front end on this test's class path).
 * Skipped only when python3 is absent.
 */
class CompareHarnessTest {

    private static Path python() {
        for (String dir : List.of("/usr/bin", "/usr/local/bin", "/bin")) {
            Path p = Path.of(dir, "python3");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                Path p = Path.of(dir, "python3");
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void pythonTestsPass() throws IOException, InterruptedException {
        Path python = python();
        assumeTrue(python != null, "python3 is absent (apt-get install python3): benchmarks/compare's tests skipped");
        Path root = Path.of(System.getProperty("isthmus.root", "."));
        Path harness = root.resolve("benchmarks/harness");
        assertTrue(Files.isDirectory(harness.resolve("tests")), "no " + harness.resolve("tests"));

        ProcessBuilder pb = new ProcessBuilder(python.toString(), "-m", "unittest", "discover", "-v",
                "-s", "tests", "-t", ".")
                .directory(harness.toFile())
                .redirectErrorStream(true);
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        pb.environment().put("ISTHMUS_IT", System.getProperty("isthmus.it", "true"));
        // the vhost-user-blk front end runs from this test's class path (no jar build inside a test)
        pb.environment().put("ISTHMUS_FE_CLASSPATH",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        Process p = pb.start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("python3 -m unittest did not exit");
            }
        } finally {
            p.destroyForcibly();
        }
        String[] lines = out.strip().split("\n");
        System.out.println("benchmarks/harness: " + lines[Math.max(0, lines.length - 3)] + " " + lines[lines.length - 1]);
        assertEquals(0, p.exitValue(), "benchmarks/harness tests failed:\n" + out);
        Matcher m = Pattern.compile("Ran (\\d+) tests?").matcher(out);
        assertTrue(m.find() && Integer.parseInt(m.group(1)) > 0, "no Python test ran:\n" + out);
    }
}
