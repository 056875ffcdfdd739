package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import io.isthmus.control.commands.qom.ObjectRegistry;
import io.isthmus.control.commands.qom.ThrottleGroupObject;
import io.isthmus.control.json.JsonNull;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockNode;
import io.isthmus.engine.block.BlockOptions;
import io.isthmus.engine.block.DirtyBitmap;
import io.isthmus.engine.block.Qcow2Node;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The blockdev group: blockdev-add (and so {@code --blockdev}, which {@link OptionHooks} routes here),
 * blockdev-del, query-named-block-nodes, query-blockstats ({@link BlockStats}) and block_resize over the engine's {@link BlockGraph} (the daemon's
 * one graph, where exports find their nodes too). Control thread only.
 */
public final class BlockdevCommands implements CommandGroup {
    private final BlockGraph graph;
    private final Warnings warnings;
    private final ObjectRegistry objects;

    public BlockdevCommands(BlockGraph graph, Warnings warnings, ObjectRegistry objects) {
        this.graph = graph;
        this.warnings = warnings;
        this.objects = objects;
    }

    @Override
    public void register(CommandRegistry r) {
        r.register("blockdev-add", args -> {
            warnEmptyBacking(args);
            BlockOptions o = options(args);
            resolveThrottleGroups(o);
            graph.add(o);
            return null;
        });
        r.register("blockdev-del", args -> {
            graph.delete((String) args.get("node-name"));
            return null;
        });
        r.register("query-named-block-nodes", args -> queryNamedBlockNodes(graph, Boolean.TRUE.equals(args.get("flat"))));
        r.register("block_resize", this::blockResize);
        r.register("query-blockstats", args -> BlockStats.query(graph, Boolean.TRUE.equals(args.get("query-nodes"))));
    }

    /** QEMU's deprecation warning for {@code "backing": ""} (keyval {@code backing=}), anywhere in the tree. */
    private void warnEmptyBacking(Map<String, Object> a) {
        for (Map.Entry<String, Object> e : a.entrySet()) {
            if ("backing".equals(e.getKey()) && "".equals(e.getValue())) {
                warnings.warn("Use of \"backing\": \"\" is deprecated; use \"backing\": null instead");
            } else if (e.getValue() instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked")
                Map<String, Object> child = (Map<String, Object>) m;
                warnEmptyBacking(child);
            }
        }
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
        Object backing = a.get("backing");
        if (backing == JsonNull.NULL || "".equals(backing)) {
            // QEMU also takes the deprecated "" (keyval: backing=) as null
            o.backingNone = true;
        } else if (backing instanceof String s) {
            o.backingRef = s;
        } else if (backing instanceof Map<?, ?> m) {
            o.backingInline = options((Map<String, Object>) m);
        }
        o.lazyRefcounts = (Boolean) a.get("lazy-refcounts");
        o.passDiscardRequest = (Boolean) a.get("pass-discard-request");
        o.passDiscardSnapshot = (Boolean) a.get("pass-discard-snapshot");
        o.passDiscardOther = (Boolean) a.get("pass-discard-other");
        o.cacheSize = number(a.get("cache-size"));
        o.l2CacheSize = number(a.get("l2-cache-size"));
        o.l2CacheEntrySize = number(a.get("l2-cache-entry-size"));
        o.refcountCacheSize = number(a.get("refcount-cache-size"));
        o.cacheCleanInterval = number(a.get("cache-clean-interval"));
        o.encryptGiven = a.containsKey("encrypt");
        if (a.get("encrypt") instanceof Map<?, ?> enc) {
            o.encryptFormat = (String) enc.get("format");
        }
        o.throttleGroup = (String) a.get("throttle-group");
        o.dataFileGiven = a.containsKey("data-file");
        if (a.get("data-file") instanceof String df) {
            o.dataFileRef = df;
        }
        return o;
    }

    /** A throttle node's group is the throttle-group object of that id (QEMU's throttle_group_exists). */
    private void resolveThrottleGroups(BlockOptions o) {
        for (BlockOptions n = o; n != null; n = n.fileInline) {
            if (n.throttleGroup != null) {
                ThrottleGroupObject tg = objects.get(n.throttleGroup, ThrottleGroupObject.class);
                n.throttleGroupResolved = tg == null ? null : tg.group();
            }
            if (n.backingInline != null) {
                resolveThrottleGroups(n.backingInline);
            }
        }
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

    /**
     * query-named-block-nodes: BlockDeviceInfo per node, members inserted in QAPI order (QDict order on output).
     * With {@code flat}, QEMU leaves out {@code backing-image}, and so counts a backing_file_depth of 0.
     */
    static List<Object> queryNamedBlockNodes(BlockGraph graph, boolean flat) {
        List<Object> list = new ArrayList<>();
        for (BlockNode n : graph.nodes()) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("file", n.filename());
            info.put("node-name", n.nodeName());
            info.put("ro", n.isReadOnly());
            info.put("drv", n.driverName());
            Map<String, Object> image = imageInfo(n, flat);
            if (n instanceof Qcow2Node q && q.backing() != null) {
                info.put("backing_file", q.backing().filename());
            }
            info.put("backing_file_depth", backingDepth(image));
            info.put("encrypted", false);
            info.put("detect_zeroes", n.detectZeroes().qapiName());
            for (String k : new String[] {"bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"}) {
                info.put(k, 0L);
            }
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
                    if (b.isInconsistent()) {
                        bi.put("inconsistent", true);
                    }
                    bl.add(bi);
                }
                info.put("dirty-bitmaps", bl);
            }
            list.add(info);
        }
        return list;
    }

    /** QEMU's bdrv_query_image_info: the node's ImageInfo, its backing chain nested unless {@code flat}. */
    private static Map<String, Object> imageInfo(BlockNode n, boolean flat) {
        Map<String, Object> image = new LinkedHashMap<>();
        image.put("filename", n.filename());
        image.put("format", n.driverName());
        BlockNode info = n; // a filter shows its filtered child's bdrv_get_info values
        while (info.filteredChild() != null) {
            info = info.filteredChild();
        }
        Qcow2Node q = info instanceof Qcow2Node qn ? qn : null;
        if (q != null) {
            image.put("dirty-flag", q.dirtyFlag());
        } else if (n.hasImageInfo()) {
            image.put("dirty-flag", false);
        }
        image.put("actual-size", n.actualSize());
        image.put("virtual-size", n.length());
        if (q == null) {
            return image;
        }
        image.put("cluster-size", (long) q.clusterSize());
        if (q != n) {
            return image;
        }
        if (q.backingFilename() != null) {
            image.put("backing-filename", q.backingFilename());
            if (q.fullBackingFilename() != null) {
                image.put("full-backing-filename", q.fullBackingFilename());
            }
            if (q.backingFormat() != null) {
                image.put("backing-filename-format", q.backingFormat());
            }
        }
        if (!flat && q.backing() != null) {
            image.put("backing-image", imageInfo(q.backing(), false));
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("compat", q.compat());
        if (!"0.10".equals(q.compat())) {
            // QEMU reports these for version 3 images only
            data.put("extended-l2", q.extendedL2());
            data.put("lazy-refcounts", q.lazyRefcounts());
            data.put("corrupt", q.corrupt());
        }
        data.put("refcount-bits", (long) q.refcountBits());
        List<Qcow2Node.StoredBitmap> stored = q.storedBitmaps();
        if (!stored.isEmpty()) {
            List<Object> bl = new ArrayList<>();
            for (Qcow2Node.StoredBitmap sb : stored) {
                Map<String, Object> bi = new LinkedHashMap<>();
                List<Object> flags = new ArrayList<>();
                if (sb.inUse()) {
                    flags.add("in-use");
                }
                if (sb.auto()) {
                    flags.add("auto");
                }
                bi.put("flags", flags);
                bi.put("name", sb.name());
                bi.put("granularity", sb.granularity());
                bl.add(bi);
            }
            data.put("bitmaps", bl);
        }
        data.put("compression-type", q.compressionType());
        Map<String, Object> specific = new LinkedHashMap<>();
        specific.put("type", "qcow2");
        specific.put("data", data);
        image.put("format-specific", specific);
        return image;
    }

    /** QEMU's backing_file_depth: the length of the backing-image chain in the node's ImageInfo. */
    private static long backingDepth(Map<String, Object> image) {
        long depth = 0;
        for (Object b = image.get("backing-image"); b instanceof Map<?, ?> m; b = m.get("backing-image")) {
            depth++;
        }
        return depth;
    }
}
