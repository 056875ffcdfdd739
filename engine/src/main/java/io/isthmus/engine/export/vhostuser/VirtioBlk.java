package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.VhostUser.bit;

/**
 * virtio-blk constants (virtio 1.x section 5.2, linux/virtio_blk.h) and the feature set this export offers, as
 * QEMU's vhost-user-blk server does ({@code vu_blk_get_features}). No logic beyond that.
 */
public final class VirtioBlk {
    private VirtioBlk() {}

    // ---- feature bits
    public static final int F_SIZE_MAX = 1, F_SEG_MAX = 2, F_GEOMETRY = 4, F_RO = 5, F_BLK_SIZE = 6, F_FLUSH = 9,
            F_TOPOLOGY = 10, F_CONFIG_WCE = 11, F_MQ = 12, F_DISCARD = 13, F_WRITE_ZEROES = 14, F_LIFETIME = 15,
            F_SECURE_ERASE = 16, F_ZONED = 17;

    // ---- request types (the u32 at the start of the request header)
    public static final int T_IN = 0, T_OUT = 1, T_SCSI_CMD = 2, T_FLUSH = 4, T_GET_ID = 8, T_GET_LIFETIME = 10,
            T_DISCARD = 11, T_WRITE_ZEROES = 13, T_SECURE_ERASE = 14;
    /** A legacy flag QEMU masks off the type. */
    public static final int T_BARRIER = 0x80000000;

    // ---- status byte (the last byte of the device-writable area)
    public static final byte S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;

    /** DISCARD / WRITE_ZEROES segment flags. */
    public static final int WRITE_ZEROES_FLAG_UNMAP = 1;

    public static final int SECTOR_BITS = 9;
    public static final int SECTOR_SIZE = 1 << SECTOR_BITS;
    /** Request header: type u32, reserved (ioprio) u32, sector u64. */
    public static final int OUTHDR_SIZE = 16;
    /** A DISCARD / WRITE_ZEROES segment: sector u64, num_sectors u32, flags u32. */
    public static final int DISCARD_SEGMENT_SIZE = 16;
    /** GET_ID answers at most this many bytes. */
    public static final int ID_BYTES = 20;
    /** The serial QEMU's vhost-user-blk export reports. */
    public static final String SERIAL = "vhost_user_blk";

    /** QEMU's VIRTIO_BLK_MAX_DISCARD_SECTORS and VIRTIO_BLK_MAX_WRITE_ZEROES_SECTORS (16 MiB). */
    public static final int MAX_DISCARD_SECTORS = 32768, MAX_WRITE_ZEROES_SECTORS = 32768;
    /** QEMU's BDRV_REQUEST_MAX_SECTORS: INT_MAX >> 9. */
    public static final long REQUEST_MAX_SECTORS = Integer.MAX_VALUE >> SECTOR_BITS;
    /** seg_max in the config space: 128 minus the header and status descriptors. */
    public static final int SEG_MAX = 128 - 2;

    /**
     * The features offered (without VHOST_USER_F_PROTOCOL_FEATURES, which the session adds): QEMU 7.2's set,
     * RO for a read-only export, and RING_PACKED when packed rings are served.
     */
    public static long features(boolean writable, boolean packed) {
        long f = bit(F_SIZE_MAX) | bit(F_SEG_MAX) | bit(F_TOPOLOGY) | bit(F_BLK_SIZE) | bit(F_FLUSH) | bit(F_DISCARD)
                | bit(F_WRITE_ZEROES) | bit(F_CONFIG_WCE) | bit(F_MQ) | bit(VhostUser.F_VERSION_1)
                | bit(VhostUser.F_RING_INDIRECT_DESC) | bit(VhostUser.F_RING_EVENT_IDX);
        if (!writable) {
            f |= bit(F_RO);
        }
        if (packed) {
            f |= bit(VhostUser.F_RING_PACKED);
        }
        return f;
    }
}
