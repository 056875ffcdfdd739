package io.isthmus.engine.block;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.EngineException;

/** {@code qcow2} (work in progress: the API is final, the driver lands next). */
public final class Qcow2Node extends BlockNode {
    private Qcow2Node(String nodeName, BlockOptions o) {
        super(nodeName, "qcow2", o);
    }

    static Qcow2Node open(String nodeName, BlockOptions o) throws EngineException {
        throw new EngineException("qcow2 is not implemented yet");
    }

    /** Bytes per cluster. */
    public int clusterSize() { return 65536; }
    /** "0.10" for a version 2 image, "1.1" for version 3 (ImageInfoSpecificQCow2.compat). */
    public String compat() { return "1.1"; }
    public boolean lazyRefcounts() { return false; }
    public int refcountBits() { return 16; }
    public boolean corrupt() { return false; }
    public boolean extendedL2() { return false; }
    /** "zlib" or "zstd". */
    public String compressionType() { return "zlib"; }
    /** The dirty bit of the header (incompatible feature bit 0). */
    public boolean dirtyFlag() { return false; }
    /** The backing file name as the header stores it, or null. */
    public String backingFilename() { return null; }
    /** The backing file name resolved against the image's directory (QEMU's full-backing-filename), or null. */
    public String fullBackingFilename() { return null; }
    /** The backing format from the header extension, or null. */
    public String backingFormat() { return null; }
    /** The backing child, or null. */
    public BlockNode backing() { return null; }
    /** The file child. */
    public BlockNode file() { return null; }

    @Override public long length() { return 0; }
    @Override public String filename() { return ""; }
    @Override String jsonOptions() { return "{}"; }
    @Override public boolean hasImageInfo() { return true; }
    @Override protected void doRead(BlockRequest req) { complete(req, -Errno.EIO); }
    @Override protected void doWrite(BlockRequest req) { complete(req, -Errno.EIO); }
    @Override protected void doWriteZeroes(BlockRequest req) { complete(req, -Errno.EIO); }
    @Override protected void doDiscard(BlockRequest req) { complete(req, -Errno.EIO); }
    @Override protected void doFlush(BlockRequest req) { complete(req, -Errno.EIO); }
    @Override protected void doBlockStatus(BlockRequest req) { complete(req, -Errno.EIO); }
}
