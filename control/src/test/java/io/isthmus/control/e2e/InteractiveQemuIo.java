package io.isthmus.control.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * qemu-io kept running with commands fed on its standard input, so that a client stays connected between
 * commands (and sends nothing, not even its exit-time flush, until told). Output is collected by a thread.
 */
final class InteractiveQemuIo implements AutoCloseable {
    private static final String PROMPT = "qemu-io> ";
    private final Process process;
    private final OutputStream in;
    private final StringBuilder out = new StringBuilder();
    private int consumed;

    InteractiveQemuIo(List<String> options, String image) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("qemu-io"));
        cmd.addAll(options);
        cmd.add(image);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        in = process.getOutputStream();
        InputStream stdout = process.getInputStream();
        Thread.ofPlatform().daemon().name("e2e-qemu-io-out").start(() -> {
            byte[] b = new byte[4096];
            try {
                int n;
                while ((n = stdout.read(b)) > 0) {
                    synchronized (out) {
                        out.append(new String(b, 0, n, StandardCharsets.UTF_8));
                        out.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // process gone
            }
        });
    }

    /** Waits for the first prompt: qemu-io has opened the image (connected). */
    InteractiveQemuIo awaitOpen() throws IOException, InterruptedException {
        await(PROMPT, 20_000);
        return this;
    }

    /**
     * Sends a command and waits until its output contains {@code marker} and the next prompt follows (the
     * command is done); returns that output. Every command consumes its own prompt, so none is matched twice.
     */
    String command(String command, String marker) throws IOException, InterruptedException {
        in.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
        String s = await(marker, 20_000);
        return s + await(PROMPT, 20_000);
    }

    /** Sends a command that prints nothing and waits for the next prompt. */
    String command(String command) throws IOException, InterruptedException {
        return command(command, "");
    }

    private String await(String marker, long timeoutMs) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (out) {
            while (true) {
                int at = out.indexOf(marker, consumed);
                if (at >= 0) {
                    String s = out.substring(consumed, at + marker.length());
                    consumed = at + marker.length();
                    return s;
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || (!process.isAlive() && out.indexOf(marker, consumed) < 0 && left < timeoutMs - 500)) {
                    throw new IOException("qemu-io did not print '" + marker + "'; output: " + out);
                }
                out.wait(Math.min(left, 100));
            }
        }
    }

    String output() {
        synchronized (out) {
            return out.toString();
        }
    }

    Process process() {
        return process;
    }

    /** Ends qemu-io (closing stdin makes it quit normally), killing it if it does not go. */
    @Override
    public void close() throws IOException {
        try {
            in.close();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
