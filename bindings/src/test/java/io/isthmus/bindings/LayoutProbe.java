package io.isthmus.bindings;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the C layout probe ({@code native-headers/probe.c}) reported: struct sizes, field offsets and sizes,
 * bitfield positions, constant values and macro results. {@link #compileAndRun} builds it with gcc against the
 * system headers; {@link #parse} reads its output (so tests can also feed altered output).
 */
final class LayoutProbe {
    final Map<String, Long> structs = new HashMap<>();
    final Map<String, long[]> fields = new HashMap<>();   // "tag.member" -> {offset, size}
    final Map<String, long[]> bits = new HashMap<>();     // "tag.member" -> {bit offset, width}
    final Map<String, Long> constants = new HashMap<>();
    final Map<String, Long> macros = new HashMap<>();

    static LayoutProbe parse(List<String> lines) {
        LayoutProbe p = new LayoutProbe();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            String[] w = line.trim().split(" ");
            switch (w[0]) {
                case "struct" -> p.structs.put(w[1], Long.parseLong(w[2]));
                case "field" -> p.fields.put(w[1], new long[] {Long.parseLong(w[2]), Long.parseLong(w[3])});
                case "bit" -> p.bits.put(w[1], new long[] {Long.parseLong(w[2]), Long.parseLong(w[3])});
                case "const" -> p.constants.put(w[1], Long.parseLong(w[2]));
                case "macro" -> p.macros.put(line.substring(6, line.lastIndexOf(' ')),
                        Long.parseLong(w[w.length - 1]));
                default -> throw new IllegalArgumentException("probe: unexpected line: " + line);
            }
        }
        return p;
    }

    /** The repository root: the isthmus.root system property (set by the build), else the parent of the cwd. */
    static Path root() {
        String r = System.getProperty("isthmus.root");
        Path p = r != null && !r.isBlank() ? Path.of(r) : Path.of("").toAbsolutePath().getParent();
        return p;
    }

    static List<String> compileAndRun(Path workDir) throws IOException, InterruptedException {
        Path src = root().resolve("native-headers/probe.c");
        if (!Files.isRegularFile(src)) {
            throw new IOException("layout probe not found: " + src);
        }
        Path exe = workDir.resolve("probe");
        List<String> cc = List.of("gcc", "-std=gnu11", "-Wall", "-Werror", "-D_GNU_SOURCE",
                "-D_FILE_OFFSET_BITS=64", "-I/usr/include/fuse3", src.toString(), "-o", exe.toString());
        run(cc, workDir);
        return List.of(run(List.of(exe.toString()), workDir).split("\n"));
    }

    private static String run(List<String> cmd, Path dir) throws IOException, InterruptedException {
        Path out = dir.resolve("out-" + System.nanoTime());
        Process pr = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        try {
            if (!pr.waitFor(60, TimeUnit.SECONDS)) {
                throw new IOException("timed out: " + cmd);
            }
        } finally {
            pr.destroyForcibly();
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        if (pr.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + pr.exitValue() + "):\n" + text);
        }
        return text;
    }

    static boolean gccAvailable() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, "gcc"))) {
                return true;
            }
        }
        return false;
    }

    List<String> structNames() {
        return new ArrayList<>(structs.keySet());
    }
}
