package io.isthmus.control.commands;

import io.isthmus.control.Daemon;
import io.isthmus.control.QmpError;
import io.isthmus.control.commands.qom.IothreadObject;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.BlockGraphNodes;
import io.isthmus.engine.export.ExportArgs;
import io.isthmus.engine.export.ExportManager;
import io.isthmus.engine.export.nbd.NbdExportDriver;
import io.isthmus.engine.loop.IoThread;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The block-export group: block-export-add, block-export-del, query-block-exports and the --export option,
 * over the engine's one export table ({@link ExportManager}, registered as a daemon component so the
 * vhost-user-blk and FUSE groups add their drivers to it). BLOCK_EXPORT_DELETED is emitted when the engine
 * reports an export really gone.
 *
 * <p>Threads: handlers run on the control thread. IoThreads: a default one (QSD's main loop for exports
 * without {@code iothread}, started on first use) and those of the iothread objects exports name.
 */
public final class BlockExportCommands implements CommandGroup {
    private final Daemon daemon;
    private final ExportManager manager;
    private final NbdExportDriver nbd;
    private volatile IoThread defaultThread;

    public BlockExportCommands(Daemon daemon) {
        this.daemon = daemon;
        this.manager = new ExportManager(this::findNode, this::iothread, this::defaultIoThread, r -> {
            if (daemon.loop().inLoop()) {
                daemon.loop().post(r); // after the running command's reply, as QEMU's bottom half
            } else {
                r.run();
            }
        });
        this.nbd = new NbdExportDriver();
        manager.registerDriver(nbd);
        manager.setWaitPump(daemon.loop()::drainPending);
        manager.setListener(id -> {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("id", id);
            daemon.events().emit("BLOCK_EXPORT_DELETED", data);
        });
    }

    io.isthmus.engine.export.ExportableNode findNode(String name) {
        BlockGraph g = daemon.component(BlockGraph.class);
        return g == null ? null : BlockGraphNodes.resolver(g).find(name);
    }

    /** The IoThread of iothread object {@code id}; null when there is no such object. */
    private IoThread iothread(String id) {
        IothreadObject o = daemon.objects().get(id, IothreadObject.class);
        return o == null ? null : o.ioThread();
    }

    synchronized IoThread defaultIoThread() {
        if (defaultThread == null) {
            defaultThread = IoThread.start("main-loop");
        }
        return defaultThread;
    }

    @Override
    public void register(CommandRegistry r) {
        daemon.putComponent(ExportManager.class, manager);
        daemon.putComponent(NbdExportDriver.class, nbd);
        daemon.putComponent(BlockExportCommands.class, this);
        r.register("block-export-add", this::add);
        r.register("block-export-del", this::del);
        r.register("query-block-exports", args -> query());
        daemon.addShutdownStep(Daemon.ShutdownPhase.EXPORTS, () -> manager.closeAll(null));
        daemon.addShutdownStep(Daemon.ShutdownPhase.OBJECTS, this::stopThreads);
        new NbdServerCommands(daemon, this).register(r);
    }

    ExportManager manager() {
        return manager;
    }

    NbdExportDriver nbdDriver() {
        return nbd;
    }

    private void stopThreads() {
        IoThread d = defaultThread;
        if (d != null) {
            d.close();
        }
    }

    /** block-export-add and --export: the engine reads the common members and the type's driver its own. */
    Object add(Map<String, Object> a) throws QmpError {
        try {
            manager.add(ExportArgs.of(a));
        } catch (EngineException e) {
            throw QmpError.generic(e.getMessage());
        }
        return null;
    }

    Object del(Map<String, Object> a) throws QmpError {
        boolean hard = "hard".equals(a.get("mode"));
        try {
            manager.delete((String) a.get("id"), hard);
        } catch (EngineException e) {
            throw QmpError.generic(e.getMessage());
        }
        return null;
    }

    private Object query() {
        List<Object> out = new ArrayList<>();
        for (BlockExport e : manager.list()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", e.id());
            m.put("type", e.type());
            m.put("node-name", e.nodeName());
            m.put("shutting-down", e.shuttingDown());
            out.add(m);
        }
        return out;
    }
}
