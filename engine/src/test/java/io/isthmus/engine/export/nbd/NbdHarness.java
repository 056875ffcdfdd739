package io.isthmus.engine.export.nbd;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.export.ExportArgs;
import io.isthmus.engine.export.ExportManager;
import io.isthmus.engine.export.ExportOptions;
import io.isthmus.engine.export.MemNode;
import io.isthmus.engine.loop.IoThread;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Test harness: IoThreads, an export manager over in-memory nodes, and the NBD server on a UNIX socket. */
final class NbdHarness implements AutoCloseable {
    final Path dir;
    final Path socket;
    final IoThread main;
    final List<IoThread> extra = new ArrayList<>();
    final Map<String, MemNode> nodes = new ConcurrentHashMap<>();
    final ExportManager manager;
    final NbdExportDriver driver = new NbdExportDriver();
    final LinkedBlockingQueue<String> deleted = new LinkedBlockingQueue<>();
    NbdServer server;
    io.isthmus.engine.tls.TlsCredentials tlsCreds;
    io.isthmus.engine.tls.Authz tlsAuthz;

    NbdHarness(String name) throws IOException {
        dir = Files.createTempDirectory("isthmus-nbd-");
        socket = dir.resolve("nbd.sock");
        main = IoThread.start(name + "-main");
        manager = new ExportManager(nodes::get, n -> extra.stream().filter(t -> t.name().equals(n)).findFirst()
                .orElse(null), () -> main, Runnable::run);
        manager.registerDriver(driver);
        manager.setListener(deleted::add);
    }

    IoThread addIoThread(String name) {
        IoThread t = IoThread.start(name);
        extra.add(t);
        return t;
    }

    MemNode node(String name, long size) {
        MemNode n = new MemNode(name, size, false);
        nodes.put(name, n);
        return n;
    }

    NbdServer start(int maxConnections, int handshakeSeconds) throws Exception {
        server = NbdServer.start(io.isthmus.engine.net.SocketAddress.unix(socket.toString()), main, maxConnections, handshakeSeconds, tlsCreds, tlsAuthz);
        server.setBitmapLookup(this::findBitmap);
        driver.setServer(server);
        return server;
    }

    /** The bitmaps of the in-memory nodes, with the texts of NbdBitmaps.inGraph. */
    private NbdBitmap findBitmap(String exportedNode, NbdExportOptions.BitmapRef ref) {
        MemNode n = nodes.get(ref.node() != null ? ref.node() : exportedNode);
        if (n == null) {
            throw new EngineException("Node '" + ref.node() + "' not found");
        }
        NbdBitmap b = n.bitmap(ref.name());
        if (b == null) {
            throw new EngineException(ref.node() != null ? "Dirty bitmap '" + ref.name() + "' not found"
                    : "Bitmap '" + ref.name() + "' is not found");
        }
        return b;
    }

    NbdExport export(String id, String node, boolean writable, NbdExportOptions o) throws Exception {
        return (NbdExport) manager.add(new ExportOptions("nbd", id, node, writable, false, null, false, false, false),
                args(o));
    }

    /** The block-export-add members that {@code o} is parsed from. */
    static ExportArgs args(NbdExportOptions o) {
        Map<String, Object> m = new java.util.HashMap<>();
        if (o.name() != null) {
            m.put("name", o.name());
        }
        if (o.description() != null) {
            m.put("description", o.description());
        }
        if (o.allocationDepth()) {
            m.put("allocation-depth", true);
        }
        if (o.bitmaps() != null) {
            List<Object> l = new ArrayList<>();
            for (NbdExportOptions.BitmapRef r : o.bitmaps()) {
                l.add(r.node() == null ? r.name() : Map.of("node", r.node(), "name", r.name()));
            }
            m.put("bitmaps", l);
        }
        return ExportArgs.of(m);
    }

    String uri(String export) {
        return "nbd+unix:///" + export + "?socket=" + socket;
    }

    static boolean have(String tool) {
        for (String p : System.getenv("PATH").split(":")) {
            if (Files.isExecutable(Path.of(p, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Runs a command, returns {exit code, stdout+stderr}. */
    static Object[] run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError("timed out: " + String.join(" ", cmd));
            }
            return new Object[] {p.exitValue(), new String(out, StandardCharsets.UTF_8)};
        } finally {
            p.destroyForcibly();
        }
    }

    @Override
    public void close() throws Exception {
        if (server != null) {
            for (var e : manager.list()) {
                manager.shutdown(e);
            }
            server.stop();
        }
        main.close();
        for (IoThread t : extra) {
            t.close();
        }
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
