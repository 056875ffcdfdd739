package io.isthmus.control.e2e;

import static io.isthmus.control.e2e.Tools.nbdUri;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Done-when (issue 5): the connections of one export spread over the IoThreads given as a list in
 * {@code iothread} (JSON form of --export). Four qemu-io clients write disjoint regions concurrently and
 * verify them; both IoThreads must have served requests, seen from outside as their context switches
 * (each one blocks in io_uring_enter between batches) in /proc/PID/task/TID/status, the threads found by
 * their names ({@code iothread-ID}).
 */
@Timeout(60)
class IoThreadSpreadTest {
    private static final int CLIENTS = 4;
    private static final int REGION = 4 << 20;
    private static final int CHUNK = 64 << 10;

    @Test
    void fourClientsOverTwoIoThreads() throws Exception {
        Tools.require("qemu-io");
        Path dir = Tools.tempDir();
        Daemon d = null;
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        try {
            Path img = Tools.sparseFile(dir, "disk.img", (long) CLIENTS * REGION);
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.isthmus(dir, List.of(
                    "--object", "iothread,id=io0", "--object", "iothread,id=io1",
                    "--blockdev", "driver=file,node-name=f0,filename=" + img,
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "{\"type\":\"nbd\",\"id\":\"e0\",\"node-name\":\"f0\",\"name\":\"disk\","
                            + "\"writable\":true,\"iothread\":[\"io0\",\"io1\"]}"), nbd);
            Map<String, Long> before = switchesByThread(d.pid());
            assertTrue(before.containsKey("iothread-io0") && before.containsKey("iothread-io1"),
                    "IoThreads not found by name: " + before.keySet());

            String uri = nbdUri(nbd, "disk");
            List<Future<Tools.Result>> runs = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                final int client = i;
                runs.add(pool.submit(() -> {
                    List<String> cmds = new ArrayList<>();
                    long base = (long) client * REGION;
                    for (long off = 0; off < REGION; off += CHUNK) {
                        cmds.add("write -P 0x" + Integer.toHexString(0x10 + client) + " " + (base + off) + " " + CHUNK);
                    }
                    cmds.add("read -P 0x" + Integer.toHexString(0x10 + client) + " " + base + " " + REGION);
                    return Tools.qemuIo(uri, cmds.toArray(String[]::new));
                }));
            }
            for (Future<Tools.Result> f : runs) {
                QemuIoDataTest.assertNoFailure(f.get(50, TimeUnit.SECONDS).ok());
            }
            Map<String, Long> after = switchesByThread(d.pid());
            long io0 = after.get("iothread-io0") - before.get("iothread-io0");
            long io1 = after.get("iothread-io1") - before.get("iothread-io1");
            // each client sent 65 requests and waited for each reply: a thread serving one wakes up for most
            assertTrue(io0 >= 32 && io1 >= 32, "both IoThreads must serve connections: io0 woke " + io0
                    + " times, io1 " + io1 + " (all threads: before " + before + ", after " + after + ")");

            // every region, read back on the file
            List<String> verify = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                verify.add("read -P 0x" + Integer.toHexString(0x10 + i) + " " + ((long) i * REGION) + " " + REGION);
            }
            QemuIoDataTest.assertNoFailure(Tools.qemuIo(List.of("-r", "-U", "-f", "raw"), img.toString(),
                    verify.toArray(String[]::new)).ok());
            assertEquals((long) CLIENTS * REGION, Files.size(img));
        } finally {
            pool.shutdownNow();
            if (d != null) {
                d.close();
            }
            Tools.deleteTree(dir);
        }
    }

    /** Voluntary plus involuntary context switches of each thread of the process, by thread name. */
    static Map<String, Long> switchesByThread(long pid) throws IOException {
        Map<String, Long> m = new LinkedHashMap<>();
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String name = Files.readString(t.resolve("comm")).trim();
                    long n = 0;
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            n += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                    m.merge(name, n, Long::sum);
                } catch (IOException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return m;
    }
}
