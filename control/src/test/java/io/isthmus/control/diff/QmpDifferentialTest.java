package io.isthmus.control.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * Runs every {@code diff/*.qmp} session against qemu-storage-daemon and against Isthmus and compares
 * the transcripts step by step (replies byte for byte after masking the package string; events as a
 * multiset with timestamps masked; exit status after quit or a signal). Differences must be listed in
 * {@code diff/known-differences.txt} with their reason.
 */
@Timeout(120)
class QmpDifferentialTest {
    private static final Set<String> RAN = new TreeSet<>();

    @TestFactory
    Stream<DynamicTest> sessions() throws IOException {
        assumeTrue(DiffSupport.integrationEnabled(), "integration tests disabled (isthmus.it=false)");
        assumeTrue(DaemonUnderTest.qsdAvailable(), "qemu-storage-daemon is not installed");
        List<Path> files;
        try (Stream<Path> s = Files.list(DiffSupport.dataDir())) {
            files = s.filter(p -> p.toString().endsWith(".qmp")).sorted().toList();
        }
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> runScript(f)));
    }

    private static void runScript(Path file) throws Exception {
        QmpScript script = QmpScript.load(file);
        List<String> args = new ArrayList<>(List.of(
                "--chardev", "socket,id=qmp,path=DIR/qmp.sock,server=on,wait=off",
                "--monitor", "chardev=qmp" + (script.pretty() ? ",pretty=on" : "")));
        args.addAll(script.args());
        SessionTranscript qsd;
        SessionTranscript isthmus;
        try (DaemonUnderTest q = DaemonUnderTest.start(DaemonUnderTest.Kind.QSD, args, script.setup());
             DaemonUnderTest i = DaemonUnderTest.start(DaemonUnderTest.Kind.ISTHMUS, args, script.setup())) {
            qsd = SessionTranscript.run(script, q);
            if (script.name().equals(System.getProperty("isthmus.diff.dump"))) {
                dump(script, qsd); // -Disthmus.diff.dump=FILE.qmp: QSD's transcript, for writing a script
            }
            isthmus = SessionTranscript.run(script, i);
        }
        synchronized (RAN) {
            RAN.add(script.name());
        }
        KnownDifferences known = DiffSupport.knownDifferences();
        StringBuilder report = new StringBuilder();
        for (int s = 0; s < qsd.stepReplies.size(); s++) {
            String stepLine = s == 0 ? "(greeting)" : script.steps().get(s - 1).line();
            List<String> a = qsd.stepReplies.get(s);
            List<String> b = s < isthmus.stepReplies.size() ? isthmus.stepReplies.get(s) : List.of("<<missing>>");
            if (!a.equals(b) && known.allowed(script.name(), stepLine) == null) {
                report.append("step ").append(stepLine).append("\n  qsd:     ").append(a)
                        .append("\n  isthmus: ").append(b).append('\n');
            }
        }
        if (!qsd.events.equals(isthmus.events) && known.allowed(script.name(), "(events)") == null) {
            report.append("events differ\n  qsd:     ").append(qsd.events)
                    .append("\n  isthmus: ").append(isthmus.events).append('\n');
        }
        if (!qsd.exitStatus.equals(isthmus.exitStatus)) {
            report.append("exit status: qsd ").append(qsd.exitStatus).append(", isthmus ").append(isthmus.exitStatus);
        }
        assertEquals("", report.toString(), script.name() + ": unexplained differences");
    }

    private static void dump(QmpScript script, SessionTranscript t) {
        StringBuilder sb = new StringBuilder("QSD transcript of " + script.name() + "\n");
        for (int s = 0; s < t.stepReplies.size(); s++) {
            sb.append(s == 0 ? "(greeting)" : script.steps().get(s - 1).line()).append('\n');
            for (String r : t.stepReplies.get(s)) {
                sb.append("  ").append(r.strip()).append('\n');
            }
        }
        sb.append("events: ").append(t.events).append('\n');
        System.out.print(sb);
    }

    @AfterAll
    static void noStaleKnownDifferences() {
        Set<String> ran;
        synchronized (RAN) {
            ran = Set.copyOf(RAN);
        }
        if (ran.isEmpty()) {
            return;
        }
        Set<String> unused = DiffSupport.knownDifferences().unused(ran);
        assertTrue(unused.isEmpty(), "known-differences.txt entries no longer needed: " + unused);
    }
}
