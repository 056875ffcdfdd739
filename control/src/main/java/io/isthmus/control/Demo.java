package io.isthmus.control;

import io.isthmus.control.cli.Getopt;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code isthmus --demo}: a sparse 1 GiB image in a fresh temporary directory, a QMP socket, and every
 * export this build can serve, with the commands to reach each from standard tools. The directory is
 * removed when the daemon exits (quit, Ctrl-C, SIGTERM).
 */
final class Demo {
    private Demo() {
    }

    /** @param prog the program name in messages */
    static int run(String prog) {
        Path dir;
        Path image;
        try {
            dir = Files.createTempDirectory("isthmus-demo-");
            image = dir.resolve("disk.img");
            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(1L << 30);
            }
        } catch (IOException e) {
            System.err.println(prog + ": --demo: cannot create the demo image: " + e.getMessage());
            return 1;
        }
        Path qmp = dir.resolve("qmp.sock");
        String[] args = {"--chardev", "socket,id=qmp,path=" + qmp + ",server=on,wait=off", "--monitor", "chardev=qmp"};
        List<Getopt.Item> items = Getopt.parse(prog, args);
        Runnable cleanup = () -> deleteTree(dir);
        Runtime.getRuntime().addShutdownHook(new Thread(cleanup));
        return DaemonRunner.run(prog, items, null, false, daemon -> announce(daemon, dir, image, qmp), cleanup);
    }

    private static void announce(Daemon daemon, Path dir, Path image, Path qmp) {
        StringBuilder sb = new StringBuilder();
        sb.append("Isthmus ").append(Version.ISTHMUS).append(" demo: serving a sparse 1 GiB image\n");
        sb.append("  image:  ").append(image).append('\n');
        sb.append("\nQMP (the control socket):\n");
        sb.append("  socat - UNIX-CONNECT:").append(qmp).append('\n');
        sb.append("  then type: {\"execute\": \"qmp_capabilities\"}  and  {\"execute\": \"query-version\"}\n");
        Path nbd = dir.resolve("nbd.sock");
        String blockdev = tryCommand(daemon, "blockdev-add", Map.of(
                "driver", "file", "node-name", "disk", "filename", image.toString()));
        if (blockdev == null) {
            String server = tryCommand(daemon, "nbd-server-start", Map.of(
                    "addr", Map.of("type", "unix", "data", Map.of("path", nbd.toString()))));
            String export = server != null ? server : tryCommand(daemon, "block-export-add", Map.of(
                    "type", "nbd", "id", "nbd0", "node-name", "disk", "name", "disk", "writable", true));
            if (export == null) {
                sb.append("\nNBD:\n");
                sb.append("  nbdinfo 'nbd+unix:///disk?socket=").append(nbd).append("'\n");
                sb.append("  qemu-img info 'nbd+unix:///disk?socket=").append(nbd).append("'\n");
            } else {
                sb.append("\nNBD export: not available in this build (").append(export).append(")\n");
            }
        } else {
            sb.append("\nBlock devices and exports (NBD, vhost-user-blk, FUSE): not available in this build yet (")
                    .append(blockdev).append(")\n");
        }
        sb.append("\nStop with Ctrl-C or {\"execute\": \"quit\"}; ").append(dir).append(" is removed on exit.\n");
        System.out.print(sb);
        System.out.flush();
    }

    /** Runs a command; returns null on success, else the error text. */
    private static String tryCommand(Daemon daemon, String command, Map<String, Object> args) {
        if (!daemon.commands().serves(command)) {
            return "no " + command + " yet";
        }
        try {
            daemon.commands().execute(command, deepCopy(args));
            return null;
        } catch (QmpError e) {
            return e.desc();
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> deepCopy(Map<String, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : m.entrySet()) {
            Object v = e.getValue();
            out.put(e.getKey(), v instanceof Map<?, ?> sub ? deepCopy((Map<String, ?>) sub) : v);
        }
        return out;
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
