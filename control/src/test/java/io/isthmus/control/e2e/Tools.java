package io.isthmus.control.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Runs the real client tools (qemu-io, qemu-img, nbdinfo, nbdcopy, fio) with bounded time. */
final class Tools {
    private Tools() {
    }

    /** What a finished tool said. */
    record Result(List<String> command, int exit, String out, String err) {
        Result ok() {
            assertEquals(0, exit, () -> "failed: " + String.join(" ", command) + "\nstdout: " + out + "\nstderr: " + err);
            return this;
        }

        @Override
        public String toString() {
            return String.join(" ", command) + " -> " + exit + "\nstdout: " + out + "\nstderr: " + err;
        }
    }

    static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (new File(d, tool).canExecute()) {
                return true;
            }
        }
        return false;
    }

    /** Skips the test when integration tests are off or a peer tool is missing (bin/check installs them). */
    static void require(String... tools) {
        assumeTrue(!"false".equals(System.getProperty("isthmus.it")), "integration tests disabled (isthmus.it=false)");
        for (String t : tools) {
            assumeTrue(onPath(t), t + " is not installed (bin/check installs it)");
        }
    }

    /** Skips unless fio is installed with its nbd engine (Debian's fio has it). */
    static void requireFioNbdEngine() throws IOException, InterruptedException {
        require("fio");
        Result help = run(10, "fio", "--enghelp=nbd");
        assumeTrue(help.exit() == 0 && help.out().contains("uri"), "this fio has no nbd engine");
    }

    static Result run(long timeoutSeconds, String... command) throws IOException, InterruptedException {
        return run(timeoutSeconds, Arrays.asList(command));
    }

    /** Runs to completion (killed after the timeout, which then fails the assertion with exit -1). */
    static Result run(long timeoutSeconds, List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("isthmus-e2e-out-", ".txt");
        Path err = Files.createTempFile("isthmus-e2e-err-", ".txt");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            int exit;
            if (p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                exit = p.exitValue();
            } else {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                exit = -1;
            }
            return new Result(List.copyOf(command), exit, Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** A qemu-io run with the given -c commands against an image (URI or file), format raw. */
    static Result qemuIo(String image, String... commands) throws IOException, InterruptedException {
        return qemuIo(List.of("-f", "raw"), image, commands);
    }

    /** A qemu-io run with options (such as -r, -t), the given -c commands, against an image. */
    static Result qemuIo(List<String> options, String image, String... commands)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("qemu-io"));
        cmd.addAll(options);
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(image);
        return run(60, cmd);
    }

    static String nbdUri(Path socket, String export) {
        return "nbd+unix:///" + export + "?socket=" + socket;
    }

    static Path tempDir() throws IOException {
        return Files.createTempDirectory("isthmus-e2e-");
    }

    static void deleteTree(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** A sparse file of the given size. */
    static Path sparseFile(Path dir, String name, long size) throws IOException {
        Path p = dir.resolve(name);
        try (var raf = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(size);
        }
        return p;
    }
}
