package io.isthmus.engine.export.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.guest.TestGuest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The export's process killed with SIGKILL while a guest writes with fio (verification on), and started again on
 * the same socket: QEMU reconnects ({@code reconnect=1}), hands the new back end the inflight region
 * (SET_INFLIGHT_FD), the requests the dead one left in flight are resubmitted, and fio's verification passes.
 * The daemon throttles writes ({@link #WRITE_IOPS}), so fio's writes wait in it and some are in flight at a kill.
 * Each restarted process reports how many requests it ran again from the inflight region; the daemon is killed
 * up to {@link #ATTEMPTS} times until one restart resubmitted at least one request, which proves a request was in
 * flight at the kill.
 */
@Timeout(600)
class VhostUserBlkRestartTest {
    private static final int ATTEMPTS = 4;
    /** The daemon's write limit: fio's 16-deep writes queue in its throttle filter, in flight when it is killed. */
    private static final int WRITE_IOPS = 300;

    @TempDir
    Path dir;
    /** The latest "resubmitted=N" line of any kill target, as N. */
    private final LinkedBlockingQueue<Long> resubmitted = new LinkedBlockingQueue<>();

    private Process start(Path image, Path sock) throws Exception {
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                VhostUserKillTarget.class.getName(), image.toString(), sock.toString(),
                Integer.toString(WRITE_IOPS)))
                .redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
        String line;
        StringBuilder out = new StringBuilder();
        while ((line = r.readLine()) != null && !line.equals("ready")) {
            out.append(line).append('\n');
        }
        assertEquals("ready", line, out.toString());
        Thread.ofVirtual().start(() -> r.lines().forEach(l -> {
            System.out.println("[target] " + l);
            if (l.startsWith("resubmitted=")) {
                resubmitted.add(Long.parseLong(l.substring("resubmitted=".length())));
            }
        }));
        return p;
    }

    @Test
    void sigkilledBackEndRestartsAndFioVerificationPasses() throws Exception {
        TestGuest.assumeAvailable();
        Path image = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64L << 20);
        }
        Path sock = dir.resolve("v.sock");
        Process current = start(image, sock);
        try (TestGuest.Running g = TestGuest.builder().vhostUser(sock, 1, "reconnect=1", "")
                .script("echo FIO-START\n"
                        + "fio --name=w --filename=/dev/vda --ioengine=libaio --direct=1 --rw=randwrite --bs=4k"
                        + " --iodepth=16 --size=8M --verify=crc32c --do_verify=1 --verify_fatal=1 --randrepeat=0"
                        + " --eta=never --output-format=terse --terse-version=3 >/tmp/fio.out 2>&1"
                        + " || { cat /tmp/fio.out; exit 1; }\n"
                        + "cut -d';' -f1-8 /tmp/fio.out\n")
                .start(dir)) {
            assertTrue(g.awaitConsole("FIO-START"), g.console());
            long seen = 0;
            int kills = 0;
            while (seen == 0 && kills < ATTEMPTS) {
                Thread.sleep(1500);
                current.destroyForcibly();
                assertTrue(current.waitFor(10, TimeUnit.SECONDS));
                kills++;
                current = start(image, sock);
                // QEMU reconnects after a second and starts the queue; the target reports what it resubmitted
                Long n = resubmitted.poll(8, TimeUnit.SECONDS);
                seen = n == null ? 0 : n;
            }
            TestGuest.Result r = g.await();
            System.out.println("restart: boot to exit " + r.elapsed().toMillis() + " ms, " + kills
                    + " kill(s), requests resubmitted after the last " + seen);
            assertEquals(0, r.exitStatus(), r.console());
            assertTrue(r.console().contains("3;fio-"), r.console());
            assertTrue(seen > 0, "a restarted daemon resubmitted requests left in flight, in " + kills + " kills");
        } finally {
            current.destroyForcibly();
        }
    }
}
