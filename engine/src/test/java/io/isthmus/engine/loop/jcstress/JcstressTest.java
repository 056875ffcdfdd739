package io.isthmus.engine.loop.jcstress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the jcstress tests of the IoThread's task queue and wake-up protocol in bounded time (one JVM
 * configuration per test, about a second of stress each: some 30 s in all on 2 cores), in a child JVM because
 * jcstress forks its own and ends with System.exit. The real protocol must pass; the deliberately broken
 * variant ({@link BrokenWakeupStress}) must be caught, which shows the run actually exercises the race.
 */
class JcstressTest {
    static final List<String> MUST_PASS = List.of(
            "TaskQueueStress.TwoProducers", "TaskQueueStress.ProducerAndPollingConsumer",
            "TaskQueueStress.ProducerOrder", "WakeupStress.NoLostWakeup", "WakeupStress.ExactlyOneSignal",
            "WakeupStress.WakeThenSleepAgain");
    static final String MUST_FAIL = "BrokenWakeupStress.CheckBeforeOffer";
    static final String PKG = "io.isthmus.engine.loop.jcstress.";

    @Test
    @Timeout(value = 170, unit = TimeUnit.SECONDS)
    void queueAndWakeupPassAndTheBrokenVariantIsCaught(@TempDir Path dir) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                "org.openjdk.jcstress.Main",
                "-t", "jcstress\\.(WakeupStress|TaskQueueStress|BrokenWakeupStress)\\.",
                "-m", "default", "-jvmArgs", "-Xmx256m", "-sc", "false", "-f", "1", "-fsm", "0",
                "-iters", "1", "-time", "1000", "-v", "-r", dir.resolve("results").toString());
        Path out = dir.resolve("jcstress.out");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        try {
            assertTrue(p.waitFor(150, TimeUnit.SECONDS), "jcstress did not finish in time");
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        Map<String, List<String>> verdicts = verdicts(text);
        List<String> problems = new ArrayList<>();
        for (String t : MUST_PASS) {
            List<String> v = verdicts.getOrDefault(PKG + t, List.of());
            if (v.isEmpty() || !v.stream().allMatch("OK"::equals)) {
                problems.add(t + ": " + v);
            }
        }
        List<String> broken = verdicts.getOrDefault(PKG + MUST_FAIL, List.of());
        if (!broken.contains("FAILED")) {
            problems.add(MUST_FAIL + " was not caught: " + broken);
        }
        assertEquals(List.of(), problems, () -> "jcstress verdicts " + verdicts + "\n" + tail(text));
        assertTrue(text.contains("lost wake-up"), "the broken variant's forbidden outcome is reported");
    }

    private static Map<String, List<String>> verdicts(String text) {
        Map<String, List<String>> m = new TreeMap<>();
        Matcher x = Pattern.compile("\\[(OK|FAILED|ERROR)\\] (\\S+)").matcher(text);
        while (x.find()) {
            m.computeIfAbsent(x.group(2), k -> new ArrayList<>()).add(x.group(1));
        }
        return m;
    }

    private static String tail(String text) {
        return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
    }
}
