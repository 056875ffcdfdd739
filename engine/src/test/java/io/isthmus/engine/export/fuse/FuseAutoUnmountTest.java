package io.isthmus.engine.export.fuse;

import static org.junit.jupiter.api.Assertions.*;

import io.isthmus.engine.loop.IoThread;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon killed with SIGKILL leaves no dead mount behind: libfuse's auto_unmount (fusermount3's watcher) unmounts
 * it, and the next export on the same path mounts at once (QSD leaves an ENOTCONN mount there).
 */
class FuseAutoUnmountTest {
    @TempDir
    Path dir;

    @Test
    void sigkilledDaemonLeavesNoStaleMount() throws Exception {
        FuseMountTest.assumeFuse();
        Path mnt = dir.resolve("image");
        Files.createFile(mnt);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                FuseKillTarget.class.getName(), mnt.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            String line;
            StringBuilder out = new StringBuilder();
            while ((line = r.readLine()) != null && !line.equals("ready")) {
                out.append(line).append('\n');
            }
            assertEquals("ready", line, out.toString());
            assertTrue(FuseMountTest.mounted(mnt));
            assertEquals(1 << 20, Files.size(mnt));
            p.destroyForcibly(); // SIGKILL
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (FuseMountTest.mounted(mnt) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(FuseMountTest.mounted(mnt), "the watcher unmounted the dead mount");
        assertEquals(0, Files.size(mnt), "the mountpoint file is visible again");
        // and the path can be exported again at once
        try (IoThread t = IoThread.start("fuse-remount")) {
            FuseTestNode node = new FuseTestNode(4096, 4096);
            FuseMount m = FuseMount.mount(mnt.toString(), FuseMount.Options.of(true, FuseMount.AllowOther.OFF));
            FuseServer s = FuseServer.start(m, new FuseFile(node.access(), node,
                    FuseExportConfig.of(true, false, m.allowOther())), List.of(t));
            try {
                assertEquals(4096, Files.size(mnt));
            } finally {
                s.stop().get(10, TimeUnit.SECONDS);
                m.close();
            }
        }
        assertFalse(FuseMountTest.mounted(mnt));
    }
}
