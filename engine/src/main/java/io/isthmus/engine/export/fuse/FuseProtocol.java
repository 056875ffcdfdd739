package io.isthmus.engine.export.fuse;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The FUSE kernel protocol ({@code include/uapi/linux/fuse.h}, protocol 7.x) as far as the export speaks it:
 * opcodes, the sizes and field offsets of the request and reply structs, and the flag bits. Everything on
 * {@code /dev/fuse} is in the host's byte order, which on the machines Isthmus runs on is little-endian; the
 * layouts below say so explicitly. Pure constants: no state, any thread.
 */
public final class FuseProtocol {
    private FuseProtocol() {}

    public static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The protocol version this side implements (FUSE_KERNEL_VERSION.FUSE_KERNEL_MINOR_VERSION). */
    public static final int KERNEL_VERSION = 7, KERNEL_MINOR_VERSION = 38;

    // ---- opcodes (enum fuse_opcode)
    public static final int LOOKUP = 1, FORGET = 2, GETATTR = 3, SETATTR = 4, READLINK = 5, SYMLINK = 6,
            MKNOD = 8, MKDIR = 9, UNLINK = 10, RMDIR = 11, RENAME = 12, LINK = 13, OPEN = 14, READ = 15,
            WRITE = 16, STATFS = 17, RELEASE = 18, FSYNC = 20, SETXATTR = 21, GETXATTR = 22, LISTXATTR = 23,
            REMOVEXATTR = 24, FLUSH = 25, INIT = 26, OPENDIR = 27, READDIR = 28, RELEASEDIR = 29, FSYNCDIR = 30,
            GETLK = 31, SETLK = 32, SETLKW = 33, ACCESS = 34, CREATE = 35, INTERRUPT = 36, BMAP = 37,
            DESTROY = 38, IOCTL = 39, POLL = 40, NOTIFY_REPLY = 41, BATCH_FORGET = 42, FALLOCATE = 43,
            READDIRPLUS = 44, RENAME2 = 45, LSEEK = 46, COPY_FILE_RANGE = 47, SYNCFS = 50, STATX = 52;

    // ---- struct fuse_in_header (40 bytes)
    public static final int IN_HEADER_SIZE = 40;
    public static final long IH_LEN = 0, IH_OPCODE = 4, IH_UNIQUE = 8, IH_NODEID = 16, IH_UID = 24, IH_GID = 28,
            IH_PID = 32, IH_TOTAL_EXTLEN = 36;

    // ---- struct fuse_out_header (16 bytes)
    public static final int OUT_HEADER_SIZE = 16;
    public static final long OH_LEN = 0, OH_ERROR = 4, OH_UNIQUE = 8;

    // ---- request argument sizes (the body after fuse_in_header)
    public static final int INIT_IN_COMPAT_SIZE = 16, INIT_IN_SIZE = 64;
    public static final int GETATTR_IN_SIZE = 16, SETATTR_IN_SIZE = 88, OPEN_IN_SIZE = 8, READ_IN_SIZE = 40,
            WRITE_IN_SIZE = 40, RELEASE_IN_SIZE = 24, FLUSH_IN_SIZE = 24, FSYNC_IN_SIZE = 16,
            FALLOCATE_IN_SIZE = 32, LSEEK_IN_SIZE = 24, FORGET_IN_SIZE = 8, BATCH_FORGET_IN_SIZE = 8,
            FORGET_ONE_SIZE = 16, INTERRUPT_IN_SIZE = 8;

    // ---- reply sizes
    public static final int INIT_OUT_SIZE = 64, ATTR_SIZE = 88, ATTR_OUT_SIZE = 104, OPEN_OUT_SIZE = 16,
            WRITE_OUT_SIZE = 8, LSEEK_OUT_SIZE = 8, STATFS_OUT_SIZE = 80;

    /** The request buffer's minimum beyond the payload: in header + write_in (the kernel's own check). */
    public static final int WRITE_HEADER_ROOM = IN_HEADER_SIZE + WRITE_IN_SIZE;
    /** The kernel refuses reads from /dev/fuse into buffers smaller than this (FUSE_MIN_READ_BUFFER). */
    public static final int MIN_READ_BUFFER = 8192;

    // ---- INIT flags (fuse_init_in/out.flags; flags2 holds bits 32..63 with FUSE_INIT_EXT)
    public static final long ASYNC_READ = 1L << 0, POSIX_LOCKS = 1L << 1, FILE_OPS = 1L << 2,
            ATOMIC_O_TRUNC = 1L << 3, EXPORT_SUPPORT = 1L << 4, BIG_WRITES = 1L << 5, DONT_MASK = 1L << 6,
            SPLICE_WRITE = 1L << 7, SPLICE_MOVE = 1L << 8, SPLICE_READ = 1L << 9, FLOCK_LOCKS = 1L << 10,
            HAS_IOCTL_DIR = 1L << 11, AUTO_INVAL_DATA = 1L << 12, DO_READDIRPLUS = 1L << 13,
            READDIRPLUS_AUTO = 1L << 14, ASYNC_DIO = 1L << 15, WRITEBACK_CACHE = 1L << 16,
            NO_OPEN_SUPPORT = 1L << 17, PARALLEL_DIROPS = 1L << 18, HANDLE_KILLPRIV = 1L << 19,
            POSIX_ACL = 1L << 20, ABORT_ERROR = 1L << 21, MAX_PAGES = 1L << 22, CACHE_SYMLINKS = 1L << 23,
            NO_OPENDIR_SUPPORT = 1L << 24, EXPLICIT_INVAL_DATA = 1L << 25, MAP_ALIGNMENT = 1L << 26,
            SUBMOUNTS = 1L << 27, HANDLE_KILLPRIV_V2 = 1L << 28, SETXATTR_EXT = 1L << 29, INIT_EXT = 1L << 30,
            DIRECT_IO_ALLOW_MMAP = 1L << 36, PASSTHROUGH = 1L << 37, OVER_IO_URING = 1L << 41;

    // ---- fuse_open_out.open_flags
    public static final int FOPEN_DIRECT_IO = 1, FOPEN_KEEP_CACHE = 2, FOPEN_NONSEEKABLE = 4,
            FOPEN_PARALLEL_DIRECT_WRITES = 64;

    // ---- fuse_setattr_in.valid
    public static final int FATTR_MODE = 1, FATTR_UID = 1 << 1, FATTR_GID = 1 << 2, FATTR_SIZE = 1 << 3,
            FATTR_ATIME = 1 << 4, FATTR_MTIME = 1 << 5, FATTR_FH = 1 << 6, FATTR_ATIME_NOW = 1 << 7,
            FATTR_MTIME_NOW = 1 << 8, FATTR_LOCKOWNER = 1 << 9, FATTR_CTIME = 1 << 10, FATTR_KILL_SUIDGID = 1 << 11;

    // ---- fallocate modes (linux/falloc.h), lseek whence
    public static final int FALLOC_KEEP_SIZE = 0x01, FALLOC_PUNCH_HOLE = 0x02, FALLOC_ZERO_RANGE = 0x10;
    public static final int SEEK_DATA = 3, SEEK_HOLE = 4;

    /** Notifications (fuse_out_header.error with unique 0) and fuse_notify_inval_inode_out's size. */
    public static final int NOTIFY_INVAL_INODE = 2, NOTIFY_INVAL_INODE_OUT_SIZE = 24;

    /** The high bit of an INTERRUPT request's unique (FUSE_INT_REQ_BIT). */
    public static final long INT_REQ_BIT = 1L;

    /** ioctl FUSE_DEV_IOC_CLONE = _IOR(229, 0, uint32_t): attaches a fresh /dev/fuse fd to a session's connection. */
    public static final long DEV_IOC_CLONE = 0x8004e500L;

    /** Mode bits. */
    public static final int S_IFREG = 0100000, S_ISUID = 04000, S_ISGID = 02000, S_IRWXG = 070, S_IRWXO = 07,
            S_IWUSR = 0200, S_IWGRP = 020, S_IWOTH = 02, S_IRUSR = 0400;

    /** The opcode's name for log messages. */
    public static String opcodeName(int op) {
        return switch (op) {
            case LOOKUP -> "LOOKUP";
            case FORGET -> "FORGET";
            case GETATTR -> "GETATTR";
            case SETATTR -> "SETATTR";
            case OPEN -> "OPEN";
            case READ -> "READ";
            case WRITE -> "WRITE";
            case STATFS -> "STATFS";
            case RELEASE -> "RELEASE";
            case FSYNC -> "FSYNC";
            case FLUSH -> "FLUSH";
            case INIT -> "INIT";
            case INTERRUPT -> "INTERRUPT";
            case DESTROY -> "DESTROY";
            case BATCH_FORGET -> "BATCH_FORGET";
            case FALLOCATE -> "FALLOCATE";
            case LSEEK -> "LSEEK";
            default -> "opcode " + op;
        };
    }
}
