package io.isthmus.engine.export.fuse;

import static io.isthmus.engine.export.fuse.FuseProtocol.*;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.isthmus.engine.block.BlockCallback;
import io.isthmus.engine.block.BlockRequest;
import io.isthmus.engine.loop.Completion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One request of a {@link FuseQueue} from the read on {@code /dev/fuse} to its reply: the read buffer, the decoded
 * request, the block request that serves it and the reply, written back with one vectored write (header, and for
 * READ the data). Preallocated per queue and reused: no allocation per request.
 *
 * <p>Buffer layout (4 KiB + maxIo bytes, from the queue's mapping): the reply header and arguments at 0, the reply
 * iovecs at 256, and the read target at {@code 4096 - 80}, so that the 40-byte in header and the 40-byte write_in
 * end exactly at 4096 and a WRITE's payload lands page-aligned at {@link #DATA_OFF}, where it goes to the node
 * without a copy. A READ's data is read by the node into the same aligned area and sent from there.
 *
 * <p>Thread use: the queue's IoThread only. Block and resize results are 0 or -errno; the node may complete a
 * request inside {@code submit} (a trampoline keeps multi-step requests from recursing).
 */
final class FuseSlot implements Completion, BlockCallback, FuseNodeControl.ResizeDone {
    static final int IOV_AREA = 256;
    static final int DATA_OFF = 4096;
    static final int READ_OFF = DATA_OFF - WRITE_HEADER_ROOM;
    static final long TAG_READ = 0, TAG_REPLY = 1;
    /** Largest data-less block request (write-zeroes, block status) sent in one piece. */
    private static final long MAX_NODATA = 1L << 30;

    private static final int ENOENT = 2, EIO = 5, ENXIO = 6, EACCES = 13, EINVAL = 22, EFBIG = 27,
            ENOSPC = 28, EROFS = 30, ENOSYS = 38, ENOTSUP = 95;
    private static final int O_ACCMODE = 3;

    // ---- stages of a multi-step request
    private static final int NONE = 0, READING = 1, WRITING = 2, FLUSHING = 3, PUNCHING = 4, ZEROING = 5,
            SEEKING = 6, GROW_WRITE = 7, SETATTR_SIZE = 8, GROW_ZERO = 9, GROW_ALLOC = 10;

    final FuseQueue q;
    final int index;
    private final FuseFile file;
    final long base;
    private final MemorySegment buf;
    private final MemorySegment iovs;
    private final int maxIo;
    private final BlockRequest br;
    final FuseRequest req = new FuseRequest();
    /** The io_uring id of this slot's pending read, or -1. */
    long readOp = -1;

    private int stage;
    private long start, pos, end;
    private boolean inSubmit, syncDone;
    /** The reply of the current request has been sent. */
    private boolean replied;
    private int syncResult;

    FuseSlot(FuseQueue q, int index, long base, int maxIo, Arena arena) {
        this.q = q;
        this.index = index;
        this.file = q.file;
        this.base = base;
        this.maxIo = maxIo;
        this.buf = MemorySegment.ofAddress(base).reinterpret(DATA_OFF + (long) maxIo);
        this.iovs = buf.asSlice(IOV_AREA, 32);
        this.br = new BlockRequest(arena, 1);
        this.br.callback = this;
    }

    /** Arms the read of the next request. */
    void arm() {
        readOp = q.io.read(q.fd, base + READ_OFF, WRITE_HEADER_ROOM + maxIo, 0, this, TAG_READ);
    }

    @Override
    public void complete(int res, int flags, long tag) {
        if (tag == TAG_READ) {
            readOp = -1;
            replied = false;
            try {
                q.readDone(this, res);
            } catch (RuntimeException | Error e) {
                failed(e);
            }
        } else {
            q.replyDone(this, res);
        }
    }

    /** A bug while serving: answer EIO rather than leave the caller hanging and the slot busy. */
    private void failed(Throwable e) {
        System.getLogger(FuseSlot.class.getName()).log(System.Logger.Level.ERROR,
                "FUSE request " + FuseProtocol.opcodeName(req.opcode) + " failed", e);
        if (!replied && !inSubmit) {
            replyStatus(-EIO);
        }
    }

    // =====================================================================================================
    // dispatch

    /** {@code n} bytes of a request are in the buffer: decode and serve it. */
    void process(int n) {
        int rc = req.decode(buf, READ_OFF, n, maxIo);
        if (rc == FuseRequest.HALT) {
            q.server.halt("request of " + n + " bytes with header length " + Integer.toUnsignedString(req.len)
                    + " read from /dev/fuse");
            q.release(this);
            return;
        }
        if (req.noReply()) {
            q.release(this);
            return;
        }
        if (rc < 0) {
            replyStatus(rc);
            return;
        }
        stage = NONE;
        switch (req.opcode) {
            case INIT -> {
                int r = FuseInit.reply(req, buf, OUT_HEADER_SIZE, maxIo);
                if (r < 0) {
                    replyStatus(r);
                } else {
                    if (req.major == KERNEL_VERSION) {
                        q.server.initialized(req.major, req.minor);
                    }
                    reply(r, 0);
                }
            }
            case LOOKUP -> replyStatus(-ENOENT); // one file, no directory below it
            case GETATTR -> reply(file.encodeAttr(buf, OUT_HEADER_SIZE), 0);
            case SETATTR -> setattr();
            case OPEN -> open();
            case READ -> read();
            case WRITE -> write();
            case FLUSH, FSYNC -> {
                stage = FLUSHING;
                br.noData(BlockRequest.FLUSH, 0, 0, 0);
                submit();
            }
            case FALLOCATE -> fallocate();
            case LSEEK -> lseek();
            case STATFS -> statfs();
            case RELEASE -> {
                file.released();
                replyStatus(0);
            }
            case DESTROY -> replyStatus(0);
            default -> replyStatus(-ENOSYS); // INTERRUPT included: the kernel stops sending them
        }
    }

    private void open() {
        // O_TRUNC is ignored: with ATOMIC_O_TRUNC it only arrives here, and the contents stay (as QSD)
        if (!file.config.writable() && (req.flags & O_ACCMODE) != 0) {
            replyStatus(-EROFS);
            return;
        }
        file.opened();
        reply(FuseReplies.openOut(buf, OUT_HEADER_SIZE, 0, FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES), 0);
    }

    private void statfs() {
        long bs = file.blockSize();
        long blocks = (file.node.length() + bs - 1) / bs;
        reply(FuseReplies.statfsOut(buf, OUT_HEADER_SIZE, blocks, 0, 0, 1, 0, (int) bs, 255, (int) bs), 0);
    }

    // ---- READ
    private void read() {
        long length = file.node.length();
        if (req.size == 0 || req.offset >= length) {
            reply(0, 0); // EOF: a short (empty) read
            return;
        }
        start = pos = req.offset;
        end = Math.min(length, req.offset + req.size);
        stage = READING;
        prepData(BlockRequest.READ, DATA_OFF);
        submit();
    }

    private void prepData(int op, long bufOffset) {
        long chunk = Math.min(end - pos, file.node.maxTransfer());
        br.op = op;
        br.flags = 0;
        br.offset = pos;
        br.length = chunk;
        br.setIov(0, base + bufOffset + (pos - start), chunk);
        br.iovCount = 1;
    }

    // ---- WRITE
    private void write() {
        if (!file.config.writable()) {
            replyStatus(-EACCES);
            return;
        }
        if (req.size == 0) {
            reply(FuseReplies.writeOut(buf, OUT_HEADER_SIZE, 0), 0);
            return;
        }
        long wend = req.offset + req.size;
        if (wend < 0) {
            replyStatus(-EFBIG);
            return;
        }
        long length = file.node.length();
        if (wend > length) {
            if (file.config.growable()) {
                stage = GROW_WRITE;
                file.control.resize(wend, true, this);
                return;
            }
            if (req.offset >= length) {
                replyStatus(-ENOSPC); // nothing fits: ENOSPC, not EIO
                return;
            }
        }
        startWrite();
    }

    private void startWrite() {
        start = pos = req.offset;
        end = Math.min(file.node.length(), req.offset + req.size); // clipped at EOF: a short write
        if (end <= start) {
            replyStatus(-ENOSPC);
            return;
        }
        stage = WRITING;
        prepData(BlockRequest.WRITE, DATA_OFF); // decode put the payload at READ_OFF + 80 = DATA_OFF
        submit();
    }

    // ---- SETATTR
    private void setattr() {
        int rc = file.checkSetattr(req);
        if (rc < 0) {
            replyStatus(rc);
            return;
        }
        if ((req.valid & FATTR_SIZE) != 0 && req.attrSize != file.node.length()) {
            stage = SETATTR_SIZE;
            file.control.resize(req.attrSize, false, this);
            return;
        }
        finishSetattr();
    }

    private void finishSetattr() {
        file.applySetattr(req);
        reply(file.encodeAttr(buf, OUT_HEADER_SIZE), 0);
    }

    // ---- FALLOCATE
    private void fallocate() {
        int mode = req.flags;
        if (!file.config.writable()) {
            replyStatus(-EACCES);
            return;
        }
        if ((mode & ~(FALLOC_KEEP_SIZE | FALLOC_PUNCH_HOLE | FALLOC_ZERO_RANGE)) != 0) {
            replyStatus(-ENOTSUP); // collapse, insert, unshare...
            return;
        }
        long length = file.node.length();
        long fend = req.offset + req.length;
        if ((mode & FALLOC_PUNCH_HOLE) != 0) {
            if ((mode & FALLOC_KEEP_SIZE) == 0 || (mode & FALLOC_ZERO_RANGE) != 0) {
                replyStatus(-EINVAL);
                return;
            }
            startZeroes(PUNCHING, req.offset, Math.min(fend, length));
        } else if ((mode & FALLOC_ZERO_RANGE) != 0) {
            if ((mode & FALLOC_KEEP_SIZE) == 0 && fend > length) {
                stage = GROW_ZERO; // as QEMU: a writable export may grow by zero-range
                file.control.resize(fend, true, this);
                return;
            }
            startZeroes(ZEROING, req.offset, Math.min(fend, length));
        } else if (mode != 0 || req.offset < length) {
            replyStatus(-ENOTSUP); // as QEMU: allocation only by growing the node at its end
        } else if (file.config.growable()) {
            stage = GROW_ALLOC;
            file.control.resize(fend, true, this);
        } else {
            replyStatus(-ENOTSUP);
        }
    }

    private void startZeroes(int st, long from, long to) {
        if (to <= from) {
            replyStatus(0);
            return;
        }
        stage = st;
        start = pos = from;
        end = to;
        prepZeroes();
        submit();
    }

    private void prepZeroes() {
        int flags = stage == PUNCHING ? BlockRequest.MAY_UNMAP | BlockRequest.NO_FALLBACK : 0;
        br.noData(BlockRequest.WRITE_ZEROES, pos, Math.min(end - pos, MAX_NODATA), flags);
    }

    // ---- LSEEK
    private void lseek() {
        int whence = req.flags;
        if (whence != SEEK_DATA && whence != SEEK_HOLE) {
            replyStatus(-EINVAL);
            return;
        }
        long length = file.node.length();
        if (req.offset < 0 || req.offset >= length) {
            replyStatus(-ENXIO);
            return;
        }
        stage = SEEKING;
        start = pos = req.offset;
        end = length;
        br.noData(BlockRequest.BLOCK_STATUS, pos, Math.min(end - pos, MAX_NODATA), 0);
        submit();
    }

    // =====================================================================================================
    // block requests: submit with a trampoline, advance per result

    private void submit() {
        while (true) {
            inSubmit = true;
            syncDone = false;
            try {
                file.node.submit(br);
            } finally {
                inSubmit = false;
            }
            if (!syncDone || !advance(syncResult)) {
                return;
            }
        }
    }

    @Override
    public void done(BlockRequest request, int result) {
        if (inSubmit) {
            syncDone = true;
            syncResult = result;
            return;
        }
        try {
            if (advance(result)) {
                submit();
            }
        } catch (RuntimeException | Error e) {
            failed(e);
        }
    }

    /** Takes a block result; returns true when {@link #br} holds the next request to submit. */
    private boolean advance(int res) {
        switch (stage) {
            case READING, WRITING -> {
                if (res < 0) {
                    replyStatus(res);
                    return false;
                }
                pos += br.length;
                if (pos < end) {
                    prepData(stage == READING ? BlockRequest.READ : BlockRequest.WRITE, DATA_OFF);
                    return true;
                }
                int n = (int) (end - start);
                if (stage == READING) {
                    reply(0, n);
                } else {
                    file.noteModified();
                    reply(FuseReplies.writeOut(buf, OUT_HEADER_SIZE, n), 0);
                }
                return false;
            }
            case FLUSHING -> {
                replyStatus(Math.min(res, 0));
                return false;
            }
            case PUNCHING, ZEROING -> {
                // a punch the node cannot do without writing zeroes fails with EOPNOTSUPP (= ENOTSUP), as QEMU;
                // never a discard, whose bytes need not read as zeroes afterwards
                if (res < 0) {
                    replyStatus(res);
                    return false;
                }
                pos += br.length;
                if (pos < end) {
                    prepZeroes();
                    return true;
                }
                file.noteModified();
                replyStatus(0);
                return false;
            }
            case SEEKING -> {
                if (res == -ENOTSUP) {
                    // a node without block status: all data, and the hole at EOF
                    reply(FuseReplies.lseekOut(buf, OUT_HEADER_SIZE, req.flags == SEEK_DATA ? pos : end), 0);
                    return false;
                }
                if (res < 0) {
                    replyStatus(res);
                    return false;
                }
                long n = br.statusLength;
                if (n <= 0 || n > br.length) {
                    replyStatus(-EIO);
                    return false;
                }
                boolean data = (br.statusFlags & BlockRequest.STATUS_DATA) != 0;
                if (data == (req.flags == SEEK_DATA)) {
                    reply(FuseReplies.lseekOut(buf, OUT_HEADER_SIZE, pos), 0);
                    return false;
                }
                pos += n;
                if (pos >= end) {
                    if (req.flags == SEEK_DATA) {
                        replyStatus(-ENXIO);
                    } else {
                        reply(FuseReplies.lseekOut(buf, OUT_HEADER_SIZE, end), 0); // the hole at EOF
                    }
                    return false;
                }
                br.noData(BlockRequest.BLOCK_STATUS, pos, Math.min(end - pos, MAX_NODATA), 0);
                return true;
            }
            default -> {
                replyStatus(-EIO);
                return false;
            }
        }
    }

    @Override
    public void resized(int res) {
        switch (stage) {
            case GROW_WRITE -> {
                if (res < 0) {
                    replyStatus(res == -ENOTSUP ? -ENOSPC : res);
                } else {
                    startWrite();
                }
            }
            case SETATTR_SIZE -> {
                if (res < 0) {
                    replyStatus(res);
                } else {
                    finishSetattr();
                }
            }
            case GROW_ZERO -> {
                if (res < 0) {
                    replyStatus(res);
                } else {
                    startZeroes(ZEROING, req.offset, Math.min(req.offset + req.length, file.node.length()));
                }
            }
            case GROW_ALLOC -> replyStatus(res < 0 ? (res == -ENOTSUP ? -ENOSPC : res) : 0);
            default -> replyStatus(-EIO);
        }
    }

    // =====================================================================================================
    // replies

    /** A reply without arguments: 0 for success, or -errno. */
    private void replyStatus(int error) {
        FuseReplies.outHeader(buf, 0, OUT_HEADER_SIZE, error, req.unique);
        send(OUT_HEADER_SIZE, 0);
    }

    /** A successful reply with {@code argLen} bytes of arguments after the header and {@code dataLen} bytes of
     *  data at {@link #DATA_OFF}. */
    private void reply(int argLen, int dataLen) {
        FuseReplies.outHeader(buf, 0, OUT_HEADER_SIZE + argLen + dataLen, 0, req.unique);
        send(OUT_HEADER_SIZE + argLen, dataLen);
    }

    private void send(int headLen, int dataLen) {
        stage = NONE;
        replied = true;
        iovs.set(JAVA_LONG, 0, base);
        iovs.set(JAVA_LONG, 8, headLen);
        int n = 1;
        if (dataLen > 0) {
            iovs.set(JAVA_LONG, 16, base + DATA_OFF);
            iovs.set(JAVA_LONG, 24, dataLen);
            n = 2;
        }
        q.io.writev(q.fd, iovs, n, 0, this, TAG_REPLY);
    }

    /** The kernel's unique of the request being served (for tests and logs). */
    long unique() {
        return req.unique;
    }
}
