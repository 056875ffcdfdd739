package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportArgs;
import io.isthmus.engine.export.ExportManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The block-export group: block-export-add, block-export-del, query-block-exports and the --export option,
 * over the engine's one export table ({@link ExportManager}: the daemon builds it with its drivers, so the
 * vhost-user-blk and FUSE drivers join it there, and announces BLOCK_EXPORT_DELETED when the engine reports an
 * export really gone). The legacy nbd-server-add/-remove ({@link NbdServerCommands}) come through
 * {@link #add} and {@link #del}.
 *
 * <p>Threads: handlers run on the control thread.
 */
public final class BlockExportCommands implements CommandGroup {
    private final ExportManager manager;

    public BlockExportCommands(ExportManager manager) {
        this.manager = manager;
    }

    @Override
    public void register(CommandRegistry r) {
        r.register("block-export-add", this::add);
        r.register("block-export-del", this::del);
        r.register("query-block-exports", args -> query());
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
