package io.isthmus.control.commands;

import io.isthmus.engine.block.BlockChild;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * query-blockstats as QSD 7.2 answers it. QEMU accounts I/O on BlockBackends; a storage daemon's are the
 * exports' anonymous ones, which the command skips, so without {@code query-nodes} the list is empty, and per
 * node (bdrv_query_bds_stats at node level) the counters are zero except {@code wr_highest_offset}, with the
 * file driver's discard counters as {@code driver-specific} and the primary child's stats as {@code parent}.
 * Control thread; the numbers are read from the nodes' lock-free counters.
 */
final class BlockStats {
    private static final String[] ZERO_COUNTERS = {
        "rd_bytes", "wr_bytes", "unmap_bytes", "rd_operations", "wr_operations", "flush_operations",
        "unmap_operations", "rd_total_time_ns", "wr_total_time_ns", "flush_total_time_ns", "unmap_total_time_ns",
    };
    private static final String[] ZERO_COUNTERS_2 = {
        "rd_merged", "wr_merged", "unmap_merged", "failed_rd_operations", "failed_wr_operations",
        "failed_flush_operations", "failed_unmap_operations", "invalid_rd_operations", "invalid_wr_operations",
        "invalid_flush_operations", "invalid_unmap_operations",
    };

    private BlockStats() {
    }

    static List<Object> query(BlockGraph graph, boolean queryNodes) {
        List<Object> out = new ArrayList<>();
        if (!queryNodes) {
            return out;
        }
        List<BlockNode> nodes = new ArrayList<>(graph.nodes());
        for (BlockNode n : nodes.reversed()) { // bdrv_next_node(): creation order
            out.add(nodeStats(n));
        }
        return out;
    }

    private static Map<String, Object> nodeStats(BlockNode n) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("node-name", n.nodeName());
        s.put("stats", deviceStats(n));
        long[] d = n.discardStats();
        if (d != null) {
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("driver", n.driverName());
            spec.put("discard-nb-ok", d[0]);
            spec.put("discard-nb-failed", d[1]);
            spec.put("discard-bytes-ok", d[2]);
            s.put("driver-specific", spec);
        }
        BlockNode primary = primaryChild(n);
        if (primary != null) {
            s.put("parent", nodeStats(primary));
        }
        return s;
    }

    /** bdrv_primary_child(): the file child of raw, qcow2 and throttle. */
    private static BlockNode primaryChild(BlockNode n) {
        for (BlockChild c : n.children()) {
            if ("file".equals(c.name())) {
                return c.child();
            }
        }
        return null;
    }

    private static Map<String, Object> deviceStats(BlockNode n) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String k : ZERO_COUNTERS) {
            m.put(k, 0L);
        }
        m.put("wr_highest_offset", n.wrHighestOffset());
        for (String k : ZERO_COUNTERS_2) {
            m.put(k, 0L);
        }
        m.put("account_invalid", Boolean.FALSE);
        m.put("account_failed", Boolean.FALSE);
        m.put("timed_stats", List.of());
        return m;
    }
}
