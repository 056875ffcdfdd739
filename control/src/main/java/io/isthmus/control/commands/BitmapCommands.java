package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The dirty-bitmap group: block-dirty-bitmap-add/remove/clear/enable/disable/merge over the block graph, with
 * QEMU 7.2's checks in its order. Control thread only.
 */
public final class BitmapCommands implements CommandGroup {
    private final BlockGraph graph;

    public BitmapCommands(BlockGraph graph) {
        this.graph = graph;
    }

    @Override
    public void register(CommandRegistry r) {
        r.register("block-dirty-bitmap-add", this::add);
        r.register("block-dirty-bitmap-remove", a -> {
            graph.removeBitmap((String) a.get("node"), (String) a.get("name"));
            return null;
        });
        r.register("block-dirty-bitmap-clear", a -> {
            graph.clearBitmap((String) a.get("node"), (String) a.get("name"));
            return null;
        });
        r.register("block-dirty-bitmap-enable", a -> {
            graph.enableBitmap((String) a.get("node"), (String) a.get("name"), true);
            return null;
        });
        r.register("block-dirty-bitmap-disable", a -> {
            graph.enableBitmap((String) a.get("node"), (String) a.get("name"), false);
            return null;
        });
        r.register("block-dirty-bitmap-merge", this::merge);
    }

    private Object add(Map<String, Object> a) throws QmpError {
        String name = (String) a.get("name");
        String node = (String) a.get("node");
        if (name.isEmpty()) {
            throw QmpError.generic("Bitmap name cannot be empty");
        }
        BlockNode n = BlockdevCommands.lookup(graph, node, node);
        Long granularity = a.get("granularity") instanceof Number g ? g.longValue() : null;
        graph.addBitmap(n, name, granularity, Boolean.TRUE.equals(a.get("persistent")),
                Boolean.TRUE.equals(a.get("disabled")));
        return null;
    }

    private Object merge(Map<String, Object> a) throws QmpError {
        String node = (String) a.get("node");
        List<String[]> sources = new ArrayList<>();
        for (Object s : (List<?>) a.get("bitmaps")) {
            if (s instanceof String name) {
                sources.add(new String[] {node, name});
            } else if (s instanceof Map<?, ?> m) {
                sources.add(new String[] {(String) m.get("node"), (String) m.get("name")});
            }
        }
        graph.mergeBitmaps(node, (String) a.get("target"), sources);
        return null;
    }
}
