package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import io.isthmus.control.commands.qom.ObjectRegistry;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockNode;
import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportManager;
import io.isthmus.engine.export.nbd.NbdBitmaps;
import io.isthmus.engine.export.nbd.NbdExportDriver;
import io.isthmus.engine.export.nbd.NbdServer;
import io.isthmus.engine.net.SocketAddress;
import io.isthmus.engine.tls.Authz;
import io.isthmus.engine.tls.TlsCredentials;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The nbd-server group: nbd-server-start (SocketAddressLegacy), the --nbd-server option (flat SocketAddress),
 * nbd-server-stop, and the deprecated nbd-server-add / nbd-server-remove with their legacy semantics.
 * One NBD server per daemon, shared by every NBD export, held by the NBD export driver (exports reach it
 * there). Control thread only.
 *
 * <p>TLS: {@code tls-creds} names a tls-creds-x509/psk/anon object (server endpoint); the server keeps a
 * reference on the credentials until it stops. {@code tls-authz} is resolved at each client check, as QEMU.
 */
public final class NbdServerCommands implements CommandGroup {
    private final NbdExportDriver driver;
    private final ExportManager manager;
    private final BlockExportCommands exports;
    private final BlockGraph graph;
    private final ObjectRegistry objects;
    private final ExportIoThreads threads;
    private final OptionHooks optionHooks;

    /**
     * @param driver  the NBD export driver, which holds the running server
     * @param exports the block-export group, through which nbd-server-add and nbd-server-remove add and delete
     * @param graph   where nbd-server-add finds its node, and the server an export's {@code {node, name}} bitmaps
     * @param objects where tls-creds and tls-authz objects are found
     * @param threads the server listens on the default IoThread
     */
    public NbdServerCommands(NbdExportDriver driver, ExportManager manager, BlockExportCommands exports,
                             BlockGraph graph, ObjectRegistry objects, ExportIoThreads threads,
                             OptionHooks optionHooks) {
        this.driver = driver;
        this.manager = manager;
        this.exports = exports;
        this.graph = graph;
        this.objects = objects;
        this.threads = threads;
        this.optionHooks = optionHooks;
    }

    @Override
    public void register(CommandRegistry r) {
        r.register("nbd-server-start", a -> {
            start(legacyAddress(map(a.get("addr"))), a);
            return null;
        });
        r.register("nbd-server-stop", a -> {
            stop();
            return null;
        });
        r.register("nbd-server-add", this::add);
        r.register("nbd-server-remove", this::remove);
        optionHooks.set("nbd-server", a -> {
            start(flatAddress(map(a.get("addr"))), a);
            return null;
        });
    }

    /** Shutdown: stops the server if one runs (its exports are closed already). */
    public static void stopServer(NbdExportDriver driver) {
        NbdServer s = driver.server();
        if (s != null) {
            driver.setServer(null);
            s.stop();
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private void start(SocketAddress addr, Map<String, Object> a) throws QmpError {
        if (driver.server() != null) {
            throw QmpError.generic("NBD server already running");
        }
        int maxConn = a.get("max-connections") instanceof Long l ? (int) Math.min(l, Integer.MAX_VALUE)
                : NbdServer.DEFAULT_MAX_CONNECTIONS;
        int hs = a.get("handshake-max-seconds") instanceof Long l ? (int) Math.min(l, Integer.MAX_VALUE)
                : NbdServer.DEFAULT_HANDSHAKE_MAX_SECONDS;
        String credsId = (String) a.get("tls-creds");
        String authzId = (String) a.get("tls-authz");
        // credentials are looked up before the listener opens (QEMU: after; only the error reported when both
        // the address and the credentials are wrong differs)
        TlsCredentials creds = null;
        if (credsId != null) {
            creds = TlsCredsLookup.serverCredentials(objects::get, credsId);
        }
        Authz authz = authzId == null ? null : identity -> {
            Object o = objects.get(authzId);
            if (!(o instanceof Authz z)) {
                throw new EngineException("Cannot find QAuthZ object ID " + authzId);
            }
            return z.isAllowed(identity);
        };
        NbdServer s;
        try {
            s = NbdServer.start(addr, threads.defaultThread(), maxConn, hs, creds, authz);
        } catch (EngineException e) {
            if (creds != null) {
                creds.release();
            }
            throw QmpError.generic(e.getMessage());
        }
        s.setBitmapLookup(NbdBitmaps.inGraph(graph));
        driver.setServer(s);
    }

    private void stop() throws QmpError {
        NbdServer s = driver.server();
        if (s == null) {
            throw QmpError.generic("NBD server not running");
        }
        // QEMU: the listener goes, then every NBD export is closed (their events precede the reply)
        driver.setServer(null);
        s.stop();
        manager.closeAll("nbd");
    }

    private Object add(Map<String, Object> a) throws QmpError {
        String device = (String) a.get("device");
        String name = a.get("name") != null ? (String) a.get("name") : device;
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("type", "nbd");
        opts.put("id", name);
        opts.put("node-name", device);
        boolean writable = Boolean.TRUE.equals(a.get("writable"));
        BlockNode node = graph.find(device);
        if (node == null) {
            throw QmpError.generic("Cannot find device='" + device + "' nor node-name='" + device + "'");
        }
        if (driver.server() == null) {
            throw QmpError.generic("NBD server not running"); // QSD 7.2 looks the device up first
        }
        if (node.isReadOnly()) {
            writable = false; // legacy: quietly read-only
        }
        opts.put("writable", writable);
        opts.put("name", name);
        if (a.get("description") != null) {
            opts.put("description", a.get("description"));
        }
        if (a.get("bitmap") != null) {
            opts.put("bitmaps", List.of(a.get("bitmap")));
        }
        return exports.add(opts);
    }

    private Object remove(Map<String, Object> a) throws QmpError {
        String name = (String) a.get("name");
        BlockExport e = manager.find(name);
        if (e != null && !"nbd".equals(e.type())) {
            throw QmpError.generic("Block export '" + name + "' is not an NBD export");
        }
        Map<String, Object> del = new LinkedHashMap<>();
        del.put("id", name);
        if (a.get("mode") != null) {
            del.put("mode", a.get("mode"));
        }
        return exports.del(del);
    }

    // ---- addresses

    private static SocketAddress legacyAddress(Map<String, Object> addr) throws QmpError {
        String type = (String) addr.get("type");
        Map<String, Object> data = map(addr.get("data"));
        Map<String, Object> flat = new LinkedHashMap<>(data);
        flat.put("type", type);
        return flatAddress(flat);
    }

    private static SocketAddress flatAddress(Map<String, Object> a) throws QmpError {
        String type = (String) a.get("type");
        switch (type == null ? "" : type) {
            case "unix" -> {
                return SocketAddress.unix((String) a.get("path"));
            }
            case "inet" -> {
                return SocketAddress.inet((String) a.get("host"), (String) a.get("port"),
                        (Boolean) a.get("ipv4"), (Boolean) a.get("ipv6"));
            }
            case "fd" -> {
                String str = (String) a.get("str");
                try {
                    int fd = Integer.parseInt(str);
                    if (fd < 0) {
                        throw new NumberFormatException();
                    }
                    return SocketAddress.fd(fd);
                } catch (NumberFormatException e) {
                    // QSD has no monitor fd passing: a named fd cannot exist
                    throw QmpError.generic("only QEMU supports file descriptor passing");
                }
            }
            default -> throw QmpError.generic("socket family '" + type + "' is not supported");
        }
    }
}
