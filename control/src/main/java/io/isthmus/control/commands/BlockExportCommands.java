package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportManager;
import io.isthmus.engine.export.ExportOptions;
import io.isthmus.engine.export.nbd.NbdExportOptions;
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

    Object add(Map<String, Object> a) throws QmpError {
        String type = (String) a.get("type");
        List<String> threads = null;
        boolean list = false;
        Object io = a.get("iothread");
        if (io instanceof String s) {
            threads = List.of(s);
        } else if (io instanceof List<?> l) {
            threads = new ArrayList<>();
            for (Object o : l) {
                threads.add((String) o);
            }
            list = true;
        }
        Object typeOptions = null;
        if ("nbd".equals(type)) {
            List<NbdExportOptions.BitmapRef> bitmaps = null;
            if (a.get("bitmaps") instanceof List<?> l) {
                bitmaps = new ArrayList<>();
                for (Object o : l) {
                    if (o instanceof String s) {
                        bitmaps.add(new NbdExportOptions.BitmapRef(null, s));
                    } else if (o instanceof Map<?, ?> m) {
                        bitmaps.add(new NbdExportOptions.BitmapRef((String) m.get("node"), (String) m.get("name")));
                    }
                }
            }
            typeOptions = new NbdExportOptions((String) a.get("name"), (String) a.get("description"), bitmaps,
                    bool(a, "allocation-depth"));
        }
        ExportOptions o = new ExportOptions(type, (String) a.get("id"), (String) a.get("node-name"),
                bool(a, "writable"), bool(a, "writethrough"), threads, list, bool(a, "fixed-iothread"),
                bool(a, "allow-inactive"), typeOptions);
        try {
            manager.add(o);
        } catch (EngineException e) {
            throw QmpError.generic(e.getMessage());
        }
        return null;
    }

    private static boolean bool(Map<String, Object> a, String k) {
        return Boolean.TRUE.equals(a.get(k));
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
