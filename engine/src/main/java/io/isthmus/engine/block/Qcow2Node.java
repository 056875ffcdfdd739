package io.isthmus.engine.block;

import static io.isthmus.engine.block.BlockRequest.*;
import static io.isthmus.engine.block.Qcow2ClusterMap.COMPRESSED_CLUSTER;
import static io.isthmus.engine.block.Qcow2ClusterMap.NORMAL;
import static io.isthmus.engine.block.Qcow2ClusterMap.UNALLOCATED;
import static io.isthmus.engine.block.Qcow2ClusterMap.ZERO;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.mem.IoVecs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.function.Predicate;

/**
 * {@code qcow2}: QEMU's copy-on-write image format (docs/interop/qcow2.txt), versions 2 and 3, over a {@link FileNode}
 * {@code file} child, with an optional {@code backing} child (the header's backing file, or one given by node-name).
 * This class is the node: open and close, the request path and the node API. The format's parts sit beside it, split
 * as QEMU splits block/qcow2*.c:
 * <ul>
 *   <li>{@link Qcow2Header}: the header, its checks at open, its writes; table I/O;
 *   <li>{@link Qcow2ClusterMap}: L1 table, L2 cache, guest-to-host lookup, allocation and zeroing of clusters;
 *   <li>{@link Qcow2Refcounts}: refcount table and blocks, cluster allocation and freeing;
 *   <li>{@link Qcow2Bitmaps} (with {@link Qcow2BitmapDirectory}): persistent dirty bitmaps;
 *   <li>{@link Qcow2Resize}: block_resize, growing and shrinking.
 * </ul>
 *
 * <p>Data path: a request is cut into runs of guest clusters that map alike ({@link Qcow2ClusterMap#map}). A run of
 * allocated clusters is forwarded to the file child as the same request, its iovecs narrowed to the run: guest memory
 * goes to the file without a copy. Runs that read as zeroes are zero-filled; unallocated runs are forwarded to the
 * backing node. Runs are handled one after the other (the request carries its progress, an {@link Op}, in its frame
 * state).
 *
 * <p>Slow paths, synchronous on the calling IoThread under the node's lock: metadata reads on a cache miss (L2 tables,
 * refcount blocks), cluster allocation (a write to an unallocated, zero, compressed or shared cluster: the whole new
 * cluster is assembled in a bounce buffer, copy-on-write from the old contents or the backing file, written, and then
 * the L2 entry points to it), write-zeroes and discard of whole clusters, reads of compressed clusters. Metadata is
 * written through as it changes (refcounts before the L2 entries that rely on them, new tables before the entries that
 * point to them), so nothing is left to write back at flush or close: a crash leaks clusters at worst. Clusters freed
 * while allocated-cluster I/O is in flight are not reused until it drains, so a late write cannot land in a cluster
 * that was handed to other guest data.
 *
 * <p>Persistent dirty bitmaps (qcow2 v3) are loaded at open, marked in use on a read-write open and stored at close
 * ({@link Qcow2Bitmaps}). Not supported (refused at open with a message): encryption, external data files, extended
 * L2 entries, zstd compression, an image with the dirty bit set opened read-write. Autoclear features other than
 * bitmaps are cleared on a read-write open, as the specification asks of a program that does not maintain them.
 *
 * <p>Thread use: open, resize, bitmap commands and close on the control thread; requests on any IoThread. All format
 * state (the parts above) is guarded by {@link #lock}. Memory: tables and bounce buffers live in the node's shared
 * arena, closed with the node. Return convention of the internal helpers: 0 or -errno.
 */
public final class Qcow2Node extends BlockNode {
    private final FileNode file;
    private BlockNode backing;
    private final boolean writable;
    private final Arena arena = Arena.ofShared();
    private final Object lock = new Object();
    private final Qcow2Header header;
    private final int clusterSize;
    private final boolean explicitBacking;
    private volatile long size;

    // ---- the format's parts (under lock)
    private final Qcow2Refcounts refcounts;
    private final Qcow2ClusterMap clusters;
    private final Qcow2Bitmaps persistentBitmaps;
    private final Qcow2Resize resize;

    private Qcow2Node(String nodeName, BlockOptions o, FileNode file, Qcow2Header header) {
        super(nodeName, "qcow2", o);
        this.file = file;
        this.writable = !Boolean.TRUE.equals(o.readOnly);
        this.header = header;
        this.clusterSize = header.clusterSize;
        this.explicitBacking = o.backingNone || o.backingRef != null || o.backingInline != null;
        this.size = header.size;
        refcounts = new Qcow2Refcounts(file, header, arena);
        clusters = new Qcow2ClusterMap(file, header, refcounts, arena, o);
        persistentBitmaps = new Qcow2Bitmaps(file, header, refcounts, writable);
        resize = new Qcow2Resize(file, header, clusters, refcounts);
    }

    /**
     * Opens a qcow2 node over {@code file} (already a child candidate; the caller adds nothing), with QEMU's checks
     * and texts. The backing child is attached afterwards by the graph ({@link #attachBacking}).
     */
    static Qcow2Node open(String nodeName, BlockOptions o, BlockNode fileNode, boolean fileOwned,
                          Predicate<String> nodeExists) throws EngineException {
        if (!(fileNode instanceof FileNode f)) {
            throw new EngineException("qcow2 over a '" + fileNode.driverName() + "' node is not supported "
                    + "(the file child must be a 'file' or 'host_device' node)");
        }
        Qcow2Header h = Qcow2Header.read(f, o, nodeExists);
        Qcow2Node n = new Qcow2Node(nodeName, o, f, h);
        try {
            h.checkTables();
            n.clusters.load(h);
            n.refcounts.load();
            n.persistentBitmaps.load(n);
        } catch (RuntimeException e) { // EngineException included
            n.clusters.close();
            n.arena.close();
            throw e;
        }
        n.addChild("file", fileNode, fileOwned);
        if (n.writable && h.version == 3) {
            h.clearUnknownAutoclear();
        }
        return n;
    }

    /** Attaches the backing child (graph, after open). */
    void attachBacking(BlockNode b, boolean owned) throws EngineException {
        addChild("backing", b, owned);
        backing = b;
    }

    // =============================================================================================================
    // properties

    public int clusterSize() {
        return clusterSize;
    }

    public String compat() {
        return header.version == 2 ? "0.10" : "1.1";
    }

    /**
     * The header's lazy-refcounts compatible feature (what QEMU reports; the option only changes how QEMU writes).
     * Refcounts are always written through here, so the image never needs the repair lazy refcounts imply.
     */
    public boolean lazyRefcounts() {
        return (header.compatible & 1) != 0;
    }

    public int refcountBits() {
        return 1 << header.refcountOrder;
    }

    public boolean corrupt() {
        return (header.incompatible & Qcow2Header.INCOMPAT_CORRUPT) != 0;
    }

    public boolean extendedL2() {
        return false;
    }

    public String compressionType() {
        return header.compressionType == 1 ? "zstd" : "zlib";
    }

    public boolean dirtyFlag() {
        return (header.incompatible & Qcow2Header.INCOMPAT_DIRTY) != 0;
    }

    public String backingFilename() {
        return header.backingFile;
    }

    /** QEMU's bdrv_get_full_backing_filename: relative names are relative to the image's directory. */
    public String fullBackingFilename() {
        String backingFile = header.backingFile;
        if (backingFile == null) {
            return null;
        }
        if (backingFile.startsWith("/") || backingFile.contains("://") || backingFile.startsWith("json:")) {
            return backingFile;
        }
        String f = file.filename();
        int slash = f.lastIndexOf('/');
        return slash < 0 ? backingFile : f.substring(0, slash + 1) + backingFile;
    }

    public String backingFormat() {
        return header.backingFormat;
    }

    public BlockNode backing() {
        return backing;
    }

    public BlockNode file() {
        return file;
    }

    @Override
    public long length() {
        return Qcow2Header.roundUp(size, 512);
    }

    @Override
    public boolean isReadOnly() {
        return !writable || super.isReadOnly();
    }

    @Override
    public long actualSize() {
        return file.actualSize();
    }

    @Override
    public boolean hasImageInfo() {
        return true;
    }

    /**
     * QEMU's bdrv_refresh_filename: the image file's name, unless the node's options say more than the file does (a
     * backing given explicitly: null, a node or an inline definition), then a "json:" description.
     */
    @Override
    public String filename() {
        return explicitBacking || file.filename().startsWith("json:") ? "json:" + jsonOptions() : file.filename();
    }

    @Override
    String jsonOptions() {
        String b = "";
        if (explicitBacking) {
            b = "\"backing\": " + (backing == null ? "null" : backing.jsonOptions()) + ", ";
        }
        return "{" + b + "\"driver\": \"qcow2\", \"file\": " + file.jsonOptions() + "}";
    }

    @Override
    int[] childPerm(BlockChild c, int perm, int shared) {
        if ("backing".equals(c.name)) {
            // QEMU's bdrv_default_perms_for_cow: read only, and other writers are fine if our parents are
            int p = perm & BlockPerm.CONSISTENT_READ;
            int s = (shared & BlockPerm.WRITE) != 0 ? BlockPerm.WRITE | BlockPerm.RESIZE : 0;
            return new int[] {p, s | BlockPerm.CONSISTENT_READ | BlockPerm.WRITE_UNCHANGED};
        }
        // QEMU's bdrv_default_perms_for_storage: metadata must stay consistent and nobody else may write or resize
        int p = (perm & BlockPerm.ALL) | BlockPerm.CONSISTENT_READ;
        if (writable) {
            p |= BlockPerm.WRITE | BlockPerm.RESIZE;
        }
        int s = ((shared & BlockPerm.ALL) | BlockPerm.CONSISTENT_READ | BlockPerm.WRITE_UNCHANGED)
                & ~(BlockPerm.WRITE | BlockPerm.RESIZE);
        return new int[] {p, s};
    }

    @Override
    void close() {
        if (!closed) {
            storePersistentBitmaps(); // the graph stores them earlier, while the file child is still open
            super.close();
            synchronized (lock) {
                clusters.close();
                refcounts.close();
            }
            arena.close();
        }
    }

    // =============================================================================================================
    // requests

    /**
     * A request's progress through its runs, kept in its frame state and reused with the request (and by whichever
     * qcow2 node the request passes at this depth next): the hot path allocates nothing once it exists.
     */
    static final class Op {
        long start;
        long pos;
        long end;
        int origOp;
        int origFlags;
        /** The request's iovecs as submitted: the request's own array is narrowed to each run. */
        private MemorySegment iov = Arena.ofAuto().allocate(8 * IoVecs.IOVEC_SIZE, 8);
        private int iovCount;
        boolean syncWrites;
        /** A run is being read from or written in place to the file child (counted as data I/O in flight). */
        boolean dataForward;
        /** Where the current run is: filled by {@link Qcow2ClusterMap#map} under the node's lock. */
        final Qcow2ClusterMap.Mapping run = new Qcow2ClusterMap.Mapping();

        void save(BlockRequest req) {
            start = pos = req.offset;
            end = req.offset + req.length;
            origOp = req.op;
            origFlags = req.flags;
            iovCount = req.iovCount;
            long bytes = iovCount * IoVecs.IOVEC_SIZE;
            if (iov.byteSize() < bytes) {
                iov = Arena.ofAuto().allocate(bytes, 8);
            }
            MemorySegment.copy(req.iovecs, 0, iov, 0, bytes);
            syncWrites = false;
        }

        void restore(BlockRequest req) {
            MemorySegment.copy(iov, 0, req.iovecs, 0, iovCount * IoVecs.IOVEC_SIZE);
            req.iovCount = iovCount;
            req.op = origOp;
            req.flags = origFlags;
        }

        /** Narrows the request's iovecs to bytes [from, from + len) of the original request. */
        void narrow(BlockRequest req, long from, long len) {
            req.iovCount = IoVecs.narrow(iov, iovCount, from, len, req.iovecs);
        }

        /** Copies request bytes [from, from + dst.size) into dst. */
        void copyOut(long from, MemorySegment dst) {
            IoVecs.copyOut(iov, iovCount, from, dst);
        }

        /** Copies src into request bytes [from, from + src.size). */
        void copyIn(long from, MemorySegment src) {
            IoVecs.copyIn(iov, iovCount, from, src);
        }

        /** Zero-fills request bytes [from, from + len). */
        void zero(long from, long len) {
            IoVecs.zero(iov, iovCount, from, len);
        }
    }

    private Op op(BlockRequest req) {
        Object s = frameState(req);
        Op o;
        if (s instanceof Op existing) {
            o = existing;
        } else {
            o = new Op();
            setFrameState(req, o);
        }
        o.save(req);
        return o;
    }

    @Override
    protected void doRead(BlockRequest req) {
        readStep(req, op(req));
    }

    @Override
    protected void doWrite(BlockRequest req) {
        writeStep(req, op(req));
    }

    @Override
    protected void doWriteZeroes(BlockRequest req) {
        writeStep(req, op(req));
    }

    @Override
    protected void doDiscard(BlockRequest req) {
        Op o = op(req);
        long first = Qcow2Header.roundUp(o.pos, clusterSize);
        long last = o.end == length() && (size & (clusterSize - 1)) != 0 ? Qcow2Header.roundUp(o.end, clusterSize)
                : o.end & -(long) clusterSize;
        int r = 0;
        if (last > first) {
            synchronized (lock) {
                r = clusters.zeroClusters(first, last - first, true, true, backing);
            }
        }
        finish(req, o, r);
    }

    @Override
    protected void doFlush(BlockRequest req) {
        op(req);
        forward(req, file, req.offset);
    }

    @Override
    protected void doBlockStatus(BlockRequest req) {
        Op o = op(req);
        long len;
        synchronized (lock) {
            len = clusters.map(o.pos, o.end - o.pos, o.run);
        }
        if (len < 0) {
            finish(req, o, (int) len);
            return;
        }
        req.statusLength = len;
        req.statusDepth = 1;
        switch (o.run.kind) {
            case NORMAL, COMPRESSED_CLUSTER -> req.statusFlags = STATUS_DATA | STATUS_ALLOCATED;
            case ZERO -> req.statusFlags = STATUS_ZERO | STATUS_ALLOCATED;
            default -> {
                if (backing == null || o.pos >= backing.length()) {
                    req.statusFlags = STATUS_ZERO;
                    req.statusDepth = 0;
                } else {
                    req.length = Math.min(len, backing.length() - o.pos);
                    o.pos = o.end; // the answer comes back in childDone
                    forward(req, backing, req.offset);
                    return;
                }
            }
        }
        finish(req, o, 0);
    }

    @Override
    protected void childDone(BlockRequest req, int result) {
        Op o = (Op) frameState(req);
        int op = o.origOp;
        if (op == FLUSH) {
            complete(req, result);
            return;
        }
        if (op == BLOCK_STATUS) {
            if (result >= 0) {
                req.statusFlags &= ~STATUS_ALLOCATED;
                if (req.statusDepth > 0) {
                    req.statusDepth++;
                }
            }
            finish(req, o, result);
            return;
        }
        if (o.dataForward) {
            o.dataForward = false;
            synchronized (lock) {
                refcounts.dataIoDone();
            }
        }
        if (result < 0) {
            finish(req, o, result);
            return;
        }
        if (op == READ) {
            readStep(req, o);
        } else {
            writeStep(req, o);
        }
    }

    private void readStep(BlockRequest req, Op o) {
        Qcow2ClusterMap.Mapping m = o.run;
        while (o.pos < o.end) {
            long len;
            synchronized (lock) {
                len = clusters.map(o.pos, o.end - o.pos, m);
                if (len > 0 && m.kind == NORMAL) {
                    refcounts.dataIoStarted();
                } else if (len > 0 && m.kind == COMPRESSED_CLUSTER) {
                    int r = clusters.decompress(m.host);
                    if (r < 0) {
                        len = r;
                    } else {
                        long inCluster = o.pos & (clusterSize - 1);
                        o.copyIn(o.pos - o.start, clusters.bounce.asSlice(inCluster, len));
                    }
                }
            }
            if (len < 0) {
                finish(req, o, (int) len);
                return;
            }
            long from = o.pos - o.start;
            switch (m.kind) {
                case NORMAL -> {
                    o.dataForward = true;
                    o.narrow(req, from, len);
                    req.length = len;
                    o.pos += len;
                    forward(req, file, m.host);
                    return;
                }
                case COMPRESSED_CLUSTER -> o.pos += len;
                case ZERO -> {
                    o.zero(from, len);
                    o.pos += len;
                }
                default -> {
                    long blen = backing == null ? 0 : backing.length();
                    if (o.pos >= blen) {
                        o.zero(from, len);
                        o.pos += len;
                    } else {
                        len = Math.min(len, blen - o.pos);
                        o.narrow(req, from, len);
                        req.length = len;
                        long at = o.pos;
                        o.pos += len;
                        forward(req, backing, at);
                        return;
                    }
                }
            }
        }
        finish(req, o, 0);
    }

    private void writeStep(BlockRequest req, Op o) {
        boolean zeroes = o.origOp == WRITE_ZEROES;
        Qcow2ClusterMap.Mapping m = o.run;
        while (o.pos < o.end) {
            long from = o.pos - o.start;
            if (zeroes) {
                // whole clusters: the zero flag (v3) or deallocation; partial ones are written as zero data
                long first = Qcow2Header.roundUp(o.pos, clusterSize);
                long last = o.end & -(long) clusterSize;
                if (o.pos == first && last > first && (header.version >= 3 || backing == null)) {
                    int r;
                    synchronized (lock) {
                        r = clusters.zeroClusters(first, last - first, false, (o.origFlags & MAY_UNMAP) != 0,
                                backing);
                    }
                    if (r < 0) {
                        finish(req, o, r);
                        return;
                    }
                    o.syncWrites = true;
                    o.pos = last;
                    continue;
                }
            }
            long len;
            int r = 0;
            synchronized (lock) {
                long limit = o.end - o.pos;
                if (zeroes) {
                    limit = Math.min(limit, clusterSize - (o.pos & (clusterSize - 1)));
                }
                len = clusters.map(o.pos, limit, m);
                if (len > 0 && m.kind == NORMAL && m.copied) {
                    refcounts.dataIoStarted();
                } else if (len > 0) {
                    len = Math.min(len, clusterSize - (o.pos & (clusterSize - 1)));
                    boolean readsZero = m.kind == ZERO || (m.kind == UNALLOCATED && backing == null);
                    if (zeroes && readsZero) {
                        r = 0; // nothing to do
                    } else if (zeroes && (o.origFlags & NO_FALLBACK) != 0) {
                        r = -Errno.ENOTSUP;
                    } else {
                        r = clusters.allocatingWrite(o.pos, len, o, from, zeroes, backing);
                        o.syncWrites = true;
                    }
                }
            }
            if (len < 0) {
                finish(req, o, (int) len);
                return;
            }
            if (r < 0) {
                finish(req, o, r);
                return;
            }
            if (m.kind == NORMAL && m.copied) {
                o.dataForward = true;
                req.length = len;
                if (zeroes) {
                    req.iovCount = 0;
                    req.flags = o.origFlags & (FUA | NO_FALLBACK);
                } else {
                    o.narrow(req, from, len);
                }
                o.pos += len;
                forward(req, file, m.host);
                return;
            }
            o.pos += len;
        }
        int r = 0;
        if (o.syncWrites && (o.origFlags & FUA) != 0) {
            r = file.flushSync();
        }
        finish(req, o, r);
    }

    private void finish(BlockRequest req, Op o, int result) {
        o.restore(req);
        complete(req, result);
    }

    // =============================================================================================================
    // synchronous read (this node as the backing file of another)

    @Override
    int readSync(long offset, MemorySegment dst) {
        long n = dst.byteSize();
        long done = 0;
        long len0 = length();
        Qcow2ClusterMap.Mapping m = new Qcow2ClusterMap.Mapping(); // a slow path: one per call
        while (done < n) {
            long pos = offset + done;
            if (pos >= len0) {
                dst.asSlice(done).fill((byte) 0);
                return 0;
            }
            long len;
            int r = 0;
            synchronized (lock) {
                len = clusters.map(pos, Math.min(n - done, len0 - pos), m);
                if (len > 0 && m.kind == COMPRESSED_CLUSTER) {
                    r = clusters.decompress(m.host);
                    if (r >= 0) {
                        MemorySegment.copy(clusters.bounce, pos & (clusterSize - 1), dst, done, len);
                    }
                }
            }
            if (len < 0) {
                return (int) len;
            }
            MemorySegment part = dst.asSlice(done, len);
            switch (m.kind) {
                case NORMAL -> r = file.readSync(m.host, part);
                case ZERO -> part.fill((byte) 0);
                case UNALLOCATED -> {
                    if (backing == null) {
                        part.fill((byte) 0);
                    } else {
                        r = Qcow2ClusterMap.readBacking(backing, pos, part);
                    }
                }
                default -> {
                }
            }
            if (r < 0) {
                return r;
            }
            done += len;
        }
        return 0;
    }

    // =============================================================================================================
    // resize (control thread, node drained)

    @Override
    void truncate(long newSize) throws EngineException {
        if (isReadOnly()) {
            throw new EngineException("Image is read-only");
        }
        if ((newSize & 511) != 0) {
            throw new EngineException("The new size must be a multiple of 512");
        }
        synchronized (lock) {
            persistentBitmaps.checkForResize(this);
            resize.truncate(size, newSize, backing);
            size = newSize;
        }
    }

    // =============================================================================================================
    // persistent dirty bitmaps (control thread)

    @Override
    public boolean canStorePersistentBitmaps() {
        return header.version >= 3;
    }

    @Override
    public long defaultBitmapGranularity() {
        return Math.min(65536, Math.max(4096, clusterSize));
    }

    @Override
    void checkCanStoreBitmap(String name, long granularity) throws EngineException {
        String prefix = "Can't make bitmap '" + name + "' persistent in '" + nodeName() + "': ";
        synchronized (lock) {
            persistentBitmaps.checkCanStore(name, granularity, length(), prefix);
        }
    }

    @Override
    void removePersistentBitmap(String name) throws EngineException {
        synchronized (lock) {
            persistentBitmaps.remove(name);
        }
    }

    @Override
    void storePersistentBitmaps() {
        if (closed) {
            return;
        }
        String err;
        synchronized (lock) {
            err = persistentBitmaps.store(this);
        }
        if (err != null) {
            System.err.println("Lost persistent bitmaps during inactivation of node '" + nodeName() + "': " + err);
        }
    }

    /** The bitmaps stored in the image (name, granularity, flags), as qemu-img info lists them. */
    public List<StoredBitmap> storedBitmaps() {
        synchronized (lock) {
            return persistentBitmaps.stored();
        }
    }

    /** A bitmap directory entry as QMP's Qcow2BitmapInfo shows it. */
    public record StoredBitmap(String name, long granularity, boolean inUse, boolean auto) {
    }
}
