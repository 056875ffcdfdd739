package io.isthmus.engine.block;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real peers (qemu-img, qemu-io, qemu-storage-daemon, losetup) for integration tests. */
final class Peers {
    private Peers() {}

    record Result(int exit, String out) {}

    static void assumeIntegration(String... binaries) {
        assumeTrue(!"false".equals(System.getProperty("isthmus.it")), "integration tests disabled (isthmus.it=false)");
        for (String b : binaries) {
            assumeTrue(Files.isExecutable(Path.of("/usr/bin", b)) || Files.isExecutable(Path.of("/usr/sbin", b))
                    || Files.isExecutable(Path.of("/sbin", b)), b + " is not installed");
        }
    }

    static Result run(String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", cmd));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** Starts qemu-storage-daemon and waits until its pid file shows it has finished starting up. */
    static Process startQsd(Path dir, String... args) throws IOException, InterruptedException {
        Path pid = dir.resolve("qsd.pid");
        List<String> cmd = new ArrayList<>(List.of("qemu-storage-daemon", "--pidfile", pid.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("qsd.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(pid)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new IOException("qemu-storage-daemon did not start: " + Files.readString(dir.resolve("qsd.log")));
            }
            Thread.sleep(10);
        }
        return p;
    }

    static void stop(Process p) throws InterruptedException {
        if (p != null) {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }
}
