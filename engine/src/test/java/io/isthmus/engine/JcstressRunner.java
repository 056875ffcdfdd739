package io.isthmus.engine;

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

/**
 * Runs a set of jcstress tests in bounded time (one JVM configuration per test, about a second of stress each), in
 * a child JVM because jcstress forks its own and ends with System.exit, and checks the verdicts: every test in
 * {@code mustPass} passes, and the deliberately broken variant {@code mustFail} is caught, which shows the run
 * actually exercises the race. Used by each package's jcstress test (the IoThread's queue and wake-up, the
 * virtqueue publication protocol).
 */
public final class JcstressRunner {
    private JcstressRunner() {
    }

    /**
     * @param testRegex jcstress's {@code -t} filter
     * @param pkg the prefix of the names below ({@code "io.isthmus...jcstress."})
     * @return jcstress's output, for further checks
     */
    public static String runAndCheck(Path dir, String testRegex, String pkg, List<String> mustPass, String mustFail)
            throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "org.openjdk.jcstress.Main", "-t", testRegex,
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
        for (String t : mustPass) {
            List<String> v = verdicts.getOrDefault(pkg + t, List.of());
            if (v.isEmpty() || !v.stream().allMatch("OK"::equals)) {
                problems.add(t + ": " + v);
            }
        }
        List<String> broken = verdicts.getOrDefault(pkg + mustFail, List.of());
        if (!broken.contains("FAILED")) {
            problems.add(mustFail + " was not caught: " + broken);
        }
        assertEquals(List.of(), problems, () -> "jcstress verdicts " + verdicts + "\n" + tail(text));
        return text;
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
