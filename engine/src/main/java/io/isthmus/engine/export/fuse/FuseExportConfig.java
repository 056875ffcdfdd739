package io.isthmus.engine.export.fuse;

/**
 * The serving core's settings, fixed for the life of an export. {@code allowOther} is what the mount ended up
 * with (after allow-other=auto's fallback), {@code maxIo} the largest READ/WRITE payload (the max_write offered
 * to the kernel and the max_read mount option), {@code slotsPerQueue} the requests one IoThread serves at once.
 * {@code uid}/{@code gid} own the file (the daemon's, as QEMU). {@code maxIo} must equal the mount's
 * {@link FuseMount.Options#maxRead}: a larger READ from the kernel is refused with EINVAL. Immutable; any thread.
 */
public record FuseExportConfig(boolean writable, boolean growable, boolean allowOther, int maxIo,
        int slotsPerQueue, int uid, int gid) {
    public static final int DEFAULT_MAX_IO = 1024 * 1024;
    public static final int DEFAULT_SLOTS = 32;

    public FuseExportConfig {
        if (maxIo < 4096 || maxIo % 4096 != 0 || maxIo > 64 * 1024 * 1024) {
            throw new IllegalArgumentException("maxIo must be a multiple of 4096 between 4 KiB and 64 MiB: " + maxIo);
        }
        if (slotsPerQueue < 1 || slotsPerQueue > 1024) {
            throw new IllegalArgumentException("slotsPerQueue must be 1..1024: " + slotsPerQueue);
        }
    }

    public static FuseExportConfig of(boolean writable, boolean growable, boolean allowOther) {
        return new FuseExportConfig(writable, growable, allowOther, DEFAULT_MAX_IO, DEFAULT_SLOTS,
                io.isthmus.bindings.Posix.getuid(), io.isthmus.bindings.Posix.getgid());
    }
}
