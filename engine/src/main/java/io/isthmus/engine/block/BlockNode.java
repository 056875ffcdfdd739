package io.isthmus.engine.block;

import static io.isthmus.engine.block.BlockRequest.*;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockOptions.DetectZeroes;
import io.isthmus.engine.mem.IoVecs;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One node of the block graph (QEMU's BlockDriverState): a driver instance with a node-name, a length, its
 * children, the parents (users and parent nodes) holding permissions on it, and its dirty bitmaps.
 *
 * <p>Thread use: the graph side (permissions, children, bitmaps list, resize, close) belongs to the control
 * thread. {@link #submit} is called on an IoThread and the request completes on that IoThread through its
 * callback — possibly before {@code submit} returns (errors, null-co, discard=ignore complete at once). A node
 * may serve requests from several IoThreads at once; drivers keep no per-request state outside the request.
 *
 * <p>The request path: in-flight count (a request arriving during a drained section, {@link #drainedBegin}, is
 * parked until it ends), bounds (-EIO, as QEMU's blk_check_byte_request), read-only (-EPERM), detect-zeroes, dirty
 * bitmaps, then the driver. Exports submit through their {@link BlockUser} ({@link BlockUser#submit}), which adds
 * the user's writethrough and permission check on top. Drivers complete with {@link #complete}; a node that forwards to
 * a child ({@code raw}) gets the child's result in {@link #childDone}.
 */
public abstract class BlockNode {
    /** QEMU's BDRV_REQUEST_MAX_BYTES: the largest single read or write. */
    public static final long MAX_REQUEST_BYTES = 0x7FFFFE00L;

    private final String nodeName;
    private final String driverName;
    final boolean readOnlyOpt;
    final boolean discardUnmap;
    final DetectZeroes detectZeroes;
    final boolean cacheDirect;
    final boolean noFlush;
    final boolean forceShare;
    boolean monitorOwned;
    boolean closed;

    // ---- graph (control thread)
    /** Newest first, as QEMU's bs->parents. */
    private final ArrayList<BlockParent> parents = new ArrayList<>();
    final ArrayList<BlockChild> children = new ArrayList<>();
    int cumulativePerm;
    int cumulativeShared = BlockPerm.ALL;

    // ---- bitmaps: copy-on-write array read by IoThreads, newest first
    private volatile DirtyBitmap[] bitmaps = new DirtyBitmap[0];

    // ---- query-blockstats: raised lock-free (a CAS only when a write ends further than any before)
    @SuppressWarnings("unused")
    private volatile long wrHighest;
    private static final java.lang.invoke.VarHandle WR_HIGHEST;

    static {
        try {
            WR_HIGHEST = java.lang.invoke.MethodHandles.lookup().findVarHandle(BlockNode.class, "wrHighest", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private void raiseWrHighest(long end) {
        long cur = (long) WR_HIGHEST.getVolatile(this);
        while (end > cur) {
            long seen = (long) WR_HIGHEST.compareAndExchange(this, cur, end);
            if (seen == cur) {
                return;
            }
            cur = seen;
        }
    }

    // ---- in-flight accounting
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile CompletableFuture<Void> drainWaiter;
    /** Drained sections open on this node (control thread writes; IoThreads read on entry). */
    private volatile int quiesce;
    /** Requests that arrived during a drained section, resubmitted on their IoThreads when it ends. */
    private final ArrayList<BlockRequest> parked = new ArrayList<>();

    protected BlockNode(String nodeName, String driverName, BlockOptions o) {
        this.nodeName = nodeName;
        this.driverName = driverName;
        this.readOnlyOpt = Boolean.TRUE.equals(o.readOnly);
        this.discardUnmap = "unmap".equals(o.discard);
        this.detectZeroes = o.detectZeroes == null ? DetectZeroes.OFF : o.detectZeroes;
        this.cacheDirect = Boolean.TRUE.equals(o.cacheDirect);
        this.noFlush = Boolean.TRUE.equals(o.cacheNoFlush);
        this.forceShare = Boolean.TRUE.equals(o.forceShare);
    }

    // =============================================================================================================
    // identity and properties

    public final String nodeName() {
        return nodeName;
    }

    public final String driverName() {
        return driverName;
    }

    /** The size in bytes clients see (QEMU: bdrv_getlength, whole 512-byte sectors). */
    public abstract long length();

    public boolean isReadOnly() {
        return readOnlyOpt;
    }

    /** 1, or the O_DIRECT alignment probed like QEMU: requests at this alignment never go through a bounce buffer. */
    public int requestAlignment() {
        return 1;
    }

    /** The largest request the node takes in one piece, in bytes. */
    public long maxTransfer() {
        return 32L << 20;
    }

    public final boolean discardUnmap() {
        return discardUnmap;
    }

    public final DetectZeroes detectZeroes() {
        return detectZeroes;
    }

    public final boolean cacheDirect() {
        return cacheDirect;
    }

    public final boolean cacheNoFlush() {
        return noFlush;
    }

    /** The image file name QEMU reports (a path, "null-co://", or a "json:{...}" description). */
    public abstract String filename();

    /**
     * The file driver's discard counters for query-blockstats' driver-specific member (QEMU's
     * BlockStatsSpecificFile: discards done, failed, bytes done), or null for other drivers.
     */
    public long[] discardStats() {
        return null;
    }

    /** QEMU's wr_highest_offset: the end of the furthest write or write-zeroes that reached this node. Any thread. */
    public final long wrHighestOffset() {
        return (long) WR_HIGHEST.getVolatile(this);
    }

    /** The child a filter driver (throttle) passes everything to, whose image information it shows; else null. */
    public BlockNode filteredChild() {
        return null;
    }

    /** QEMU's "json:" form of the options that define this node (without node-name), for filenames. */
    abstract String jsonOptions();

    /** Bytes allocated on the host (QMP "actual-size"). */
    public long actualSize() {
        return 0;
    }

    /** Whether QEMU's bdrv_get_info succeeds here (then query-named-block-nodes shows "dirty-flag"). */
    public boolean hasImageInfo() {
        return false;
    }

    /** Whether the node can be resized (block_resize); the reason QEMU gives if not is thrown by {@link #truncate}. */
    void truncate(long newSize) throws EngineException {
        throw new EngineException("Image format driver does not support resize");
    }

    public List<BlockChild> children() {
        return Collections.unmodifiableList(children);
    }

    /** The node's parents, newest first. */
    public List<BlockParent> parents() {
        return Collections.unmodifiableList(parents);
    }

    public final int cumulativePerm() {
        return cumulativePerm;
    }

    public final int cumulativeSharedPerm() {
        return cumulativeShared;
    }

    /** True if a {@link BlockUser} (not a parent node) holds the node (QEMU: bdrv_has_blk). */
    public boolean hasUsers() {
        for (BlockParent p : parents) {
            if (p instanceof BlockUser) {
                return true;
            }
        }
        return false;
    }

    public boolean isClosed() {
        return closed;
    }

    // =============================================================================================================
    // users and permissions (control thread)

    /**
     * Attaches a user holding {@code perms} and sharing {@code sharedPerms} ({@link BlockPerm} bits). Refused
     * with QEMU's text on a conflict with another user, a read-only node, or an image lock held elsewhere.
     * Exports attach with CONSISTENT_READ (+ WRITE) and share everything but RESIZE, as QEMU's NBD export does.
     *
     * @param userDescription how QEMU's messages name the user: "an unnamed block device" for exports
     */
    public BlockUser attach(String userDescription, int perms, int sharedPerms) throws EngineException {
        return attach(userDescription, perms, sharedPerms, false);
    }

    /**
     * As {@link #attach(String, int, int)}, with the user's writethrough mode: requests submitted through
     * {@link BlockUser#submit} then complete writes only once they are flushed (an export's {@code writethrough}).
     */
    public BlockUser attach(String userDescription, int perms, int sharedPerms, boolean writethrough)
            throws EngineException {
        if (closed) {
            throw new EngineException("Node '" + nodeName + "' is closed");
        }
        BlockUser u = new BlockUser(this, userDescription);
        u.setWritethrough(writethrough);
        parents.add(0, u);
        try {
            graphUpdate(u, perms, sharedPerms);
        } catch (EngineException e) {
            parents.remove(u);
            refreshQuietly();
            throw e;
        }
        return u;
    }

    /** Adds a child edge (driver open). */
    final BlockChild addChild(String name, BlockNode child, boolean owned) throws EngineException {
        BlockChild c = new BlockChild(this, name, child, owned);
        child.parents.add(0, c);
        children.add(c);
        try {
            PermTransaction t = new PermTransaction();
            try {
                int[] np = childPerm(c, cumulativePerm, cumulativeShared);
                t.setEdge(c, np[0], np[1]);
                child.refreshPerms(t);
                t.commit();
            } catch (EngineException e) {
                t.rollback();
                throw e;
            }
        } catch (EngineException e) {
            child.parents.remove(c);
            children.remove(c);
            throw e;
        }
        return c;
    }

    /** The permissions this node takes on a child given what its own parents take and share. */
    int[] childPerm(BlockChild c, int perm, int shared) {
        return new int[] {perm, shared};
    }

    /** Applies the node's cumulative permissions to the driver (image locks); may refuse. */
    void applyDriverPerm(int perm, int shared) throws EngineException {
    }

    final void graphUpdate(BlockParent p, int perm, int shared) throws EngineException {
        PermTransaction t = new PermTransaction();
        try {
            t.setEdge(p, perm, shared);
            refreshPerms(t);
            t.commit();
        } catch (EngineException e) {
            t.rollback();
            throw e;
        }
    }

    final void removeParent(BlockParent p) {
        parents.remove(p);
        refreshQuietly();
    }

    private void refreshQuietly() {
        PermTransaction t = new PermTransaction();
        try {
            refreshPerms(t);
            t.commit();
        } catch (EngineException e) {
            // giving up permissions cannot conflict; a lock that cannot be released stays until close
            t.rollback();
        }
    }

    /** QEMU's bdrv_node_refresh_perm: checks the parents against each other, then applies and recurses. */
    final void refreshPerms(PermTransaction t) throws EngineException {
        for (BlockParent a : parents) {
            for (BlockParent b : parents) {
                if (a != b && (b.perm & a.shared) != b.perm) {
                    throw new EngineException("Permission conflict on node '" + nodeName + "': permissions '"
                            + BlockPerm.names(b.perm & ~a.shared) + "' are both required by " + b.description()
                            + " (uses node '" + nodeName + "' as '" + b.childName() + "' child) and unshared by "
                            + a.description() + " (uses node '" + nodeName + "' as '" + a.childName()
                            + "' child).");
                }
            }
        }
        int perm = 0;
        int shared = BlockPerm.ALL;
        for (BlockParent p : parents) {
            perm |= p.perm;
            shared &= p.shared;
        }
        if ((perm & (BlockPerm.WRITE | BlockPerm.WRITE_UNCHANGED)) != 0 && isReadOnly()) {
            throw new EngineException("Block node is read-only");
        }
        if (perm != cumulativePerm || shared != cumulativeShared) {
            t.recordNode(this);
            applyDriverPerm(perm, shared);
            cumulativePerm = perm;
            cumulativeShared = shared;
        }
        for (BlockChild c : children) {
            int[] np = childPerm(c, perm, shared);
            if (np[0] != c.perm || np[1] != c.shared) {
                t.setEdge(c, np[0], np[1]);
                c.node.refreshPerms(t);
            }
        }
    }

    /** Undo log of one permission change: edges and node states restored in reverse on failure. */
    static final class PermTransaction {
        private final ArrayList<Object[]> log = new ArrayList<>();

        void setEdge(BlockParent p, int perm, int shared) {
            log.add(new Object[] {p, p.perm, p.shared});
            p.perm = perm;
            p.shared = shared;
        }

        void recordNode(BlockNode n) {
            log.add(new Object[] {n, n.cumulativePerm, n.cumulativeShared});
        }

        void commit() {
            log.clear();
        }

        void rollback() {
            for (int i = log.size() - 1; i >= 0; i--) {
                Object[] e = log.get(i);
                int perm = (Integer) e[1];
                int shared = (Integer) e[2];
                if (e[0] instanceof BlockParent p) {
                    p.perm = perm;
                    p.shared = shared;
                } else {
                    BlockNode n = (BlockNode) e[0];
                    try {
                        n.applyDriverPerm(perm, shared);
                    } catch (EngineException ignored) {
                        // the old state was held a moment ago; nothing better to do
                    }
                    n.cumulativePerm = perm;
                    n.cumulativeShared = shared;
                }
            }
            log.clear();
        }
    }

    // =============================================================================================================
    // dirty bitmaps (control thread; marking on IoThreads)

    /** The bitmap with this name, or null. */
    public DirtyBitmap findBitmap(String name) {
        for (DirtyBitmap b : bitmaps) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        return null;
    }

    /** Newest first, as query-named-block-nodes lists them. */
    public List<DirtyBitmap> bitmaps() {
        return List.of(bitmaps);
    }

    /** Whether persistent bitmaps can be stored (only qcow2 v3 images can). */
    public boolean canStorePersistentBitmaps() {
        return false;
    }

    /**
     * QEMU's bdrv_can_store_new_dirty_bitmap: refuses (with QEMU's text) a new persistent bitmap this node cannot
     * store. Drivers that store bitmaps override it with their own checks.
     */
    void checkCanStoreBitmap(String name, long granularity) throws EngineException {
        throw new EngineException("Can't store persistent bitmaps to " + nodeName + ": Operation not supported");
    }

    /** QEMU's bdrv_get_default_bitmap_granularity: the cluster size clamped to [4 KiB, 64 KiB], else 64 KiB. */
    public long defaultBitmapGranularity() {
        return 65536;
    }

    /** Removes a persistent bitmap from the image at once (block-dirty-bitmap-remove); nothing to do by default. */
    void removePersistentBitmap(String name) throws EngineException {
    }

    /**
     * Writes the persistent bitmaps to the image: called by the graph before the node and its children close
     * (blockdev-del, daemon exit). Errors are reported, never thrown (QEMU: "Lost persistent bitmaps ...").
     */
    void storePersistentBitmaps() {
    }

    /** Adds a bitmap covering the node's current length (checks are the caller's: {@link BlockGraph#addBitmap}). */
    DirtyBitmap createBitmap(String name, long granularity, boolean persistent) {
        DirtyBitmap b = new DirtyBitmap(name, granularity, length(), persistent);
        DirtyBitmap[] old = bitmaps;
        DirtyBitmap[] n = new DirtyBitmap[old.length + 1];
        n[0] = b;
        System.arraycopy(old, 0, n, 1, old.length);
        bitmaps = n;
        return b;
    }

    void removeBitmap(DirtyBitmap b) {
        DirtyBitmap[] old = bitmaps;
        ArrayList<DirtyBitmap> l = new ArrayList<>(List.of(old));
        l.remove(b);
        bitmaps = l.toArray(new DirtyBitmap[0]);
    }

    /**
     * Resizes the bitmaps of this node and of the nodes above it after a length change, and tells their users
     * (QEMU's bdrv_parent_cb_resize).
     */
    void lengthChanged() {
        long len = length();
        for (DirtyBitmap b : bitmaps) {
            b.resize(len);
        }
        for (BlockParent p : parents) {
            if (p instanceof BlockChild c) {
                c.parent.lengthChanged();
            } else if (p instanceof BlockUser u) {
                u.lengthChanged(len);
            }
        }
    }

    /**
     * The resize shared by block_resize and a user's own truncate: drains, truncates, resizes the bitmaps and tells
     * the users, inside one drained section. Control thread; the caller holds RESIZE.
     */
    final void truncateDrained(long size) throws EngineException {
        drainedBegin();
        try {
            truncate(size);
            lengthChanged();
        } finally {
            drainedEnd();
        }
    }

    private void markDirty(long offset, long len) {
        DirtyBitmap[] bs = bitmaps;
        for (DirtyBitmap b : bs) {
            if (b.isEnabled()) {
                b.setDirty(offset, len);
            }
        }
    }

    // =============================================================================================================
    // in-flight accounting and drain

    /** Requests submitted and not completed (at this node). */
    public int inFlight() {
        return inFlight.get();
    }

    /** Completes when no request is in flight on this node (any thread may wait on it). */
    public CompletableFuture<Void> drain() {
        CompletableFuture<Void> f = drainWaiter;
        if (f == null || f.isDone()) {
            f = new CompletableFuture<>();
            drainWaiter = f;
        }
        if (inFlight.get() == 0) {
            f.complete(null);
        }
        return f;
    }

    /** Whether a drained section is open on this node (requests arriving now wait until it ends). */
    public boolean isQuiesced() {
        return quiesce != 0;
    }

    /**
     * Begins a drained section (QEMU's bdrv_drained_begin): requests arriving from now on wait, parked, and the call
     * returns once every request in flight has completed. Control thread; must be paired with {@link #drainedEnd}.
     * Blocks the calling thread while requests complete on their IoThreads (never call it on an IoThread). The users
     * of this node and of the nodes above it hear {@link BlockUser.Listener#drainedBegin} first.
     */
    public void drainedBegin() {
        boolean first;
        synchronized (parked) {
            first = quiesce++ == 0;
        }
        if (first) {
            tellUsersDrained(true);
        }
        // Dekker with enter(): it increments inFlight, then reads quiesce; this wrote quiesce, now reads inFlight
        boolean interrupted = false;
        while (true) {
            try {
                drain().get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (java.util.concurrent.ExecutionException e) {
                break; // drain() never fails
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Ends a drained section: the requests that waited are resubmitted, each on the IoThread it came from. */
    public void drainedEnd() {
        BlockRequest[] resume;
        synchronized (parked) {
            if (quiesce == 0 || --quiesce != 0) {
                return;
            }
            resume = parked.toArray(new BlockRequest[0]);
            parked.clear();
        }
        for (BlockRequest r : resume) {
            io.isthmus.engine.loop.IoThread t = r.parkedOn;
            r.parkedOn = null;
            if (t == null) {
                enter(r);
            } else {
                try {
                    t.execute(() -> enter(r));
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // its IoThread is shutting down: the request goes with it, as its in-flight ones do
                }
            }
        }
        tellUsersDrained(false);
    }

    /** QEMU's bdrv_parent_drained_begin/end: the users of this node and, through parent nodes, of those above. */
    private void tellUsersDrained(boolean begin) {
        for (BlockParent p : parents) {
            if (p instanceof BlockUser u) {
                if (begin) {
                    u.drainedBegin();
                } else {
                    u.drainedEnd();
                }
            } else if (p instanceof BlockChild c) {
                c.parent.tellUsersDrained(begin);
            }
        }
    }

    /** Parks a request that arrived during a drained section; false if the section ended meanwhile. */
    private boolean park(BlockRequest req) {
        synchronized (parked) {
            if (quiesce == 0) {
                return false;
            }
            req.parkedOn = io.isthmus.engine.loop.IoThread.current();
            parked.add(req);
        }
        requestLeft();
        return true;
    }

    private void requestLeft() {
        if (inFlight.decrementAndGet() == 0) {
            CompletableFuture<Void> w = drainWaiter;
            if (w != null) {
                w.complete(null);
            }
        }
    }

    // =============================================================================================================
    // the request path (IoThread)

    /**
     * Submits a request straight to the node. See the class comment for what is checked and when the callback runs.
     * Exports submit through their {@link BlockUser#submit} instead, which adds the user's writethrough.
     */
    public final void submit(BlockRequest req) {
        req.depth = 0;
        enter(req);
    }

    /** Enters this node (from a user or a parent node). */
    final void enter(BlockRequest req) {
        int d = req.depth;
        if (d >= BlockRequest.MAX_DEPTH) { // only a forward gets this deep: frame d - 1 is the forwarding node
            req.frameNode[d - 1].childDone(req, -Errno.EIO);
            return;
        }
        inFlight.incrementAndGet();
        if (quiesce != 0 && park(req)) {
            return;
        }
        req.frameNode[d] = this;
        req.frameOffset[d] = req.offset;
        req.frameLength[d] = req.length;
        req.frameOpFlags[d] = (req.op << 16) | (req.flags & 0xFFFF);
        req.depth = d + 1;

        int op = req.op;
        long offset = req.offset;
        long len = req.length;
        long size = length();
        switch (op) {
            case READ, WRITE, WRITE_ZEROES, DISCARD -> {
                if (offset < 0 || len < 0 || offset > size || size - offset < len
                        || ((op == READ || op == WRITE) && len > MAX_REQUEST_BYTES)) {
                    complete(req, -Errno.EIO);
                    return;
                }
                if (op != READ && isReadOnly()) {
                    complete(req, -Errno.EPERM);
                    return;
                }
                if (len == 0) {
                    complete(req, 0);
                    return;
                }
            }
            case FLUSH -> {
            }
            case BLOCK_STATUS -> {
                if (offset < 0 || len < 0 || offset > size) {
                    complete(req, -Errno.EIO);
                    return;
                }
                long max = size - offset;
                if (len > max) {
                    req.length = len = max;
                }
                if (len == 0) {
                    req.statusLength = 0;
                    req.statusFlags = 0;
                    req.statusDepth = 0;
                    complete(req, 0);
                    return;
                }
            }
            default -> {
                complete(req, -Errno.EINVAL);
                return;
            }
        }
        switch (op) {
            case READ -> doRead(req);
            case WRITE -> {
                raiseWrHighest(offset + len);
                if (detectZeroes != DetectZeroes.OFF && IoVecs.isAllZero(req.iovecs, req.iovCount)) {
                    req.op = WRITE_ZEROES;
                    req.flags = (req.flags & FUA)
                            | (detectZeroes == DetectZeroes.UNMAP && discardUnmap ? MAY_UNMAP : 0);
                    markDirty(offset, len);
                    doWriteZeroes(req);
                } else {
                    markDirty(offset, len);
                    doWrite(req);
                }
            }
            case WRITE_ZEROES -> {
                if (!discardUnmap) {
                    req.flags &= ~MAY_UNMAP;
                }
                raiseWrHighest(offset + len);
                markDirty(offset, len);
                doWriteZeroes(req);
            }
            case DISCARD -> {
                if (!discardUnmap) {
                    complete(req, 0); // discard=ignore: QEMU drops the request and reports success
                    return;
                }
                markDirty(offset, len);
                doDiscard(req);
            }
            case FLUSH -> doFlush(req);
            default -> doBlockStatus(req);
        }
    }

    /** Completes this node's part of the request: restores what it changed and hands the result up. */
    protected final void complete(BlockRequest req, int result) {
        int d = --req.depth;
        req.offset = req.frameOffset[d];
        req.length = req.frameLength[d];
        int of = req.frameOpFlags[d];
        req.op = of >>> 16;
        req.flags = of & 0xFFFF;
        req.frameNode[d] = null;
        try {
            if (d == 0) {
                if (req.userAddedFua) { // writethrough of a BlockUser: the caller sees its own flags
                    req.userAddedFua = false;
                    req.flags &= ~FUA;
                }
                req.callback.done(req, result);
            } else {
                req.frameNode[d - 1].childDone(req, result);
            }
        } finally {
            // after the callback: a drain completes once the user has seen every result
            requestLeft();
        }
    }

    /** Forwards the request to a child node at {@code childOffset}; the result comes back to {@link #childDone}. */
    protected final void forward(BlockRequest req, BlockNode child, long childOffset) {
        req.offset = childOffset;
        child.enter(req);
    }

    /** A forwarded request came back from the child. Default: complete with the child's result. */
    protected void childDone(BlockRequest req, int result) {
        complete(req, result);
    }

    /** An io_uring operation of this node's for the request completed (tag as given at submission). */
    protected void ioComplete(BlockRequest req, int res, long tag) {
        complete(req, -Errno.EIO);
    }

    protected abstract void doRead(BlockRequest req);

    protected abstract void doWrite(BlockRequest req);

    protected abstract void doWriteZeroes(BlockRequest req);

    protected abstract void doDiscard(BlockRequest req);

    protected abstract void doFlush(BlockRequest req);

    /** Sets statusLength (1..length), statusFlags and statusDepth, then completes. */
    protected abstract void doBlockStatus(BlockRequest req);

    // =============================================================================================================
    // helpers for drivers

    /** The state object of this node's frame of the request (null until set; survives forwards to children). */
    protected final Object frameState(BlockRequest req) {
        return req.frameState[req.depth - 1];
    }

    protected final void setFrameState(BlockRequest req, Object state) {
        req.frameState[req.depth - 1] = state;
    }

    /**
     * Reads {@code dst.byteSize()} bytes at {@code offset} synchronously on the calling thread: the slow path of a
     * format driver above this node (copy-on-write from a backing file, compressed clusters, metadata). Bytes past
     * the end read as zeroes. Returns 0 or -errno. Blocks: never used on the guest data path.
     */
    int readSync(long offset, MemorySegment dst) {
        return -Errno.ENOTSUP;
    }

    // =============================================================================================================
    // close (control thread)

    /** Releases the driver's resources (fd, locks). Called by the graph once no parent is left. */
    void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return driverName + " node '" + nodeName + "'";
    }
}
