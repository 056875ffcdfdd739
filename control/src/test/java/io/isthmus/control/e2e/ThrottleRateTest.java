package io.isthmus.control.e2e;

import static io.isthmus.control.e2e.Tools.nbdUri;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The throttle filter holds QEMU's limits side by side with qemu-storage-daemon: fio's nbd engine through an
 * NBD export of a throttled null-co node (not read-zeroes, whose reads the NBD server answers from block status
 * without reading, in QSD as in Isthmus), the same job against both daemons, I/O rates within 10%. Covers a
 * plain rate, a burst, a byte rate, two nodes sharing one group, and a qom-set during the run (raising the
 * limit half way: the mean rate shows whether the new limit took effect on the queued requests at once).
 */
@Timeout(300)
class ThrottleRateTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void iopsTotal500() throws Exception {
        compare("iops-total=500", List.of("limits.iops-total=500"), 1, "randread", "4k", 4, false, 600);
    }

    @Test
    void burst() throws Exception {
        compare("iops-total=200 max=2000 length=2", List.of("limits.iops-total=200", "limits.iops-total-max=2000",
                "limits.iops-total-max-length=2"), 1, "randread", "4k", 5, false, 1200);
    }

    @Test
    void bpsTotal10MiB() throws Exception {
        compare("bps-total=10MiB", List.of("limits.bps-total=10485760"), 1, "randwrite", "64k", 4, false, 200);
    }

    @Test
    void twoNodesShareOneGroup() throws Exception {
        compare("two nodes, iops-total=400", List.of("limits.iops-total=400"), 2, "randread", "4k", 4, false, 500);
    }

    @Test
    void qomSetDuringTheRun() throws Exception {
        compare("iops-total 200 then 1000", List.of("limits.iops-total=200"), 1, "randread", "4k", 5, true, 800);
    }

    /** Runs the job on both daemons and compares total I/Os per second (the sum over the nodes' jobs). */
    private static void compare(String what, List<String> limits, int nodes, String rw, String bs, int seconds,
                                boolean qomSet, double expectMax) throws Exception {
        Tools.requireFioNbdEngine();
        assumeTrue(Tools.onPath("qemu-storage-daemon"), "qemu-storage-daemon is not installed");
        double qsd = run(Daemon.Kind.QSD, limits, nodes, rw, bs, seconds, qomSet);
        double isthmus = run(Daemon.Kind.ISTHMUS, limits, nodes, rw, bs, seconds, qomSet);
        System.out.println("ThrottleRateTest " + what + ": Isthmus " + isthmus + " I/O/s, QSD " + qsd + " I/O/s");
        assertTrue(qsd < expectMax, what + ": QSD itself was not throttled (" + qsd + " I/O/s)");
        double ratio = isthmus / qsd;
        assertTrue(ratio > 0.9 && ratio < 1.1, what + ": Isthmus " + isthmus + " I/O/s, QSD " + qsd + " I/O/s");
    }

    private static double run(Daemon.Kind kind, List<String> limits, int nodes, String rw, String bs, int seconds,
                              boolean qomSet) throws Exception {
        Path dir = Tools.tempDir();
        Path nbd = dir.resolve("nbd.sock");
        List<String> opts = new ArrayList<>();
        opts.addAll(List.of("--object", "throttle-group,id=tg," + String.join(",", limits)));
        for (int i = 0; i < nodes; i++) {
            opts.addAll(List.of("--blockdev", "null-co,node-name=n" + i + ",size=268435456",
                    "--blockdev", "throttle,node-name=t" + i + ",throttle-group=tg,file=n" + i));
        }
        opts.addAll(List.of("--nbd-server", "addr.type=unix,addr.path=" + nbd));
        for (int i = 0; i < nodes; i++) {
            opts.addAll(List.of("--export", "type=nbd,id=e" + i + ",node-name=t" + i + ",name=d" + i + ",writable=on"));
        }
        try (Daemon d = Daemon.start(kind, dir, opts, nbd)) {
            List<String> cmd = new ArrayList<>(List.of("fio", "--output-format=json",
                    "--output=" + dir.resolve("fio.json"), "--ioengine=nbd", "--rw=" + rw, "--bs=" + bs,
                    "--iodepth=8", "--runtime=" + seconds, "--time_based"));
            for (int i = 0; i < nodes; i++) {
                cmd.addAll(List.of("--name=j" + i, "--uri=" + nbdUri(nbd, "d" + i)));
            }
            Process fio = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("fio.out").toFile()).start();
            if (qomSet) {
                Thread.sleep(seconds * 1000L / 2);
                d.qmp.ok("qom-set", Qmp.args("path", "tg", "property", "limits", "value", Map.of("iops-total", 1000)));
            }
            assertTrue(fio.waitFor(seconds + 60L, java.util.concurrent.TimeUnit.SECONDS), "fio hangs");
            JsonNode r = JSON.readTree(Files.readString(dir.resolve("fio.json")));
            double total = 0;
            for (JsonNode job : r.get("jobs")) {
                assertTrue(job.get("error").asInt() == 0, "fio error: " + Files.readString(dir.resolve("fio.out")));
                total += job.get("read").get("iops").asDouble() + job.get("write").get("iops").asDouble();
            }
            return total;
        } finally {
            Tools.deleteTree(dir);
        }
    }
}
