package io.isthmus.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ABI check: compiles native-headers/probe.c with gcc against this machine's headers, runs it, and compares
 * every layout, field, bitfield and constant of every class in io.isthmus.bindings with it. Any mismatch, or
 * anything declared in Java without a probe entry, fails the build.
 */
@Timeout(120)
class LayoutProbeTest {
    static LayoutProbe probe;

    @BeforeAll
    static void runProbe(@TempDir Path dir) throws Exception {
        assumeTrue(LayoutProbe.gccAvailable(), "gcc is not installed (bin/check installs it): cannot build the probe");
        probe = LayoutProbe.parse(LayoutProbe.compileAndRun(dir));
    }

    /** Every top-level class compiled from bindings/src/main (discovered from the class files, not listed). */
    static List<Class<?>> bindingsClasses() throws Exception {
        Path dir = Path.of(Unistd.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("io/isthmus/bindings");
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String f = p.getFileName().toString();
                if (f.endsWith(".class") && !f.contains("$")) {
                    out.add(Class.forName("io.isthmus.bindings." + f.substring(0, f.length() - 6)));
                }
            }
        }
        return out;
    }

    @Test
    void everyBindingAgreesWithTheCHeaders() throws Exception {
        List<Class<?>> classes = bindingsClasses();
        assertTrue(classes.size() >= 20, "found only " + classes);
        LayoutChecker checker = new LayoutChecker(probe).checkClasses(classes);
        assertEquals(List.of(), checker.errors(), "bindings disagree with the C headers");
        // the reflection must actually have found things (a checker that sees nothing passes everything)
        assertTrue(checker.layoutsChecked >= 30, "layouts checked: " + checker.layoutsChecked);
        assertTrue(checker.fieldsChecked >= 240, "fields checked: " + checker.fieldsChecked);
        assertTrue(checker.bitfieldsChecked >= 8, "bitfields checked: " + checker.bitfieldsChecked);
        assertTrue(checker.constantsChecked >= 390, "constants checked: " + checker.constantsChecked);
    }

    @Test
    void cmsgShimMatchesTheMacros() {
        assertEquals(probe.macros.get("CMSG_ALIGN(1)"), Cmsg.align(1));
        assertEquals(probe.macros.get("CMSG_ALIGN(9)"), Cmsg.align(9));
        assertEquals(probe.macros.get("CMSG_SPACE(4)"), Cmsg.space(4));
        assertEquals(probe.macros.get("CMSG_SPACE(12)"), Cmsg.space(12));
        assertEquals(probe.macros.get("CMSG_SPACE(4 * 253)"), Cmsg.space(4 * 253));
        assertEquals(probe.macros.get("CMSG_LEN(4)"), Cmsg.len(4));
        assertEquals(probe.macros.get("CMSG_LEN(12)"), Cmsg.len(12));
        assertEquals(probe.macros.get("CMSG_LEN(0)"), Cmsg.data(0));
    }

    @Test
    void everyProbeLineHasAJavaCounterpart() throws Exception {
        // the reverse direction: a probe entry no binding declares is a layout, field or constant deleted or
        // renamed by mistake on the Java side (bitfields named "padding*" are C filler and not bound)
        LayoutChecker checker = new LayoutChecker(probe).checkClasses(bindingsClasses());
        assertEquals(List.of(), orphans(probe.structs.keySet(), checker.matchedStructs), "structs");
        assertEquals(List.of(), orphans(probe.fields.keySet(), checker.matchedFields), "fields");
        assertEquals(List.of(), orphans(probe.constants.keySet(), checker.matchedConstants), "constants");
        List<String> bits = orphans(probe.bits.keySet(), checker.matchedBits);
        bits.removeIf(b -> b.substring(b.indexOf('.') + 1).startsWith("padding"));
        assertEquals(List.of(), bits, "bitfields");
    }

    private static List<String> orphans(java.util.Set<String> inProbe, java.util.Set<String> matched) {
        List<String> o = new ArrayList<>(inProbe);
        o.removeAll(matched);
        java.util.Collections.sort(o);
        return o;
    }

    static LayoutProbe probe() throws IOException {
        return probe;
    }
}
