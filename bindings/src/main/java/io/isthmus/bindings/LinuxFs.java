package io.isthmus.bindings;

/**
 * {@code linux/fs.h}: ioctl request numbers of block devices and file systems (used with {@link SysIoctl}).
 * Values as the {@code _IO/_IOR/_IOW} macros compute them on x86-64; checked by the layout probe.
 */
public final class LinuxFs {
    private LinuxFs() {}

    /** _IO(0x12,94): int* read-only flag. */
    public static final long BLKROGET = 0x125E;
    /** _IO(0x12,96): long* size in 512-byte sectors. */
    public static final long BLKGETSIZE = 0x1260;
    /** _IO(0x12,97): flush buffers. */
    public static final long BLKFLSBUF = 0x1261;
    /** _IO(0x12,104): int* logical sector size. */
    public static final long BLKSSZGET = 0x1268;
    /** _IOR(0x12,114,size_t): uint64_t* size in bytes. */
    public static final long BLKGETSIZE64 = 0x80081272L;
    /** _IO(0x12,119): uint64_t[2] {offset, length}. */
    public static final long BLKDISCARD = 0x1277;
    /** _IO(0x12,120): unsigned int* minimum I/O size. */
    public static final long BLKIOMIN = 0x1278;
    /** _IO(0x12,121): unsigned int* optimal I/O size. */
    public static final long BLKIOOPT = 0x1279;
    /** _IO(0x12,123): unsigned int* physical sector size. */
    public static final long BLKPBSZGET = 0x127B;
    /** _IO(0x12,124): unsigned int* whether discarded blocks read as zeroes. */
    public static final long BLKDISCARDZEROES = 0x127C;
    /** _IO(0x12,125): uint64_t[2] {offset, length}. */
    public static final long BLKSECDISCARD = 0x127D;
    /** _IO(0x12,127): uint64_t[2] {offset, length}. */
    public static final long BLKZEROOUT = 0x127F;
    /** _IOW(0x94,9,int): clone a whole file (reflink) from the fd argument. */
    public static final long FICLONE = 0x40049409L;
    /** _IOR('f',1,long): inode flags. */
    public static final long FS_IOC_GETFLAGS = 0x80086601L;
    /** _IOW('f',2,long): set inode flags. */
    public static final long FS_IOC_SETFLAGS = 0x40086602L;
}
