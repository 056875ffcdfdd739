package io.isthmus.engine.export.nbd;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.block.BlockRequest;
import io.isthmus.engine.export.ExportRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * One request in flight on an {@link NbdConnection}: its decoded header, its block request, its data buffer
 * (the read target that is sent, or the received payload that is written) and its reply (headers in a small
 * native area, sent with the data as iovec segments). Preallocated per connection and reused: no allocation per
 * request on the success path.
 *
 * <p>Thread use: the connection's IoThread. Memory: the header area and the retained data buffer come from the
 * connection's arena; a request larger than {@link #RETAIN} gets a temporary confined arena freed when the
 * slot is released. Block results are {@code >= 0} or {@code -errno}.
 */
final class NbdSlot extends ExportRequest {
    static final int RETAIN = 1024 * 1024;
    private static final int HDR_SIZE = 1024;
    private static final int MAX_CHUNKS = 16;
    private static final int MAX_SEGS = 2 * MAX_CHUNKS + 2;
    private static final int MAX_MSG = 200;

    // ---- stages
    private static final int IDLE = 0, READ_FLUSH = 1, READ_ALL = 2, SPARSE_STATUS = 3, SPARSE_READ = 4,
            WRITE = 5, ZEROES = 6, TRIM = 7, TRIM_FLUSH = 8, FLUSH = 9, CACHE = 10, STATUS_CTX = 11;

    private static final byte[] MSG_READ = bytes("reading from file failed");
    private static final byte[] MSG_WRITE = bytes("writing to file failed");
    private static final byte[] MSG_FLUSH = bytes("flush failed");
    private static final byte[] MSG_DISCARD = bytes("discard failed");
    private static final byte[] MSG_CACHE = bytes("caching data failed");
    private static final byte[] MSG_STATUS = bytes("can't get block status");

    final NbdConnection conn;
    final int index;
    private final Arena connArena;
    final BlockRequest br;
    private final MemorySegment hdr;
    MemorySegment buf = MemorySegment.NULL;
    private long bufCap;
    private MemorySegment retained = MemorySegment.NULL;
    private Arena tempArena;

    final long[] segAddr = new long[MAX_SEGS];
    final long[] segLen = new long[MAX_SEGS];
    int segCount;
    private int hdrPos;

    // ---- the request
    private final NbdRequest r = new NbdRequest();
    long expectedPayload;
    long payloadLength;
    private long effect;
    private int stage;
    private long progress;
    private int chunks;
    private boolean lastChunkFinal;
    private long pieceLength;

    // ---- block status
    private final int[] ctxIds;
    private int ctxCount, ctxIndex;
    private long ctxPos, ctxEnd;
    private int chunkStart, extentCount, maxExtents;
    private long lastFlags = -1;

    NbdSlot(NbdConnection conn, int index, Arena arena) {
        this.conn = conn;
        this.index = index;
        this.connArena = arena;
        this.br = new BlockRequest(arena, 1);
        this.br.callback = this;
        this.hdr = arena.allocate(HDR_SIZE, 8);
        this.ctxIds = new int[2 + conn.exp.bitmapNames().size()];
    }

    // =====================================================================================================
    // buffers

    void ensureCapacity(long n) {
        ensureCapacity(n, false);
    }

    private void ensureCapacity(long n, boolean preserve) {
        if (n > bufCap) {
            grow(n, preserve); // out of line: the per-request check stays small for the JIT
        }
    }

    private void grow(long n, boolean preserve) {
        MemorySegment nb;
        if (n <= RETAIN) {
            long cap = Math.min(RETAIN, Math.max(n, Math.max(4096, bufCap * 2)));
            nb = connArena.allocate(cap, 4096);
            if (preserve && bufCap > 0) {
                MemorySegment.copy(buf, 0, nb, 0, bufCap);
            }
            retained = nb;
            buf = nb;
            bufCap = cap;
            return;
        }
        Arena old = tempArena;
        Arena a = Arena.ofConfined();
        nb = a.allocate(n, 4096);
        if (preserve && bufCap > 0) {
            MemorySegment.copy(buf, 0, nb, 0, bufCap);
        }
        tempArena = a;
        buf = nb;
        bufCap = n;
        if (old != null) {
            old.close();
        }
    }

    private void releaseTemp() {
        if (tempArena != null) {
            tempArena.close();
            tempArena = null;
            buf = retained;
            bufCap = retained.byteSize();
        }
    }

    /** Connection teardown. */
    void free() {
        releaseTemp();
    }

    // =====================================================================================================
    // lifecycle

    void begin(NbdRequest from) {
        r.flags = from.flags;
        r.type = from.type;
        r.cookie = from.cookie;
        r.offset = from.offset;
        r.length = from.length;
        expectedPayload = from.payloadLength(conn.extended);
        payloadLength = 0;
        segCount = 0;
        hdrPos = 0;
        stage = IDLE;
    }

    /** The request failed before running (e.g. an oversized payload): reply with the error. */
    void failEarly(int negErrno, String msg) {
        genericReply(negErrno, bytes(msg));
    }

    /** The payload (if any) is in {@link #buf}: check and start the request. */
    void run() {
        effect = r.length;
        boolean payloadFlag = conn.extended && (r.flags & Nbd.CMD_FLAG_PAYLOAD_LEN) != 0;
        ctxCount = 0;
        if (r.type == Nbd.CMD_BLOCK_STATUS) {
            if (payloadFlag) {
                effect = parseStatusPayload();
            } else {
                defaultContexts();
            }
        } else if (payloadFlag && r.type != Nbd.CMD_WRITE) {
            effect = 0; // payload already dropped; the flag check below refuses the request
        }
        int err = r.check(effect, conn.size, conn.exportFlags, conn.structured, conn.extended);
        if (err < 0) {
            // QEMU (nbd_trip) sends every request-check failure as EINVAL, whatever the check returned
            genericReply(-Errno.EINVAL, bytes(r.error));
            return;
        }
        switch (r.type) {
            case Nbd.CMD_READ -> {
                if ((r.flags & Nbd.CMD_FLAG_FUA) != 0) {
                    stage = READ_FLUSH;
                    submit(BlockRequest.FLUSH, 0, 0, 0);
                } else {
                    startRead();
                }
            }
            case Nbd.CMD_WRITE -> {
                stage = WRITE;
                int f = (r.flags & Nbd.CMD_FLAG_FUA) != 0 ? BlockRequest.FUA : 0; // writethrough: the block user
                submitData(BlockRequest.WRITE, r.offset, 0, r.length, f);
            }
            case Nbd.CMD_WRITE_ZEROES -> {
                stage = ZEROES;
                int f = 0;
                if ((r.flags & Nbd.CMD_FLAG_FUA) != 0) {
                    f |= BlockRequest.FUA;
                }
                if ((r.flags & Nbd.CMD_FLAG_NO_HOLE) == 0) {
                    f |= BlockRequest.MAY_UNMAP;
                }
                if ((r.flags & Nbd.CMD_FLAG_FAST_ZERO) != 0) {
                    f |= BlockRequest.NO_FALLBACK;
                }
                submit(BlockRequest.WRITE_ZEROES, r.offset, r.length, f);
            }
            case Nbd.CMD_TRIM -> {
                stage = TRIM;
                submit(BlockRequest.DISCARD, r.offset, r.length, 0);
            }
            case Nbd.CMD_FLUSH -> {
                stage = FLUSH;
                submit(BlockRequest.FLUSH, 0, 0, 0);
            }
            case Nbd.CMD_CACHE -> {
                stage = CACHE;
                progress = 0;
                if (r.length == 0) {
                    genericReply(0, null);
                } else {
                    cacheNext();
                }
            }
            case Nbd.CMD_BLOCK_STATUS -> startBlockStatus();
            default -> genericReply(-Errno.EINVAL, bytes("invalid request type (" + r.type + ") received"));
        }
    }

    private void submit(int op, long offset, long length, int flags) {
        br.noData(op, offset, length, flags);
        submitReq();
    }

    private void submitReq() {
        submit(conn.node, br); // the re-entry guard of ExportRequest: inline completions come after it returns
    }

    private void submitData(int op, long offset, long bufOffset, long length, int flags) {
        br.op = op;
        br.flags = flags;
        br.offset = offset;
        br.length = length;
        br.setIov(0, buf.address() + bufOffset, length);
        br.iovCount = 1;
        submitReq();
    }

    @Override
    protected void completed(int res) {
        if (conn.closing()) {
            drop();
            return;
        }
        switch (stage) {
            case READ_FLUSH -> {
                if (res < 0) {
                    genericReply(res, MSG_FLUSH);
                } else {
                    startRead();
                }
            }
            case READ_ALL -> {
                if (res < 0) {
                    genericReply(res, MSG_READ);
                } else if (conn.structured) {
                    addDataChunk(true, r.offset, 0, r.length);
                    conn.queueReply(this);
                } else {
                    hdrPos += NbdReplies.simple(hdr, hdrPos, 0, r.cookie);
                    addSeg(hdr.address(), Nbd.SIMPLE_REPLY_SIZE);
                    addSeg(buf.address(), r.length);
                    conn.queueReply(this);
                }
            }
            case SPARSE_STATUS -> onSparseStatus(res);
            case SPARSE_READ -> onSparseRead(res);
            case WRITE, ZEROES -> genericReply(res, MSG_WRITE);
            case TRIM -> {
                if (res >= 0 && (r.flags & Nbd.CMD_FLAG_FUA) != 0) {
                    stage = TRIM_FLUSH;
                    submit(BlockRequest.FLUSH, 0, 0, 0);
                } else {
                    genericReply(res, MSG_DISCARD);
                }
            }
            case TRIM_FLUSH -> genericReply(res, MSG_DISCARD);
            case FLUSH -> genericReply(res, MSG_FLUSH);
            case CACHE -> {
                if (res < 0) {
                    genericReply(res, MSG_CACHE);
                    return;
                }
                progress += pieceLength;
                if (progress >= r.length) {
                    genericReply(0, null);
                } else {
                    cacheNext();
                }
            }
            case STATUS_CTX -> onContextStatus(res);
            default -> drop();
        }
    }

    // =====================================================================================================
    // reads

    private void startRead() {
        if (conn.structured && (r.flags & Nbd.CMD_FLAG_DF) == 0 && r.length > 0) {
            ensureCapacity(r.length);
            progress = 0;
            chunks = 0;
            stage = SPARSE_STATUS;
            submit(BlockRequest.BLOCK_STATUS, r.offset, r.length, 0);
            return;
        }
        if (r.length == 0) {
            if (conn.structured) {
                hdrPos += NbdReplies.done(hdr, hdrPos, conn.extended, r.cookie, r.offset);
                addSeg(hdr.address(), hdrPos);
            } else {
                hdrPos += NbdReplies.simple(hdr, 0, 0, r.cookie);
                addSeg(hdr.address(), hdrPos);
            }
            conn.queueReply(this);
            return;
        }
        ensureCapacity(r.length);
        stage = READ_ALL;
        submitData(BlockRequest.READ, r.offset, 0, r.length, 0);
    }

    private void onSparseStatus(int res) {
        if (res < 0) {
            addErrorChunk(res, bytes("unable to check for holes: " + Errno.message(res)));
            conn.queueReply(this);
            return;
        }
        long remaining = r.length - progress;
        long pnum = br.statusLength;
        if (pnum <= 0 || pnum > remaining) {
            pnum = remaining;
        }
        if (chunks >= MAX_CHUNKS - 1) {
            pnum = remaining; // out of chunk headers: the rest goes as data
            readPiece(pnum);
            return;
        }
        if ((br.statusFlags & BlockRequest.STATUS_ZERO) != 0 && chunks < MAX_CHUNKS - 1) {
            boolean fin = progress + pnum == r.length;
            int start = hdrPos;
            hdrPos += NbdReplies.holeChunk(hdr, hdrPos, conn.extended, fin, r.cookie, r.offset, r.offset + progress,
                    (int) pnum);
            addSeg(hdr.address() + start, hdrPos - start);
            chunks++;
            progress += pnum;
            if (fin) {
                conn.queueReply(this);
            } else {
                submit(BlockRequest.BLOCK_STATUS, r.offset + progress, r.length - progress, 0);
            }
            return;
        }
        readPiece(pnum);
    }

    private void readPiece(long pnum) {
        pieceLength = pnum;
        stage = SPARSE_READ;
        submitData(BlockRequest.READ, r.offset + progress, progress, pnum, 0);
    }

    private void onSparseRead(int res) {
        if (res < 0) {
            addErrorChunk(res, MSG_READ);
            conn.queueReply(this);
            return;
        }
        boolean fin = progress + pieceLength == r.length;
        addDataChunk(fin, r.offset + progress, progress, pieceLength);
        chunks++;
        progress += pieceLength;
        if (fin) {
            conn.queueReply(this);
        } else {
            stage = SPARSE_STATUS;
            submit(BlockRequest.BLOCK_STATUS, r.offset + progress, r.length - progress, 0);
        }
    }

    private void cacheNext() {
        long piece = Math.min(r.length - progress, RETAIN);
        ensureCapacity(piece);
        pieceLength = piece;
        submitData(BlockRequest.READ, r.offset + progress, 0, piece, 0);
    }

    // =====================================================================================================
    // block status

    private void defaultContexts() {
        NbdMetaContexts c = conn.contexts;
        ctxCount = 0;
        if (c.count == 0 || c.export != conn.exp) {
            return;
        }
        if (c.baseAllocation) {
            ctxIds[ctxCount++] = Nbd.META_ID_BASE_ALLOCATION;
        }
        if (c.allocationDepth) {
            ctxIds[ctxCount++] = Nbd.META_ID_ALLOCATION_DEPTH;
        }
        for (int i = 0; i < c.bitmaps.length; i++) {
            if (c.bitmaps[i]) {
                ctxIds[ctxCount++] = Nbd.META_ID_DIRTY_BITMAP + i;
            }
        }
    }

    /** Extended headers, PAYLOAD_LEN: effect length and a subset of context ids (QEMU's checks). */
    private long parseStatusPayload() {
        long len = payloadLength;
        int negotiated = conn.contexts.export == conn.exp ? conn.contexts.count : 0;
        ctxCount = 0;
        if (len % 4 != 0 || len < 8 || len > 8 + 4L * negotiated) {
            return 0;
        }
        long eff = buf.get(Nbd.BE_LONG, 0);
        int n = (int) ((len - 8) / 4);
        int nBitmaps = conn.exp.bitmapNames().size();
        for (int i = 0; i < n; i++) {
            int id = buf.get(Nbd.BE_INT, 8 + 4L * i);
            boolean known = id == Nbd.META_ID_BASE_ALLOCATION || id == Nbd.META_ID_ALLOCATION_DEPTH
                    || (id >= Nbd.META_ID_DIRTY_BITMAP && id - Nbd.META_ID_DIRTY_BITMAP < nBitmaps);
            boolean dup = false;
            for (int k = 0; k < ctxCount; k++) {
                dup |= ctxIds[k] == id;
            }
            if (!known || dup || !conn.contexts.isSelected(id)) {
                ctxCount = 0;
                return 0;
            }
            ctxIds[ctxCount++] = id;
        }
        // QEMU answers in its fixed context order, not the client's
        java.util.Arrays.sort(ctxIds, 0, ctxCount);
        return eff;
    }

    private void startBlockStatus() {
        if (effect == 0) {
            genericReply(-Errno.EINVAL, bytes("need non-zero length"));
            return;
        }
        if (ctxCount == 0) {
            genericReply(-Errno.EINVAL, bytes("CMD_BLOCK_STATUS not negotiated"));
            return;
        }
        ctxIndex = 0;
        progress = 0; // bytes of buf used by finished context chunks
        maxExtents = (r.flags & Nbd.CMD_FLAG_REQ_ONE) != 0 ? 1 : Nbd.MAX_BLOCK_STATUS_EXTENTS;
        ensureCapacity(4096);
        startContext();
    }

    private int chunkHeaderSize() {
        return (conn.extended ? Nbd.EXTENDED_REPLY_SIZE + 8 : Nbd.STRUCTURED_REPLY_SIZE + 4);
    }

    private void startContext() {
        chunkStart = (int) progress;
        extentCount = 0;
        lastFlags = -1;
        ctxPos = r.offset;
        ctxEnd = r.offset + effect;
        int id = ctxIds[ctxIndex];
        if (id >= Nbd.META_ID_DIRTY_BITMAP) {
            NbdBitmap bm = conn.exp.bitmap(id - Nbd.META_ID_DIRTY_BITMAP);
            while (ctxPos < ctxEnd) {
                long end = bm.runEnd(ctxPos, ctxEnd);
                if (end <= ctxPos) {
                    end = ctxEnd;
                }
                int flags = bm.isDirty(ctxPos) ? Nbd.STATE_DIRTY : 0;
                if (!addExtent(end - ctxPos, flags)) {
                    break;
                }
                ctxPos = end;
            }
            finishContext();
            return;
        }
        stage = STATUS_CTX;
        submitStatus();
    }

    private void submitStatus() {
        int f = ctxIds[ctxIndex] == Nbd.META_ID_ALLOCATION_DEPTH ? BlockRequest.WANT_DEPTH : 0;
        submit(BlockRequest.BLOCK_STATUS, ctxPos, ctxEnd - ctxPos, f);
    }

    private void onContextStatus(int res) {
        if (res < 0) {
            // previous contexts' chunks stay; the error chunk ends the reply
            if (progress > 0) {
                addSeg(buf.address(), progress);
            }
            addErrorChunk(res, MSG_STATUS);
            conn.queueReply(this);
            return;
        }
        long len = br.statusLength;
        if (len <= 0 || len > ctxEnd - ctxPos) {
            len = ctxEnd - ctxPos;
        }
        int flags;
        if (ctxIds[ctxIndex] == Nbd.META_ID_BASE_ALLOCATION) {
            int s = br.statusFlags;
            flags = ((s & BlockRequest.STATUS_DATA) != 0 ? 0 : Nbd.STATE_HOLE)
                    | ((s & BlockRequest.STATUS_ZERO) != 0 ? Nbd.STATE_ZERO : 0);
        } else {
            flags = br.statusDepth;
        }
        if (addExtent(len, flags)) {
            ctxPos += len;
            if (ctxPos < ctxEnd) {
                submitStatus();
                return;
            }
        }
        finishContext();
    }

    /** Adds (or merges) an extent to the current context's chunk; false when the chunk is full. */
    private boolean addExtent(long len, int flags) {
        int es = conn.extended ? 16 : 8;
        long base = chunkStart + chunkHeaderSize();
        if (extentCount > 0 && flags == lastFlags) {
            long at = base + (long) (extentCount - 1) * es;
            if (conn.extended) {
                buf.set(Nbd.BE_LONG, at, buf.get(Nbd.BE_LONG, at) + len);
                return true;
            }
            long sum = (buf.get(Nbd.BE_INT, at) & 0xFFFFFFFFL) + len;
            if (sum <= 0xFFFFFFFFL) {
                buf.set(Nbd.BE_INT, at, (int) sum);
                return true;
            }
        }
        if (extentCount >= maxExtents) {
            return false;
        }
        long at = base + (long) extentCount * es;
        ensureCapacity(at + es, true);
        if (conn.extended) {
            buf.set(Nbd.BE_LONG, at, len);
            buf.set(Nbd.BE_LONG, at + 8, flags & 0xFFFFFFFFL);
        } else {
            buf.set(Nbd.BE_INT, at, (int) len);
            buf.set(Nbd.BE_INT, at + 4, flags);
        }
        extentCount++;
        lastFlags = flags;
        return true;
    }

    private void finishContext() {
        boolean last = ctxIndex == ctxCount - 1;
        int id = ctxIds[ctxIndex];
        int es = conn.extended ? 16 : 8;
        ensureCapacity(chunkStart + chunkHeaderSize(), true);
        long payload = (conn.extended ? 8 : 4) + (long) extentCount * es;
        int n = NbdReplies.chunk(buf, chunkStart, conn.extended, last ? Nbd.REPLY_FLAG_DONE : 0,
                conn.extended ? Nbd.REPLY_TYPE_BLOCK_STATUS_EXT : Nbd.REPLY_TYPE_BLOCK_STATUS, r.cookie, r.offset,
                payload);
        buf.set(Nbd.BE_INT, chunkStart + n, id);
        if (conn.extended) {
            buf.set(Nbd.BE_INT, chunkStart + n + 4, extentCount);
        }
        progress = chunkStart + n + payload;
        if (last) {
            addSeg(buf.address(), progress);
            conn.queueReply(this);
            return;
        }
        ctxIndex++;
        startContext();
    }

    // =====================================================================================================
    // replies

    private void addSeg(long address, long length) {
        segAddr[segCount] = address;
        segLen[segCount] = length;
        segCount++;
    }

    private void addDataChunk(boolean fin, long dataOffset, long bufOffset, long length) {
        int start = hdrPos;
        hdrPos += NbdReplies.dataChunk(hdr, hdrPos, conn.extended, fin, r.cookie, r.offset, dataOffset, length);
        addSeg(hdr.address() + start, hdrPos - start);
        addSeg(buf.address() + bufOffset, length);
    }

    private void addErrorChunk(int negErrno, byte[] msg) {
        int start = hdrPos;
        byte[] m = msg.length > MAX_MSG ? java.util.Arrays.copyOf(msg, MAX_MSG) : msg;
        hdrPos += NbdReplies.errorChunk(hdr, hdrPos, conn.extended, r.cookie, r.offset,
                Nbd.errnoToNbd(-negErrno), m);
        addSeg(hdr.address() + start, hdrPos - start);
    }

    /**
     * QEMU's nbd_send_generic_reply: an error goes as a structured error chunk with its message when
     * structured replies are on, else as a simple reply; success is a simple reply (an extended NONE chunk
     * under extended headers).
     */
    private void genericReply(int res, byte[] msg) {
        segCount = 0;
        hdrPos = 0;
        if (res < 0 && conn.structured) {
            addErrorChunk(res, msg);
        } else if (conn.extended) {
            hdrPos = NbdReplies.done(hdr, 0, true, r.cookie, r.offset);
            addSeg(hdr.address(), hdrPos);
        } else {
            hdrPos = NbdReplies.simple(hdr, 0, res < 0 ? Nbd.errnoToNbd(-res) : 0, r.cookie);
            addSeg(hdr.address(), hdrPos);
        }
        conn.queueReply(this);
    }

    long replyBytes() {
        long t = 0;
        for (int i = 0; i < segCount; i++) {
            t += segLen[i];
        }
        return t;
    }

    void replySent() {
        finish();
    }

    void replyDropped() {
        finish();
    }

    /** The connection is closing: the request ends without a reply. */
    void drop() {
        finish();
    }

    private void finish() {
        stage = IDLE;
        releaseTemp();
        conn.releaseSlot(this);
    }

    private static byte[] bytes(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }
}
