package io.isthmus.engine.block;

import io.isthmus.engine.EngineException;

/**
 * {@code raw}: the window [offset, offset + size) of its {@code file} child (all of it by default). Requests are
 * forwarded to the child with the offset shifted; nothing is copied. Without offset/size the child is a filtered
 * child (permissions pass through); with them it is a data child, whose resizing the raw node does not share.
 * Thread use as {@link BlockNode}.
 */
final class RawNode extends BlockNode {
    private final BlockNode file;
    private final long offset;
    private final boolean hasSize;
    private final long size;
    private final boolean window;
    private final boolean fileOwned;

    private RawNode(String nodeName, BlockOptions o, BlockNode file, boolean fileOwned) {
        super(nodeName, "raw", o);
        this.file = file;
        this.offset = o.offset == null ? 0 : o.offset;
        this.hasSize = o.size != null;
        this.size = hasSize ? o.size : 0;
        this.window = o.offset != null || o.size != null;
        this.fileOwned = fileOwned;
    }

    /** Opens a raw node over {@code file}, checking the window as QEMU's raw_apply_options does. */
    static RawNode open(String nodeName, BlockOptions o, BlockNode file, boolean fileOwned) throws EngineException {
        long real = file.length();
        long off = o.offset == null ? 0 : o.offset;
        if (off < 0) {
            throw new EngineException("Parameter 'offset' expects a non-negative number below 2^64");
        }
        if (o.size != null && o.size < 0) {
            throw new EngineException("Parameter 'size' expects a non-negative number below 2^64");
        }
        if (off > real) {
            throw new EngineException("Offset (" + off + ") cannot be greater than size of the containing file ("
                    + real + ")");
        }
        if (o.size != null && real - off < o.size) {
            throw new EngineException("The sum of offset (" + off + ") and size (" + o.size
                    + ") has to be smaller or equal to the  actual size of the containing file (" + real + ")");
        }
        if (o.size != null && (o.size & 511) != 0) {
            throw new EngineException("Specified size is not multiple of 512");
        }
        RawNode r = new RawNode(nodeName, o, file, fileOwned);
        r.addChild("file", file, fileOwned);
        return r;
    }

    BlockNode file() {
        return file;
    }

    @Override
    public long length() {
        if (hasSize) {
            return size;
        }
        return Math.max(0, file.length() - offset);
    }

    @Override
    public int requestAlignment() {
        return file.requestAlignment();
    }

    @Override
    public long maxTransfer() {
        return file.maxTransfer();
    }

    @Override
    public long actualSize() {
        return file.actualSize();
    }

    @Override
    public boolean hasImageInfo() {
        return file.hasImageInfo();
    }

    @Override
    public String filename() {
        if (!window && fileOwnedOrNamedPlain()) {
            return file.filename();
        }
        return "json:" + jsonOptions();
    }

    private boolean fileOwnedOrNamedPlain() {
        return !file.filename().startsWith("json:");
    }

    @Override
    String jsonOptions() {
        StringBuilder sb = new StringBuilder("{");
        if (window) {
            sb.append("\"offset\": ").append(offset).append(", ");
        }
        sb.append("\"driver\": \"raw\"");
        if (hasSize) {
            sb.append(", \"size\": ").append(size);
        }
        sb.append(", \"file\": ").append(file.jsonOptions());
        return sb.append('}').toString();
    }

    @Override
    int[] childPerm(BlockChild c, int perm, int shared) {
        int passthrough = BlockPerm.CONSISTENT_READ | BlockPerm.WRITE | BlockPerm.WRITE_UNCHANGED | BlockPerm.RESIZE;
        int p = perm & passthrough;
        int s = shared & BlockPerm.ALL;
        if (window) {
            s &= ~BlockPerm.RESIZE; // a data child: its size is part of what the window means
        }
        return new int[] {p, s};
    }

    @Override
    void truncate(long newSize) throws EngineException {
        if (hasSize) {
            throw new EngineException("Cannot resize fixed-size raw disks");
        }
        if (Long.MAX_VALUE - newSize < offset) {
            throw new EngineException("Disk size too large for the chosen offset");
        }
        file.truncate(newSize + offset);
    }

    @Override
    public boolean isReadOnly() {
        return super.isReadOnly();
    }

    @Override
    int readSync(long off, java.lang.foreign.MemorySegment dst) {
        long len = length();
        if (off >= len) {
            dst.fill((byte) 0);
            return 0;
        }
        long n = Math.min(dst.byteSize(), len - off);
        if (n < dst.byteSize()) {
            dst.asSlice(n).fill((byte) 0);
        }
        return file.readSync(off + offset, dst.asSlice(0, n));
    }

    @Override
    protected void doRead(BlockRequest req) {
        forward(req, file, req.offset + offset);
    }

    @Override
    protected void doWrite(BlockRequest req) {
        forward(req, file, req.offset + offset);
    }

    @Override
    protected void doWriteZeroes(BlockRequest req) {
        forward(req, file, req.offset + offset);
    }

    @Override
    protected void doDiscard(BlockRequest req) {
        forward(req, file, req.offset + offset);
    }

    @Override
    protected void doFlush(BlockRequest req) {
        forward(req, file, req.offset);
    }

    @Override
    protected void doBlockStatus(BlockRequest req) {
        forward(req, file, req.offset + offset);
    }

    boolean ownsFile() {
        return fileOwned;
    }
}
