package io.isthmus.control;

import io.isthmus.control.cli.Getopt;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The training run for the start-up cache ({@code bin/isthmus} runs it once after each build under
 * {@code -XX:AOTCacheOutput}): starts a daemon in this JVM exactly as {@link Main} does, with monitors on
 * a UNIX and a TCP socket, command-line objects, block nodes and NBD exports, then plays a QMP session over the UNIX socket
 * (negotiation, the query commands, object-add/-del, the error paths) and quits. What this loads,
 * links and profiles is what the daemon's start and first commands find ready in the cache.
 *
 * <p>Exit status 0 when the session ran as expected, 1 otherwise (the launcher then starts without a
 * cache). Everything it creates lives in a private temporary directory removed at the end.
 */
public final class StartupTraining {
    private StartupTraining() {
    }

    private static final String[] SESSION = {
        "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}",
        "{\"execute\": \"query-version\", \"id\": 1}",
        "{\"execute\": \"query-commands\"}",
        "{\"execute\": \"query-block-exports\"}",
        "{\"execute\": \"query-named-block-nodes\"}",
        "{\"execute\": \"query-qmp-schema\"}",
        "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"iothread\", \"id\": \"io1\"}}",
        "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"secret\", \"id\": \"s1\", \"data\": \"aGk=\", \"format\": \"base64\"}}",
        "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"authz-simple\", \"id\": \"a1\", \"identity\": \"x\"}}",
        "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"a1\"}}",
        "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"io1\"}}",
        "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"iothread\", \"id\": 5}}",
        "{\"execute\": \"nosuch\", \"id\": \"x\"}",
        "{\"exec-oob\": \"query-version\", \"id\": \"o\"}",
        "{'execute': 'query-version', 'id': [1, 2.5, true, null, {}]}",
        "{\"execute\": }",
        "[1]",
    };

    public static void main(String[] args) throws Exception {
        Main.preferDefaultSelectorProvider();
        Path dir = Files.createTempDirectory("isthmus-training-");
        boolean ok = false;
        try {
            ok = run(dir);
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        System.exit(ok ? 0 : 1);
    }

    private static boolean run(Path dir) throws Exception {
        Path sock = dir.resolve("qmp.sock");
        Path img = dir.resolve("train.img");
        try (var f = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            f.truncate(0).write(ByteBuffer.allocate(1), (1 << 20) - 1); // a 1 MiB sparse image
        }
        // Block nodes, an NBD server and exports as users start them: their set-up (io_uring, the FFM
        // downcalls, the NBD listener) runs before a monitor given after them can greet.
        String[] argv = {
            "--chardev", "socket,id=m0,path=" + sock + ",server=on,wait=off", "--monitor", "chardev=m0",
            "--chardev", "socket,id=m1,host=127.0.0.1,port=0,server=on,wait=off", "--monitor", "m1,pretty=on",
            "--object", "secret,id=sec0,data=x", "--object", "{\"qom-type\": \"authz-list\", \"id\": \"al0\"}",
            "--object", "iothread,id=tio0",
            "--blockdev", "driver=file,node-name=f0,filename=" + img,
            "--blockdev", "raw,node-name=r0,file=f0",
            "--blockdev", "{\"driver\": \"null-co\", \"node-name\": \"n0\", \"size\": 1048576}",
            "--nbd-server", "addr.type=unix,addr.path=" + dir.resolve("nbd.sock"),
            "--export", "nbd,id=e0,node-name=r0,writable=on",
            "--export", "{\"type\": \"nbd\", \"id\": \"e1\", \"node-name\": \"n0\", \"iothread\": \"tio0\"}",
        };
        List<Getopt.Item> items = Getopt.parse(Main.ARGV0, argv);
        int[] status = {-1};
        Thread daemon = new Thread(() -> status[0] = DaemonRunner.run(Main.PROG, items, null, false, null, null),
                "training-main");
        daemon.start();
        boolean ok;
        try (SocketChannel ch = connect(sock, daemon)) {
            ok = readLine(ch).startsWith("{\"QMP\": ");
            for (String cmd : SESSION) {
                send(ch, cmd);
                ok &= readLine(ch).startsWith("{\"");
            }
            send(ch, "{\"execute\": \"quit\"}");
            String reply = readLine(ch);
            while (reply.startsWith("{\"timestamp\"")) { // BLOCK_EXPORT_DELETED of the exports come first
                reply = readLine(ch);
            }
            ok &= reply.equals("{\"return\": {}}");
        }
        daemon.join(30_000);
        return ok && status[0] == 0;
    }

    private static SocketChannel connect(Path sock, Thread daemon) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(sock));
                return ch;
            } catch (IOException e) {
                ch.close();
                if (!daemon.isAlive() || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(5);
            }
        }
    }

    private static void send(SocketChannel ch, String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static final StringBuilder PENDING = new StringBuilder();

    /** The next CRLF-terminated message; empty string at end of stream. */
    private static String readLine(SocketChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(65536);
        while (true) {
            int i = PENDING.indexOf("\r\n");
            if (i >= 0) {
                String l = PENDING.substring(0, i);
                PENDING.delete(0, i + 2);
                return l;
            }
            b.clear();
            if (ch.read(b) < 0) {
                return "";
            }
            PENDING.append(new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII));
        }
    }
}
