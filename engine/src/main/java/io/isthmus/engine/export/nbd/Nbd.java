package io.isthmus.engine.export.nbd;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * NBD protocol constants (NetworkBlockDevice/nbd doc/proto.md, with the extended-headers extension) and the
 * big-endian value layouts every NBD field is read and written with. No state, no logic.
 */
public final class Nbd {
    private Nbd() {
    }

    // ---- byte order: NBD is big-endian on the wire
    public static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfLong BE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    // ---- handshake magics
    public static final long INIT_MAGIC = 0x4e42444d41474943L;   // "NBDMAGIC"
    public static final long OPTS_MAGIC = 0x49484156454F5054L;   // "IHAVEOPT"
    public static final long REP_MAGIC = 0x0003e889045565a9L;

    // ---- handshake flags (server) and client flags
    public static final int FLAG_FIXED_NEWSTYLE = 1, FLAG_NO_ZEROES = 2;
    public static final int FLAG_C_FIXED_NEWSTYLE = 1, FLAG_C_NO_ZEROES = 2;

    // ---- options
    public static final int OPT_EXPORT_NAME = 1, OPT_ABORT = 2, OPT_LIST = 3, OPT_PEEK_EXPORT = 4, OPT_STARTTLS = 5,
            OPT_INFO = 6, OPT_GO = 7, OPT_STRUCTURED_REPLY = 8, OPT_LIST_META_CONTEXT = 9,
            OPT_SET_META_CONTEXT = 10, OPT_EXTENDED_HEADERS = 11;

    // ---- option replies
    public static final int REP_ACK = 1, REP_SERVER = 2, REP_INFO = 3, REP_META_CONTEXT = 4;
    public static final int REP_ERR_UNSUP = 0x80000001, REP_ERR_POLICY = 0x80000002, REP_ERR_INVALID = 0x80000003,
            REP_ERR_PLATFORM = 0x80000004, REP_ERR_TLS_REQD = 0x80000005, REP_ERR_UNKNOWN = 0x80000006,
            REP_ERR_SHUTDOWN = 0x80000007, REP_ERR_BLOCK_SIZE_REQD = 0x80000008, REP_ERR_TOO_BIG = 0x80000009,
            REP_ERR_EXT_HEADER_REQD = 0x8000000a;

    // ---- NBD_INFO_*
    public static final int INFO_EXPORT = 0, INFO_NAME = 1, INFO_DESCRIPTION = 2, INFO_BLOCK_SIZE = 3;

    // ---- transmission flags
    public static final int FLAG_HAS_FLAGS = 1, FLAG_READ_ONLY = 1 << 1, FLAG_SEND_FLUSH = 1 << 2,
            FLAG_SEND_FUA = 1 << 3, FLAG_ROTATIONAL = 1 << 4, FLAG_SEND_TRIM = 1 << 5,
            FLAG_SEND_WRITE_ZEROES = 1 << 6, FLAG_SEND_DF = 1 << 7, FLAG_CAN_MULTI_CONN = 1 << 8,
            FLAG_SEND_RESIZE = 1 << 9, FLAG_SEND_CACHE = 1 << 10, FLAG_SEND_FAST_ZERO = 1 << 11,
            FLAG_BLOCK_STAT_PAYLOAD = 1 << 12;

    // ---- requests
    public static final int REQUEST_MAGIC = 0x25609513, EXTENDED_REQUEST_MAGIC = 0x21e41c71;
    public static final int REQUEST_SIZE = 28, EXTENDED_REQUEST_SIZE = 32;
    public static final int CMD_READ = 0, CMD_WRITE = 1, CMD_DISC = 2, CMD_FLUSH = 3, CMD_TRIM = 4, CMD_CACHE = 5,
            CMD_WRITE_ZEROES = 6, CMD_BLOCK_STATUS = 7, CMD_RESIZE = 8;
    public static final int CMD_FLAG_FUA = 1, CMD_FLAG_NO_HOLE = 1 << 1, CMD_FLAG_DF = 1 << 2,
            CMD_FLAG_REQ_ONE = 1 << 3, CMD_FLAG_FAST_ZERO = 1 << 4, CMD_FLAG_PAYLOAD_LEN = 1 << 5;

    // ---- replies
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698, STRUCTURED_REPLY_MAGIC = 0x668e33ef,
            EXTENDED_REPLY_MAGIC = 0x6e8a278c;
    public static final int SIMPLE_REPLY_SIZE = 16, STRUCTURED_REPLY_SIZE = 20, EXTENDED_REPLY_SIZE = 32;
    public static final int REPLY_FLAG_DONE = 1;
    public static final int REPLY_TYPE_NONE = 0, REPLY_TYPE_OFFSET_DATA = 1, REPLY_TYPE_OFFSET_HOLE = 2,
            REPLY_TYPE_BLOCK_STATUS = 5, REPLY_TYPE_BLOCK_STATUS_EXT = 6, REPLY_TYPE_ERROR = (1 << 15) | 1,
            REPLY_TYPE_ERROR_OFFSET = (1 << 15) | 2;

    // ---- block status
    public static final int STATE_HOLE = 1, STATE_ZERO = 2, STATE_DIRTY = 1;
    public static final int META_ID_BASE_ALLOCATION = 0, META_ID_ALLOCATION_DEPTH = 1, META_ID_DIRTY_BITMAP = 2;

    // ---- NBD errors
    public static final int EPERM = 1, EIO = 5, ENOMEM = 12, EINVAL = 22, ENOSPC = 28, EOVERFLOW = 75,
            ENOTSUP = 95, ESHUTDOWN = 108;

    // ---- limits (QEMU's)
    /** Largest option payload, READ/WRITE/CACHE length, and block-size maximum QEMU accepts: 32 MiB. */
    public static final int MAX_BUFFER_SIZE = 32 * 1024 * 1024;
    public static final int MAX_STRING_SIZE = 4096;
    public static final int MAX_BLOCK_STATUS_EXTENTS = 1024 * 1024 / 8;

    /** QEMU's option names (nbd_opt_lookup), used in error messages. */
    public static String optName(int opt) {
        return switch (opt) {
            case OPT_EXPORT_NAME -> "export name";
            case OPT_ABORT -> "abort";
            case OPT_LIST -> "list";
            case OPT_PEEK_EXPORT -> "peek export";
            case OPT_STARTTLS -> "starttls";
            case OPT_INFO -> "info";
            case OPT_GO -> "go";
            case OPT_STRUCTURED_REPLY -> "structured reply";
            case OPT_LIST_META_CONTEXT -> "list meta context";
            case OPT_SET_META_CONTEXT -> "set meta context";
            case OPT_EXTENDED_HEADERS -> "extended headers";
            default -> "<unknown>";
        };
    }

    /** QEMU's command names (nbd_cmd_lookup), used in error messages. */
    public static String cmdName(int cmd) {
        return switch (cmd) {
            case CMD_READ -> "read";
            case CMD_WRITE -> "write";
            case CMD_DISC -> "disconnect";
            case CMD_FLUSH -> "flush";
            case CMD_TRIM -> "trim";
            case CMD_CACHE -> "cache";
            case CMD_WRITE_ZEROES -> "write zeroes";
            case CMD_BLOCK_STATUS -> "block status";
            default -> "<unknown>";
        };
    }

    /**
     * Maps a system errno (positive) to the NBD error QEMU sends (system_errno_to_nbd_errno): one mapping for
     * the whole server.
     */
    public static int errnoToNbd(int errno) {
        return switch (errno) {
            case 0 -> 0;
            case 1, 30 -> EPERM;             // EPERM, EROFS
            case 5 -> EIO;
            case 12 -> ENOMEM;
            case 122, 27, 28 -> ENOSPC;      // EDQUOT, EFBIG, ENOSPC
            case 75 -> EOVERFLOW;
            case 95 -> ENOTSUP;              // ENOTSUP == EOPNOTSUPP on Linux
            case 108 -> ESHUTDOWN;
            default -> EINVAL;
        };
    }
}
