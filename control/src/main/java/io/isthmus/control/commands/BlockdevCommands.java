package io.isthmus.control.commands;

import io.isthmus.control.Daemon;
import io.isthmus.control.QmpError;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockNode;
import io.isthmus.engine.block.BlockOptions;
import io.isthmus.engine.block.DirtyBitmap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The blockdev group: blockdev-add (and so {@code --blockdev}, which {@link OptionHooks} routes here),
 * blockdev-del, query-named-block-nodes and block_resize over the engine's {@link BlockGraph}, which this
 * group creates and registers as a daemon component (exports find their nodes there). Control thread only.
 */
public final class BlockdevCommands implements CommandGroup {
    private final Daemon daemon;
    private final BlockGraph graph = new BlockGraph();

    public BlockdevCommands(Daemon daemon) {
        this.daemon = daemon;
    }

    @Override
    public void register(CommandRegistry r) {
        daemon.putComponent(BlockGraph.class, graph);
        daemon.addShutdownStep(Daemon.ShutdownPhase.BLOCK, graph::closeAll);
        r.register("blockdev-add", args -> {
            graph.add(options(args));
            return null;
        });
        r.register("blockdev-del", args -> {
            graph.delete((String) args.get("node-name"));
            return null;
        });
        r.register("query-named-block-nodes", args -> queryNamedBlockNodes(graph));
        r.register("block_resize", this::blockResize);
    }

    /** Translates validated BlockdevOptions into the engine's options (inline children recursively). */
    @SuppressWarnings("unchecked")
    static BlockOptions options(Map<String, Object> a) {
        BlockOptions o = new BlockOptions();
        o.driver = (String) a.get("driver");
        o.nodeName = (String) a.get("node-name");
        o.discard = (String) a.get("discard");
        if (a.get("cache") instanceof Map<?, ?> cache) {
            o.cacheDirect = (Boolean) cache.get("direct");
            o.cacheNoFlush = (Boolean) cache.get("no-flush");
        }
        o.readOnly = (Boolean) a.get("read-only");
        o.autoReadOnly = (Boolean) a.get("auto-read-only");
        o.forceShare = (Boolean) a.get("force-share");
        if (a.get("detect-zeroes") instanceof String dz) {
            o.detectZeroes = BlockOptions.DetectZeroes.valueOf(dz.toUpperCase(java.util.Locale.ROOT));
        }
        o.filename = (String) a.get("filename");
        o.locking = (String) a.get("locking");
        o.aio = (String) a.get("aio");
        o.aioMaxBatch = number(a.get("aio-max-batch"));
        o.dropCache = (Boolean) a.get("drop-cache");
        Object file = a.get("file");
        if (file instanceof String s) {
            o.fileRef = s;
        } else if (file instanceof Map<?, ?> m) {
            o.fileInline = options((Map<String, Object>) m);
        }
        o.offset = number(a.get("offset"));
        o.size = number(a.get("size"));
        o.latencyNs = number(a.get("latency-ns"));
        o.readZeroes = (Boolean) a.get("read-zeroes");
        return o;
    }

    private static Long number(Object v) {
        return v instanceof Number n ? n.longValue() : null;
    }

    /** QEMU's bdrv_lookup_bs(device, node-name) with its text (there are no named BlockBackends here). */
    static BlockNode lookup(BlockGraph graph, String device, String nodeName) throws QmpError {
        BlockNode n = graph.find(nodeName);
        if (n == null) {
            throw QmpError.generic("Cannot find device='" + (device == null ? "" : device) + "' nor node-name='"
                    + (nodeName == null ? "" : nodeName) + "'");
        }
        return n;
    }

    private Object blockResize(Map<String, Object> args) throws QmpError {
        BlockNode n = lookup(graph, (String) args.get("device"), (String) args.get("node-name"));
        graph.resize(n, ((Number) args.get("size")).longValue());
        return null;
    }

    /** query-named-block-nodes: BlockDeviceInfo per node, members inserted in QAPI order (QDict order on output). */
    static List<Object> queryNamedBlockNodes(BlockGraph graph) {
        List<Object> list = new ArrayList<>();
        for (BlockNode n : graph.nodes()) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("file", n.filename());
            info.put("node-name", n.nodeName());
            info.put("ro", n.isReadOnly());
            info.put("drv", n.driverName());
            info.put("backing_file_depth", 0L);
            info.put("encrypted", false);
            info.put("detect_zeroes", n.detectZeroes().qapiName());
            for (String k : new String[] {"bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"}) {
                info.put(k, 0L);
            }
            Map<String, Object> image = new LinkedHashMap<>();
            image.put("filename", n.filename());
            image.put("format", n.driverName());
            if (n.hasImageInfo()) {
                image.put("dirty-flag", false);
            }
            image.put("actual-size", n.actualSize());
            image.put("virtual-size", n.length());
            info.put("image", image);
            Map<String, Object> cache = new LinkedHashMap<>();
            cache.put("writeback", true);
            cache.put("direct", n.cacheDirect());
            cache.put("no-flush", n.cacheNoFlush());
            info.put("cache", cache);
            info.put("write_threshold", 0L);
            List<DirtyBitmap> bitmaps = n.bitmaps();
            if (!bitmaps.isEmpty()) {
                List<Object> bl = new ArrayList<>();
                for (DirtyBitmap b : bitmaps) {
                    Map<String, Object> bi = new LinkedHashMap<>();
                    bi.put("name", b.name());
                    bi.put("count", b.count());
                    bi.put("granularity", b.granularity());
                    bi.put("recording", b.isEnabled());
                    bi.put("busy", b.isBusy());
                    bi.put("persistent", b.isPersistent());
                    bl.add(bi);
                }
                info.put("dirty-bitmaps", bl);
            }
            list.add(info);
        }
        return list;
    }
}
