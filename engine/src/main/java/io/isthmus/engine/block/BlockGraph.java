package io.isthmus.engine.block;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockOptions.DetectZeroes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The block graph: every node by node-name, created by blockdev-add (with inline children) and deleted by
 * blockdev-del, with QEMU's node-name rules and texts. Also the graph-level operations the QMP commands need:
 * block_resize and the dirty-bitmap commands.
 *
 * <p>Thread use: the control thread only (exports look nodes up here when they are created, also on the control
 * thread). Nodes are closed by {@link #delete} or {@link #closeAll}.
 */
public final class BlockGraph {
    /** QEMU's sizeof(bs->node_name) - 1. */
    public static final int MAX_NODE_NAME = 31;
    /** QEMU's BDRV_BITMAP_MAX_NAME_SIZE. */
    public static final int MAX_BITMAP_NAME = 1023;
    public static final long DEFAULT_BITMAP_GRANULARITY = 65536;

    private final Map<String, BlockNode> nodes = new HashMap<>();
    /** Creation order; listed newest first. */
    private final ArrayList<BlockNode> order = new ArrayList<>();
    private long autoNameCounter;

    /** The node with this node-name, or null. */
    public BlockNode find(String nodeName) {
        return nodeName == null ? null : nodes.get(nodeName);
    }

    /** Every node, newest first (query-named-block-nodes order). */
    public List<BlockNode> nodes() {
        List<BlockNode> l = new ArrayList<>(order);
        Collections.reverse(l);
        return l;
    }

    /** QEMU's id_wellformed: a letter, then letters, digits, '-', '.', '_'. */
    public static boolean isWellFormed(String id) {
        if (id.isEmpty() || !isAsciiLetter(id.charAt(0))) {
            return false;
        }
        for (int i = 1; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!isAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') {
                return false;
            }
        }
        return true;
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private void checkNewName(String name) throws EngineException {
        if (!isWellFormed(name)) {
            throw new EngineException("Invalid node-name: '" + name + "'");
        }
        if (nodes.containsKey(name)) {
            throw new EngineException("Duplicate nodes with node-name='" + name + "'");
        }
        if (name.length() > MAX_NODE_NAME) {
            throw new EngineException("Node name too long");
        }
    }

    private String generateName() {
        String n;
        do {
            n = "#block" + autoNameCounter++ + String.format("%02d", ThreadLocalRandom.current().nextInt(100));
        } while (nodes.containsKey(n));
        return n;
    }

    // =============================================================================================================
    // blockdev-add / blockdev-del

    /** blockdev-add: creates the node and its inline children, all or nothing. */
    public BlockNode add(BlockOptions o) throws EngineException {
        if (o.nodeName == null) {
            throw new EngineException("'node-name' must be specified for the root node");
        }
        BlockNode n = open(o, null);
        n.monitorOwned = true;
        return n;
    }

    private BlockNode open(BlockOptions o, BlockOptions parent) throws EngineException {
        String name = o.nodeName;
        if (name != null) {
            checkNewName(name);
        } else if (!isFormat(o.driver)) {
            name = generateName(); // a format node is named after its file child is open, as in QEMU
        }
        if (parent != null) {
            inherit(o, parent);
        }
        if (o.detectZeroes == DetectZeroes.UNMAP && !"unmap".equals(o.discard)) {
            throw new EngineException(
                    "setting detect-zeroes to unmap is not allowed without setting discard operation to unmap");
        }
        BlockNode n = switch (o.driver == null ? "" : o.driver) {
            case "file", "host_device" -> FileNode.open(name, o);
            case "null-co", "null-aio" -> {
                if (o.latencyNs != null && o.latencyNs < 0) {
                    throw new EngineException("latency-ns is invalid");
                }
                if (o.size != null && o.size < 0) {
                    throw new EngineException("Parameter 'size' expects a non-negative number below 2^64");
                }
                yield new NullNode(name, o);
            }
            case "raw" -> openFormat(name, o, false);
            case "qcow2" -> openFormat(name, o, true);
            case "throttle" -> openThrottle(name, o);
            default -> throw new EngineException("Unknown driver: '" + o.driver + "'");
        };
        nodes.put(name, n);
        order.add(n);
        if (n instanceof Qcow2Node q) {
            try {
                openBacking(q, o);
            } catch (RuntimeException e) {
                destroy(q);
                throw e;
            }
        }
        return n;
    }

    private static boolean isFormat(String driver) {
        return "raw".equals(driver) || "qcow2".equals(driver);
    }

    /** raw or qcow2 over its {@code file} child (inline, or an existing node by name). */
    private BlockNode openFormat(String nodeName, BlockOptions o, boolean qcow2) throws EngineException {
        return openOverFile(o, (file, owned) -> {
            String name = nodeName != null ? nodeName : generateName();
            return qcow2 ? Qcow2Node.open(name, o, file, owned, nodes::containsKey) : RawNode.open(name, o, file, owned);
        });
    }

    /** throttle over its {@code file} child (inline, or an existing node by name). */
    private BlockNode openThrottle(String nodeName, BlockOptions o) throws EngineException {
        return openOverFile(o, (file, owned) -> ThrottleNode.open(nodeName, o, file, owned));
    }

    /** Opens a node over a child it takes from {@code file}; {@code owned}: the child was made for it. */
    @FunctionalInterface
    private interface OverFile {
        BlockNode open(BlockNode file, boolean owned) throws EngineException;
    }

    /**
     * Resolves the {@code file} child (an inline definition, opened and owned, or an existing node by name) and
     * opens the node over it; an owned child is destroyed again when that open fails.
     */
    private BlockNode openOverFile(BlockOptions o, OverFile how) throws EngineException {
        BlockNode file;
        boolean owned;
        if (o.fileInline != null) {
            file = open(o.fileInline, o);
            owned = true;
        } else {
            file = nodes.get(o.fileRef);
            if (file == null) {
                throw new EngineException("Cannot find device='" + o.fileRef + "' nor node-name='" + o.fileRef + "'");
            }
            owned = false;
        }
        try {
            return how.open(file, owned);
        } catch (RuntimeException e) {
            if (owned) {
                destroy(file);
            }
            throw e;
        }
    }

    /**
     * The backing child of a qcow2 node: {@code backing: null} none, a node-name that node, an inline definition,
     * or else the file the image header names, opened read-only with its format from the header or probed (qcow2 or
     * raw), as QEMU's bdrv_open_backing_file.
     */
    private void openBacking(Qcow2Node q, BlockOptions o) throws EngineException {
        if (o.backingNone) {
            return;
        }
        if (o.backingRef != null) {
            BlockNode b = nodes.get(o.backingRef);
            if (b == null) {
                throw new EngineException("Cannot find device='" + o.backingRef + "' nor node-name='" + o.backingRef
                        + "'");
            }
            q.attachBacking(b, false);
            return;
        }
        BlockOptions bo = o.backingInline;
        if (bo == null) {
            String path = q.fullBackingFilename();
            if (path == null) {
                return;
            }
            BlockOptions fo = BlockOptions.of("file", null);
            fo.filename = path;
            bo = BlockOptions.of(q.backingFormat(), null);
            bo.fileInline = fo;
            bo.readOnly = true;
            bo.cacheDirect = o.cacheDirect;
            bo.cacheNoFlush = o.cacheNoFlush;
            bo.forceShare = o.forceShare;
            if (bo.driver == null) {
                bo.driver = probeFormat(path);
            }
        } else if (bo.readOnly == null) {
            bo.readOnly = true;
        }
        BlockNode b;
        try {
            b = open(bo, o);
        } catch (EngineException e) {
            throw new EngineException("Could not open backing file: " + e.getMessage());
        }
        try {
            q.attachBacking(b, true);
        } catch (RuntimeException e) {
            destroy(b);
            throw e;
        }
    }

    /** qcow2 if the file starts with its magic, raw otherwise (also when it cannot be read: open reports that). */
    private static String probeFormat(String path) {
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(java.nio.file.Path.of(path))) {
            byte[] m = in.readNBytes(4);
            if (m.length == 4 && (m[0] & 0xff) == 'Q' && (m[1] & 0xff) == 'F' && (m[2] & 0xff) == 'I'
                    && (m[3] & 0xff) == 0xfb) {
                return "qcow2";
            }
        } catch (java.io.IOException | RuntimeException e) {
            // open reports it with QEMU's text
        }
        return "raw";
    }

    /** QEMU's bdrv_inherited_options for a protocol child defined inline. */
    private static void inherit(BlockOptions child, BlockOptions parent) {
        if (child.readOnly == null) {
            child.readOnly = parent.readOnly;
        }
        if (child.autoReadOnly == null) {
            child.autoReadOnly = parent.autoReadOnly;
        }
        if (child.cacheDirect == null) {
            child.cacheDirect = parent.cacheDirect;
        }
        if (child.cacheNoFlush == null) {
            child.cacheNoFlush = parent.cacheNoFlush;
        }
        if (child.discard == null) {
            child.discard = "unmap"; // lower layers follow what the top layer passes down
        }
    }

    private void forget(BlockNode n) {
        nodes.remove(n.nodeName());
        order.remove(n);
    }

    /** blockdev-del: deletes a node created by blockdev-add that nothing uses, with its inline children. */
    public void delete(String nodeName) throws EngineException {
        BlockNode n = nodes.get(nodeName);
        if (n == null) {
            throw new EngineException("Failed to find node with node-name='" + nodeName + "'");
        }
        if (n.hasUsers()) {
            throw new EngineException("Node " + nodeName + " is in use");
        }
        for (DirtyBitmap b : n.bitmaps()) {
            if (b.isBusy()) {
                throw new EngineException("Node '" + nodeName + "' is busy: Bitmap '" + b.name()
                        + "' is currently in use by another operation and cannot be used");
            }
        }
        for (BlockParent p : n.parents()) {
            if (p instanceof BlockChild c && "backing".equals(c.name)) { // QEMU's backing op blocker
                throw new EngineException("Node '" + nodeName + "' is busy: node is used as backing hd of '"
                        + c.parent.nodeName() + "'");
            }
        }
        if (!n.monitorOwned) {
            throw new EngineException("Node " + nodeName + " is not owned by the monitor");
        }
        if (!n.parents().isEmpty()) {
            throw new EngineException("Block device " + nodeName + " is in use");
        }
        destroy(n);
    }

    private void destroy(BlockNode n) {
        n.storePersistentBitmaps(); // before its children (the image file) go
        forget(n);
        for (BlockChild c : new ArrayList<>(n.children)) {
            n.children.remove(c);
            c.node.removeParent(c);
            if (c.owned && c.node.parents().isEmpty()) {
                destroy(c.node);
            }
        }
        n.close();
    }

    /** Closes every node (daemon shutdown), parents before children. */
    public void closeAll() {
        List<BlockNode> l = nodes();
        for (BlockNode n : l) {
            for (BlockParent p : new ArrayList<>(n.parents())) {
                if (p instanceof BlockUser u) {
                    u.detach();
                }
            }
        }
        for (BlockNode n : l) {
            n.storePersistentBitmaps(); // every image is still open here
        }
        for (BlockNode n : l) {
            forget(n);
            n.close();
        }
    }

    // =============================================================================================================
    // block_resize

    /**
     * block_resize: takes the RESIZE permission for the duration (refused with QEMU's permission-conflict text
     * while an export holds the node: exports unshare RESIZE), drains the node (requests in flight complete first;
     * requests arriving meanwhile wait and then run against the new size), truncates, and resizes the dirty bitmaps
     * of the node and its parents (their users are told: {@link BlockUser.Listener#lengthChanged}). Blocks the control
     * thread while the node drains, as QEMU's qmp_block_resize.
     */
    public void resize(BlockNode n, long size) throws EngineException {
        if (size < 0) {
            throw new EngineException("Parameter 'size' expects a >0 size");
        }
        BlockUser u = n.attach("an unnamed block device", BlockPerm.RESIZE, BlockPerm.ALL);
        try {
            u.truncate(size);
        } finally {
            u.detach();
        }
    }

    // =============================================================================================================
    // dirty bitmaps

    /** block-dirty-bitmap-add, after the node was found (QEMU checks the name before looking the node up). */
    public DirtyBitmap addBitmap(BlockNode n, String name, Long granularity, boolean persistent, boolean disabled)
            throws EngineException {
        long g = granularity == null ? n.defaultBitmapGranularity() : granularity;
        if (g < 512 || Long.bitCount(g) != 1) {
            throw new EngineException("Granularity must be power of 2 and at least 512");
        }
        if (n.findBitmap(name) != null) { // QSD 7.2 answers this before the persistence checks
            throw new EngineException("Bitmap already exists: " + name);
        }
        if (persistent) {
            n.checkCanStoreBitmap(name, g);
        }
        if (name.length() > MAX_BITMAP_NAME) {
            throw new EngineException("Bitmap name too long: " + name);
        }
        DirtyBitmap b = n.createBitmap(name, g, persistent);
        if (disabled) {
            b.setEnabled(false);
        }
        return b;
    }

    /** QEMU's block_dirty_bitmap_lookup: the node, then the bitmap. */
    public DirtyBitmap lookupBitmap(String node, String name) throws EngineException {
        BlockNode n = nodes.get(node);
        if (n == null) {
            throw new EngineException("Node '" + node + "' not found");
        }
        DirtyBitmap b = n.findBitmap(name);
        if (b == null) {
            throw new EngineException("Dirty bitmap '" + name + "' not found");
        }
        return b;
    }

    /** QEMU's bdrv_dirty_bitmap_check with BDRV_BITMAP_BUSY only. */
    public static void checkNotBusy(DirtyBitmap b) throws EngineException {
        check(b, false, false);
    }

    /**
     * QEMU's bdrv_dirty_bitmap_check: busy always; read-only when {@code readOnly} (a change to the bits or to its
     * existence); inconsistent when {@code inconsistent} (a use of its bits).
     */
    public static void check(DirtyBitmap b, boolean readOnly, boolean inconsistent) throws EngineException {
        if (b.isBusy()) {
            throw new EngineException("Bitmap '" + b.name()
                    + "' is currently in use by another operation and cannot be used");
        }
        if (readOnly && b.isReadOnly()) {
            throw new EngineException("Bitmap '" + b.name() + "' is readonly and cannot be modified");
        }
        if (inconsistent && b.isInconsistent()) {
            throw new EngineException("Bitmap '" + b.name() + "' is inconsistent and cannot be used");
        }
    }

    /** block-dirty-bitmap-remove: a persistent bitmap leaves the image's bitmap directory at once, as in QEMU. */
    public void removeBitmap(String node, String name) throws EngineException {
        DirtyBitmap b = lookupBitmap(node, name);
        check(b, true, false);
        BlockNode n = nodes.get(node);
        if (b.isPersistent()) {
            n.removePersistentBitmap(name);
        }
        n.removeBitmap(b);
    }

    public void clearBitmap(String node, String name) throws EngineException {
        DirtyBitmap b = lookupBitmap(node, name);
        check(b, true, true);
        b.clear();
    }

    public void enableBitmap(String node, String name, boolean enable) throws EngineException {
        DirtyBitmap b = lookupBitmap(node, name);
        check(b, false, true);
        b.setEnabled(enable);
    }

    /**
     * block-dirty-bitmap-merge: sources are (node, name) pairs (the node of a plain name is the target's). All
     * sources are checked before the target changes.
     */
    public void mergeBitmaps(String node, String target, List<String[]> sources) throws EngineException {
        DirtyBitmap dst = lookupBitmap(node, target);
        List<DirtyBitmap> srcs = new ArrayList<>();
        for (String[] s : sources) {
            DirtyBitmap src = lookupBitmap(s[0], s[1]);
            check(src, false, true);
            if (src.length() != dst.length()) {
                throw new EngineException("Bitmaps are of different sizes (destination size is " + dst.length()
                        + ", source size is " + src.length() + ") and can't be merged");
            }
            srcs.add(src);
        }
        check(dst, true, true); // QEMU merges the sources into a scratch bitmap first, then checks the target
        for (DirtyBitmap src : srcs) {
            if (src != dst) {
                dst.mergeFrom(src);
            }
        }
    }
}
