package io.isthmus.engine.block;

import static io.isthmus.engine.block.BlockRequest.*;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.LinuxFs;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysStat;
import io.isthmus.bindings.Unistd;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.loop.IoThread;
import io.isthmus.engine.mem.IoVecs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code file} (regular files) and {@code host_device} (block and character devices): QEMU's file-posix driver on
 * io_uring. Every request runs on the submitting IoThread's ring; data moves between the request's iovecs and the
 * kernel with no copy, except misaligned requests on an O_DIRECT node ({@code cache.direct=on}), which go through
 * an aligned bounce buffer (a write then reads the partial blocks first; overlapping writes wait for it,
 * {@link OverlapSerialiser}). Discard punches a hole (BLKDISCARD on a block device); write-zeroes is a punched hole
 * (may-unmap) or a zeroed range (BLKZEROOUT on a block device), falling back to writing zeroes unless NO_FALLBACK;
 * flush is fdatasync unless {@code cache.no-flush}; FUA is a flush after the write; block status comes from
 * SEEK_DATA/SEEK_HOLE (a block device reports data up to its end, as in QEMU), with QEMU's block-status cache: the
 * last data run found is remembered, so a sequential reader asking about every request (an NBD sparse read) does
 * not pay two lseeks per request, each walking the extents up to the next hole. Image locking as QEMU
 * ({@link ImageLock}). The two ioctls block, so they run on {@link BlockingCalls}' workers as QEMU runs them on its
 * thread pool.
 *
 * <p>Thread use: requests on any IoThread (several at once); open, permissions, resize and close on the control
 * thread. Memory: the fd, the lock buffer and the probe buffers belong to this node (its shared arena, closed on
 * close); bounce buffers belong to one request (GC-managed, the misaligned slow path only). Native calls return
 * >= 0 or -errno.
 */
final class FileNode extends BlockNode {
    private static final int TAG_READ = 1, TAG_WRITE = 2, TAG_FLUSH_AFTER_WRITE = 3, TAG_FLUSH = 4,
            TAG_DISCARD = 5, TAG_PUNCH_ZEROES = 6, TAG_ZERO_RANGE = 7, TAG_ZERO_WRITE = 8, TAG_BOUNCE_READ = 9,
            TAG_RMW_READ = 10, TAG_BOUNCE_WRITE = 11, TAG_BLKDISCARD = 12, TAG_BLKZEROOUT = 13;
    /** BLKDISCARD and BLKZEROOUT take whole 512-byte sectors. */
    private static final long SECTOR = 512;
    private static final long ZERO_CHUNK = 1L << 20;
    private static final MemorySegment ZEROES = Arena.global().allocate(ZERO_CHUNK, 4096);

    private static final long ST_MODE = SysStat.stat.byteOffset(PathElement.groupElement("st_mode"));
    private static final long ST_SIZE = SysStat.stat.byteOffset(PathElement.groupElement("st_size"));
    private static final long ST_BLOCKS = SysStat.stat.byteOffset(PathElement.groupElement("st_blocks"));

    private final String filename;
    private final boolean hostDevice;
    private final boolean readOnly;
    private final int fd;
    private final Arena arena;
    private final MemorySegment statBuf;
    private final ImageLock lock;
    private final int reqAlign;
    private final int memAlign;
    private volatile long fileSize;
    private volatile long length;
    /**
     * Block-status cache (QEMU's BdrvBlockStatusCache): {@code [bscStart, bscEnd)} is known to be data. A sequence
     * lock: even = stable, odd = being written; every change adds 2 in total. Writes only ever add data, so only
     * what can make holes (discard, write-zeroes, truncate) clears it, at submission and again at completion; a
     * fill is refused when anything changed since the lseeks began (a hole punched meanwhile is not cached over).
     */
    private final AtomicLong bscSeq = new AtomicLong();
    /** QEMU's BlockStatsSpecificFile (raw_account_discard): discards done, failed, and bytes discarded. */
    private final AtomicLong discardOk = new AtomicLong(), discardFailed = new AtomicLong(), discardBytesOk = new AtomicLong();
    private volatile long bscStart, bscEnd;
    /** O_DIRECT nodes only: keeps a read-modify-write apart from other writes to the same aligned blocks. */
    private final OverlapSerialiser serialiser;

    private FileNode(String nodeName, BlockOptions o, String filename, boolean hostDevice, boolean readOnly, int fd,
                     Arena arena, MemorySegment statBuf, ImageLock lock, int reqAlign, int memAlign, long fileSize) {
        super(nodeName, o.driver, o);
        this.filename = filename;
        this.hostDevice = hostDevice;
        this.readOnly = readOnly;
        this.fd = fd;
        this.arena = arena;
        this.statBuf = statBuf;
        this.lock = lock;
        this.reqAlign = reqAlign;
        this.memAlign = memAlign;
        this.fileSize = fileSize;
        this.length = roundUp(fileSize, 512);
        this.serialiser = reqAlign > 1 ? new OverlapSerialiser(this::resumeSerialised) : null;
    }

    private static long roundUp(long v, long a) {
        return (v + a - 1) & -a;
    }

    /** Opens the file with QEMU's checks and texts; nothing is left open on failure. */
    static FileNode open(String nodeName, BlockOptions o) throws EngineException {
        boolean hostDevice = "host_device".equals(o.driver);
        String filename = o.filename;
        if (filename == null || filename.isEmpty()) {
            throw new EngineException("The '" + o.driver + "' block driver requires a file name");
        }
        boolean direct = Boolean.TRUE.equals(o.cacheDirect);
        boolean readOnly = Boolean.TRUE.equals(o.readOnly);
        int flags = Fcntl.O_CLOEXEC | (direct ? Fcntl.O_DIRECT : 0);
        int fd = Posix.open(filename, flags | (readOnly ? Fcntl.O_RDONLY : Fcntl.O_RDWR), 0);
        if (fd < 0 && !readOnly && Boolean.TRUE.equals(o.autoReadOnly)
                && (fd == -Errno.EACCES || fd == -Errno.EROFS || fd == -Errno.EPERM)) {
            readOnly = true;
            fd = Posix.open(filename, flags | Fcntl.O_RDONLY, 0);
        }
        if (fd < 0) {
            throw new EngineException("Could not open '" + filename + "': " + Errno.message(fd));
        }
        Arena arena = Arena.ofShared();
        try {
            if ("native".equals(o.aio) && !direct) { // QEMU checks this once the file is open
                throw new EngineException(
                        "aio=native was specified, but it requires cache.direct=on, which was not specified.");
            }
            MemorySegment st = arena.allocate(SysStat.stat);
            int r = Posix.fstat(fd, st);
            if (r < 0) {
                throw new EngineException("Could not stat '" + filename + "': " + Errno.message(r));
            }
            int type = st.get(ValueLayout.JAVA_INT, ST_MODE) & SysStat.S_IFMT;
            long size;
            if (hostDevice) {
                if (type != SysStat.S_IFBLK && type != SysStat.S_IFCHR) {
                    throw new EngineException("'host_device' driver requires '" + filename
                            + "' to be either a character or block device");
                }
                MemorySegment u64 = arena.allocate(8, 8);
                if (Posix.ioctl(fd, LinuxFs.BLKGETSIZE64, u64) >= 0) {
                    size = u64.get(ValueLayout.JAVA_LONG, 0);
                } else {
                    size = Posix.lseek(fd, 0, Unistd.SEEK_END);
                    if (size < 0) {
                        throw new EngineException("Could not get the size of '" + filename + "': "
                                + Errno.message((int) size));
                    }
                }
            } else {
                if (type != SysStat.S_IFREG) {
                    throw new EngineException("'file' driver requires '" + filename + "' to be a regular file");
                }
                size = st.get(ValueLayout.JAVA_LONG, ST_SIZE);
            }
            int reqAlign = 1, memAlign = 1;
            if (direct) {
                int[] a = probeAlignment(fd, arena, hostDevice);
                reqAlign = a[0];
                memAlign = a[1];
            }
            ImageLock lock = "off".equals(o.locking) ? null : new ImageLock(fd, arena.allocate(Fcntl.flock));
            return new FileNode(nodeName, o, filename, hostDevice, readOnly, fd, arena, st, lock, reqAlign, memAlign,
                    size);
        } catch (RuntimeException e) {
            arena.close();
            Posix.close(fd);
            throw e;
        }
    }

    /**
     * QEMU's raw_probe_alignment: the sector size for block devices (BLKSSZGET), otherwise the smallest length,
     * then buffer alignment, for which an O_DIRECT read does not fail with EINVAL (1 means "use 4096").
     */
    private static int[] probeAlignment(int fd, Arena arena, boolean hostDevice) {
        final int max = 4096;
        int req = 0;
        if (hostDevice) {
            MemorySegment i32 = arena.allocate(4, 4);
            if (Posix.ioctl(fd, LinuxFs.BLKSSZGET, i32) >= 0) {
                req = i32.get(ValueLayout.JAVA_INT, 0);
            }
        }
        MemorySegment buf = arena.allocate(2L * max, max);
        int[] candidates = {1, 512, 1024, 2048, 4096};
        if (req <= 0) {
            for (int a : candidates) {
                if (alignedReadWorks(fd, buf.asSlice(0, a))) {
                    req = a == 1 ? max : a;
                    break;
                }
            }
        }
        int mem = 0;
        for (int a : candidates) {
            if (alignedReadWorks(fd, buf.asSlice(a, max))) {
                mem = a == 1 ? max : a;
                break;
            }
        }
        return new int[] {req <= 0 ? max : req, mem <= 0 ? max : mem};
    }

    private static boolean alignedReadWorks(int fd, MemorySegment buf) {
        long r = Posix.pread(fd, buf, buf.byteSize(), 0);
        return r >= 0 || r != -Errno.EINVAL;
    }

    // =============================================================================================================
    // properties

    @Override
    public long length() {
        return length;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public int requestAlignment() {
        return reqAlign;
    }

    @Override
    public long maxTransfer() {
        return 32L << 20;
    }

    int memoryAlignment() {
        return memAlign;
    }

    @Override
    public String filename() {
        return filename;
    }

    @Override
    String jsonOptions() {
        return "{\"driver\": \"" + driverName() + "\", \"filename\": \"" + filename.replace("\\", "\\\\")
                .replace("\"", "\\\"") + "\"}";
    }

    @Override
    public boolean hasImageInfo() {
        return true;
    }

    @Override
    public long actualSize() {
        if (closed || Posix.fstat(fd, statBuf) < 0) {
            return 0;
        }
        return statBuf.get(ValueLayout.JAVA_LONG, ST_BLOCKS) * 512;
    }

    @Override
    void applyDriverPerm(int perm, int shared) throws EngineException {
        if (lock != null) {
            lock.apply(perm, shared);
        }
    }

    @Override
    void truncate(long newSize) throws EngineException {
        if (isReadOnly()) {
            throw new EngineException("Image is read-only");
        }
        if (hostDevice) {
            if (newSize > length) {
                throw new EngineException("Cannot grow device files");
            }
            return; // QEMU's non-exact truncate leaves a device alone when shrinking
        }
        invalidateStatusCache();
        int r = Posix.ftruncate(fd, newSize);
        invalidateStatusCache();
        if (r < 0) {
            throw new EngineException("Could not resize file: " + Errno.message(r));
        }
        fileSize = newSize;
        length = roundUp(newSize, 512);
    }

    // =============================================================================================================
    // synchronous access for a format driver above (qcow2 metadata, copy-on-write): blocking, on the calling thread

    @Override
    int readSync(long offset, MemorySegment dst) {
        if (reqAlign > 1 && !alignedSync(offset, dst)) {
            return bounceSync(offset, dst, false);
        }
        long done = 0;
        long n = dst.byteSize();
        while (done < n) {
            long r = Posix.pread(fd, dst.asSlice(done), n - done, offset + done);
            if (r == -Errno.EINTR) {
                continue;
            }
            if (r < 0) {
                return (int) r;
            }
            if (r == 0) {
                dst.asSlice(done).fill((byte) 0); // past EOF
                return 0;
            }
            done += r;
        }
        return 0;
    }

    /** Writes all of {@code src} at {@code offset}; the node's length follows a write past the end. 0 or -errno. */
    int writeSync(long offset, MemorySegment src) {
        if (reqAlign > 1 && !alignedSync(offset, src)) {
            return bounceSync(offset, src, true);
        }
        long done = 0;
        long n = src.byteSize();
        while (done < n) {
            long r = Posix.pwrite(fd, src.asSlice(done), n - done, offset + done);
            if (r == -Errno.EINTR) {
                continue;
            }
            if (r < 0) {
                return (int) r;
            }
            if (r == 0) {
                return -Errno.ENOSPC;
            }
            done += r;
        }
        grownTo(offset + n);
        return 0;
    }

    /**
     * Makes [offset, offset + len) read as zeroes without writing them: past the end of the file by extending it
     * (sparse), inside it by punching a hole. 0, or -errno when that cannot be done (the caller writes zeroes).
     */
    int zeroClusterSync(long offset, long len) {
        if (hostDevice || readOnly) {
            return -Errno.ENOTSUP;
        }
        long end = offset + len;
        synchronized (this) {
            if (offset >= fileSize) {
                int r = Posix.ftruncate(fd, end);
                if (r < 0) {
                    return r;
                }
                grownTo(end);
                return 0;
            }
        }
        if (end > fileSize) {
            return -Errno.ENOTSUP; // straddles the end: rare, written out by the caller
        }
        return punchSync(offset, len);
    }

    /** Records that the file now reaches {@code end} bytes (a write past the old end). */
    void grownTo(long end) {
        if (end > fileSize) {
            synchronized (this) {
                if (end > fileSize) {
                    fileSize = end;
                    length = roundUp(end, 512);
                }
            }
        }
    }

    int flushSync() {
        if (noFlushOrReadOnly()) {
            return 0;
        }
        int r;
        do {
            r = Posix.fdatasync(fd);
        } while (r == -Errno.EINTR);
        return r;
    }

    private boolean noFlushOrReadOnly() {
        return cacheNoFlush() || readOnly;
    }

    /** Deallocates [offset, offset + len) keeping the size: 0 or -errno (a discard passed down ignores it, as QEMU). */
    int punchSync(long offset, long len) {
        if (hostDevice || readOnly) {
            return -Errno.ENOTSUP;
        }
        invalidateStatusCache();
        int r = Posix.fallocate(fd, Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, offset, len);
        invalidateStatusCache(); // the range is a hole now
        return r;
    }

    private boolean alignedSync(long offset, MemorySegment s) {
        return ((offset | s.byteSize()) & (reqAlign - 1)) == 0 && (s.address() & (memAlign - 1)) == 0;
    }

    /** O_DIRECT with an unaligned range: read-modify-write through an aligned buffer. */
    private int bounceSync(long offset, MemorySegment s, boolean write) {
        long start = offset & -(long) reqAlign;
        long end = roundUp(offset + s.byteSize(), reqAlign);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment b = a.allocate(end - start, Math.max(memAlign, reqAlign));
            long r = Posix.pread(fd, b, b.byteSize(), start);
            if (r < 0) {
                return (int) r;
            }
            if (r < b.byteSize()) {
                b.asSlice(r).fill((byte) 0);
            }
            if (!write) {
                MemorySegment.copy(b, offset - start, s, 0, s.byteSize());
                return 0;
            }
            MemorySegment.copy(s, 0, b, offset - start, s.byteSize());
            long w = Posix.pwrite(fd, b, b.byteSize(), start);
            if (w < 0) {
                return (int) w;
            }
            if (w < b.byteSize()) {
                return -Errno.ENOSPC;
            }
            grownTo(offset + s.byteSize());
            return 0;
        }
    }

    @Override
    void close() {
        if (!closed) {
            super.close();
            Posix.close(fd); // releases the OFD locks with the open file description
            arena.close();
        }
    }

    // =============================================================================================================
    // requests

    private boolean aligned(BlockRequest req) {
        if (reqAlign == 1) {
            return true;
        }
        if (((req.offset | req.length) & (reqAlign - 1)) != 0) {
            return false;
        }
        for (int i = 0; i < req.iovCount; i++) {
            if (((req.iovBase(i) | req.iovLen(i)) & (memAlign - 1)) != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    protected void doRead(BlockRequest req) {
        if (!aligned(req)) {
            bounce(req, TAG_BOUNCE_READ);
            return;
        }
        IoThread.current().readv(fd, req.iovecs, req.iovCount, req.offset, req.ioCompletion, TAG_READ);
    }

    /**
     * O_DIRECT nodes: tracks a write-type request over its aligned range; false if it must wait for an overlapping
     * one (it comes back through {@link #resumeSerialised}). A write misaligned in offset or length is a
     * read-modify-write and serialises.
     */
    private boolean enterSerialised(BlockRequest req) {
        if (serialiser == null || req.serialTracked) {
            return true;
        }
        long start = req.offset & -(long) reqAlign;
        long end = roundUp(req.offset + req.length, reqAlign);
        boolean rmw = req.op == WRITE && ((req.offset | req.length) & (reqAlign - 1)) != 0;
        return serialiser.enter(req, start, end, rmw);
    }

    /** A request that waited on an overlapping one tries again (on its own IoThread). */
    private void resumeSerialised(BlockRequest req) {
        switch (req.op) {
            case WRITE -> doWrite(req);
            case WRITE_ZEROES -> doWriteZeroes(req);
            default -> doDiscard(req);
        }
    }

    /** Every completion of this driver: leaves the serialiser first, so a waiter may go once the result is in. */
    private void finish(BlockRequest req, int result) {
        if (req.op == DISCARD || req.op == WRITE_ZEROES) {
            invalidateStatusCache(); // the range may be a hole now (also after a failure: it may be partly done)
        }
        if (req.serialTracked) {
            serialiser.exit(req);
        }
        complete(req, result);
    }

    @Override
    protected void doWrite(BlockRequest req) {
        if (!enterSerialised(req)) {
            return;
        }
        if (!aligned(req)) {
            bounce(req, TAG_RMW_READ);
            return;
        }
        IoThread.current().writev(fd, req.iovecs, req.iovCount, req.offset, req.ioCompletion, TAG_WRITE);
    }

    /** Reads the aligned span around the request into a bounce buffer (a read, or the first half of a RMW). */
    private void bounce(BlockRequest req, int tag) {
        long start = req.offset & -(long) reqAlign;
        long end = roundUp(req.offset + req.length, reqAlign);
        MemorySegment b = Arena.ofAuto().allocate(end - start, Math.max(reqAlign, memAlign));
        req.scratch = b;
        req.scratchLong = start;
        IoThread.current().read(fd, b, start, req.ioCompletion, tag);
    }

    @Override
    protected void doFlush(BlockRequest req) {
        if (noFlush) {
            finish(req, 0);
            return;
        }
        IoThread.current().fsync(fd, true, req.ioCompletion, TAG_FLUSH);
    }

    private void accountDiscard(long bytes, int ret) {
        if (ret != 0) {
            discardFailed.incrementAndGet();
        } else {
            discardOk.incrementAndGet();
            discardBytesOk.addAndGet(bytes);
        }
    }

    @Override
    public long[] discardStats() {
        return new long[] {discardOk.get(), discardFailed.get(), discardBytesOk.get()};
    }

    @Override
    protected void doDiscard(BlockRequest req) {
        if (!enterSerialised(req)) {
            return;
        }
        invalidateStatusCache();
        if (hostDevice) {
            // QEMU's handle_aiocb_discard: BLKDISCARD on whole sectors (discard is advisory: partial ones are dropped)
            long start = roundUp(req.offset, SECTOR);
            long end = (req.offset + req.length) & -SECTOR;
            if (end <= start) {
                accountDiscard(req.length, 0);
                finish(req, 0);
            } else {
                BlockingCalls.ioctlRange(fd, LinuxFs.BLKDISCARD, start, end - start, req.ioCompletion, TAG_BLKDISCARD);
            }
            return;
        }
        IoThread.current().fallocate(fd, Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, req.offset,
                req.length, req.ioCompletion, TAG_DISCARD);
    }

    @Override
    protected void doWriteZeroes(BlockRequest req) {
        if (!enterSerialised(req)) {
            return;
        }
        invalidateStatusCache();
        long end = req.offset + req.length;
        if ((req.flags & MAY_UNMAP) != 0 && (hostDevice || end <= fileSize)) {
            IoThread.current().fallocate(fd, Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, req.offset,
                    req.length, req.ioCompletion, TAG_PUNCH_ZEROES);
            return;
        }
        zeroRange(req);
    }

    /** QEMU's translate_err: the errors that mean "this file or device cannot do that". */
    private static boolean notSupported(int res) {
        return res == -Errno.EOPNOTSUPP || res == -Errno.ENOSYS || res == -Errno.ENODEV || res == -Errno.ENOTTY;
    }

    private void zeroRange(BlockRequest req) {
        if (hostDevice) {
            if ((req.flags & NO_FALLBACK) != 0) {
                finish(req, -Errno.ENOTSUP); // BLKZEROOUT may write the zeroes itself: not fast
            } else if (((req.offset | req.length) & (SECTOR - 1)) != 0) {
                req.scratchLong = 0; // partial sectors: written as zeroes (QEMU's bounce-buffer fallback)
                writeZeroChunk(req);
            } else {
                BlockingCalls.ioctlRange(fd, LinuxFs.BLKZEROOUT, req.offset, req.length, req.ioCompletion,
                        TAG_BLKZEROOUT);
            }
            return;
        }
        IoThread.current().fallocate(fd, Fcntl.FALLOC_FL_ZERO_RANGE, req.offset, req.length, req.ioCompletion,
                TAG_ZERO_RANGE);
    }

    private void writeZeroChunk(BlockRequest req) {
        long done = req.scratchLong;
        long n = Math.min(ZERO_CHUNK, req.length - done);
        IoThread.current().write(fd, ZEROES.asSlice(0, n), req.offset + done, req.ioCompletion, TAG_ZERO_WRITE);
    }

    private void afterWrite(BlockRequest req) {
        long end = req.offset + req.length;
        if (end > fileSize) {
            fileSize = end;
        }
        if ((req.flags & FUA) != 0 && !noFlush) {
            IoThread.current().fsync(fd, true, req.ioCompletion, TAG_FLUSH_AFTER_WRITE);
        } else {
            finish(req, 0);
        }
    }

    @Override
    protected void ioComplete(BlockRequest req, int res, long tag) {
        switch ((int) tag) {
            case TAG_READ -> {
                if (res < 0) {
                    finish(req, res);
                } else {
                    if (res < req.length) {
                        finishShortRead(req, res);
                    }
                    finish(req, 0);
                }
            }
            case TAG_WRITE -> {
                if (res < 0) {
                    finish(req, res);
                } else if (res < req.length) {
                    finish(req, -Errno.ENOSPC); // as QEMU's io_uring code: a short write is out of space
                } else {
                    afterWrite(req);
                }
            }
            case TAG_FLUSH, TAG_FLUSH_AFTER_WRITE -> finish(req, Math.min(res, 0));
            // a discard the file or device cannot do succeeds (QEMU's bdrv_co_pdiscard ignores -ENOTSUP)
            case TAG_DISCARD, TAG_BLKDISCARD -> {
                accountDiscard(req.length, Math.min(res, 0));
                finish(req, notSupported(res) ? 0 : Math.min(res, 0));
            }
            case TAG_BLKZEROOUT -> {
                if (notSupported(res)) {
                    req.scratchLong = 0; // QEMU's generic fallback: write zero buffers
                    writeZeroChunk(req);
                } else if (res < 0) {
                    finish(req, res);
                } else {
                    afterWrite(req);
                }
            }
            case TAG_PUNCH_ZEROES -> {
                // handle_aiocb_write_zeroes_unmap: on these, zero without unmapping instead
                if (notSupported(res) || res == -Errno.EINVAL || res == -Errno.EBUSY) {
                    zeroRange(req);
                } else if (res < 0) {
                    finish(req, res);
                } else {
                    afterWrite(req);
                }
            }
            case TAG_ZERO_RANGE -> {
                if (res == -Errno.EOPNOTSUPP || res == -Errno.ENOSYS || res == -Errno.EINVAL) {
                    if ((req.flags & NO_FALLBACK) != 0) {
                        finish(req, -Errno.ENOTSUP);
                    } else {
                        req.scratchLong = 0;
                        writeZeroChunk(req);
                    }
                } else if (res < 0) {
                    finish(req, res);
                } else {
                    afterWrite(req);
                }
            }
            case TAG_ZERO_WRITE -> {
                if (res <= 0) {
                    finish(req, res < 0 ? res : -Errno.ENOSPC);
                    return;
                }
                req.scratchLong += res;
                if (req.scratchLong < req.length) {
                    writeZeroChunk(req);
                } else {
                    afterWrite(req);
                }
            }
            case TAG_BOUNCE_READ, TAG_RMW_READ -> {
                MemorySegment b = (MemorySegment) req.scratch;
                if (res < 0) {
                    req.scratch = null;
                    finish(req, res);
                    return;
                }
                if (res < b.byteSize()) {
                    b.asSlice(res).fill((byte) 0); // beyond the end of the file
                }
                long skip = req.offset - req.scratchLong;
                if (tag == TAG_BOUNCE_READ) {
                    IoVecs.copyIn(req.iovecs, req.iovCount, 0, b.asSlice(skip, req.length));
                    req.scratch = null;
                    finish(req, 0);
                } else {
                    IoVecs.copyOut(req.iovecs, req.iovCount, 0, b.asSlice(skip, req.length));
                    IoThread.current().write(fd, b, req.scratchLong, req.ioCompletion, TAG_BOUNCE_WRITE);
                }
            }
            case TAG_BOUNCE_WRITE -> {
                MemorySegment b = (MemorySegment) req.scratch;
                req.scratch = null;
                if (res < 0) {
                    finish(req, res);
                } else if (res < b.byteSize()) {
                    finish(req, -Errno.ENOSPC);
                } else {
                    afterWrite(req);
                }
            }
            default -> finish(req, -Errno.EIO);
        }
    }

    /** A read returned fewer bytes than asked: read on synchronously until EOF, then zero the rest (QEMU pads). */
    private void finishShortRead(BlockRequest req, long got) {
        long pos = 0;
        for (int i = 0; i < req.iovCount && got < req.length; i++) {
            long l = req.iovLen(i);
            if (pos + l > got) {
                MemorySegment s = IoVecs.segment(req.iovecs, i);
                long in = got - pos;
                while (in < l) {
                    long r = reqAlign == 1 ? Posix.pread(fd, s.asSlice(in), l - in, req.offset + got) : 0;
                    if (r <= 0) {
                        IoVecs.zeroFrom(req.iovecs, req.iovCount, got);
                        return;
                    }
                    in += r;
                    got += r;
                }
            }
            pos += l;
        }
    }

    @Override
    protected void doBlockStatus(BlockRequest req) {
        long offset = req.offset;
        long end = offset + req.length;
        int data = STATUS_DATA | STATUS_ALLOCATED;
        int zero = STATUS_ZERO | STATUS_ALLOCATED;
        req.statusDepth = 1;
        long seq = bscSeq.get();
        if ((seq & 1) == 0) {
            long cs = bscStart, ce = bscEnd;
            if (offset >= cs && offset < ce && bscSeq.get() == seq) {
                req.statusLength = Math.min(ce, end) - offset;
                req.statusFlags = data;
                finish(req, 0);
                return;
            }
        }
        long d = Posix.lseek(fd, offset, Unistd.SEEK_DATA);
        if (d == -Errno.ENXIO) {
            req.statusLength = req.length; // no data at or after offset: a hole up to EOF and zeroes beyond
            req.statusFlags = zero;
        } else if (d < 0) {
            req.statusLength = req.length; // SEEK_DATA unsupported: everything is data
            req.statusFlags = data;
        } else if (d > offset) {
            req.statusLength = Math.min(d, end) - offset;
            req.statusFlags = zero;
        } else {
            long h = Posix.lseek(fd, offset, Unistd.SEEK_HOLE);
            req.statusLength = (h <= offset ? end : Math.min(h, end)) - offset;
            req.statusFlags = data;
            if (h > offset) {
                fillStatusCache(seq, offset, h);
            }
        }
        finish(req, 0);
    }

    /**
     * Remembers that [start, end) is data, unless the cache changed since {@code seq} was read (see bscSeq). A run
     * touching the cached one is merged with it (both are data and nothing made a hole since), so random readers
     * soon find the whole run cached instead of replacing it with the part after their offset on every miss.
     */
    private void fillStatusCache(long seq, long start, long end) {
        if ((seq & 1) == 0 && bscSeq.compareAndSet(seq, seq + 1)) {
            long cs = bscStart, ce = bscEnd;
            if (cs < ce && start <= ce && end >= cs) {
                start = Math.min(start, cs);
                end = Math.max(end, ce);
            }
            bscStart = start;
            bscEnd = end;
            bscSeq.set(seq + 2);
        }
    }

    /** Forgets the cached data run (any thread; waits only for a fill in progress, a few stores). */
    void invalidateStatusCache() {
        while (true) {
            long seq = bscSeq.get();
            if ((seq & 1) == 0 && bscSeq.compareAndSet(seq, seq + 1)) {
                bscStart = 0;
                bscEnd = 0;
                bscSeq.set(seq + 2);
                return;
            }
            Thread.onSpinWait();
        }
    }
}
