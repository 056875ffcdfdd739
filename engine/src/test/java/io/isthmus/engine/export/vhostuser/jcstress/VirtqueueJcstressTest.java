package io.isthmus.engine.export.vhostuser.jcstress;

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
 * Runs the split-ring publication and notification jcstress tests ({@link VirtqueueStress}) in bounded time, in a
 * child JVM as the loop's JcstressTest does: the real protocol must pass, and the deliberately broken driver
 * (no fence between re-enabling interrupts and re-checking) must be caught, which shows the run exercises the race.
 */
class VirtqueueJcstressTest {
    static final List<String> MUST_PASS = List.of("AvailPublication", "UsedPublication", "NoLostInterrupt",
            "NoLostKick", "NoLostKickWithFlags");
    static final String MUST_FAIL = "BrokenInterruptNoFence";
    static final String PKG = "io.isthmus.engine.export.vhostuser.jcstress.VirtqueueStress.";

    @Test
    @Timeout(value = 170, unit = TimeUnit.SECONDS)
    void publicationAndNotificationHoldAndTheBrokenDriverIsCaught(@TempDir Path dir) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "org.openjdk.jcstress.Main",
                "-t", "vhostuser\\.jcstress\\.VirtqueueStress\\.",
                "-m", "default", "-jvmArgs", "-Xmx256m --enable-native-access=ALL-UNNAMED", "-sc", "false", "-f", "1",
                "-fsm", "0", "-iters", "1", "-time", "1000", "-v", "-r", dir.resolve("results").toString());
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
