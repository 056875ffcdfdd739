package io.isthmus.engine.export.vhostuser;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Constants of the vhost-user protocol (QEMU's docs/interop/vhost-user.rst) and of the virtio transport feature
 * bits it negotiates. Everything on the vhost-user socket and in the vrings is little-endian: the layouts below
 * say so where they are read. No logic here.
 */
public final class VhostUser {
    private VhostUser() {}

    /** Little-endian, unaligned: message payloads and guest memory are read through these. */
    public static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // ---- header flags
    public static final int VERSION = 0x1, VERSION_MASK = 0x3;
    public static final int FLAG_REPLY = 1 << 2, FLAG_NEED_REPLY = 1 << 3;

    // ---- front-end requests (VhostUserRequest)
    public static final int NONE = 0, GET_FEATURES = 1, SET_FEATURES = 2, SET_OWNER = 3, RESET_OWNER = 4,
            SET_MEM_TABLE = 5, SET_LOG_BASE = 6, SET_LOG_FD = 7, SET_VRING_NUM = 8, SET_VRING_ADDR = 9,
            SET_VRING_BASE = 10, GET_VRING_BASE = 11, SET_VRING_KICK = 12, SET_VRING_CALL = 13, SET_VRING_ERR = 14,
            GET_PROTOCOL_FEATURES = 15, SET_PROTOCOL_FEATURES = 16, GET_QUEUE_NUM = 17, SET_VRING_ENABLE = 18,
            SEND_RARP = 19, NET_SET_MTU = 20, SET_BACKEND_REQ_FD = 21, IOTLB_MSG = 22, SET_VRING_ENDIAN = 23,
            GET_CONFIG = 24, SET_CONFIG = 25, CREATE_CRYPTO_SESSION = 26, CLOSE_CRYPTO_SESSION = 27,
            POSTCOPY_ADVISE = 28, POSTCOPY_LISTEN = 29, POSTCOPY_END = 30, GET_INFLIGHT_FD = 31,
            SET_INFLIGHT_FD = 32, GPU_SET_SOCKET = 33, RESET_DEVICE = 34, VRING_KICK = 35, GET_MAX_MEM_SLOTS = 36,
            ADD_MEM_REG = 37, REM_MEM_REG = 38, SET_STATUS = 39, GET_STATUS = 40;

    // ---- back-end requests (VhostUserBackendRequest), sent on the SET_BACKEND_REQ_FD channel
    public static final int BACKEND_IOTLB_MSG = 1, BACKEND_CONFIG_CHANGE_MSG = 2, BACKEND_VRING_HOST_NOTIFIER_MSG = 3;

    // ---- protocol feature bits (VHOST_USER_PROTOCOL_F_*)
    public static final int PROTOCOL_F_MQ = 0, PROTOCOL_F_LOG_SHMFD = 1, PROTOCOL_F_RARP = 2,
            PROTOCOL_F_REPLY_ACK = 3, PROTOCOL_F_NET_MTU = 4, PROTOCOL_F_BACKEND_REQ = 5,
            PROTOCOL_F_CROSS_ENDIAN = 6, PROTOCOL_F_CRYPTO_SESSION = 7, PROTOCOL_F_PAGEFAULT = 8,
            PROTOCOL_F_CONFIG = 9, PROTOCOL_F_BACKEND_SEND_FD = 10, PROTOCOL_F_HOST_NOTIFIER = 11,
            PROTOCOL_F_INFLIGHT_SHMFD = 12, PROTOCOL_F_RESET_DEVICE = 13, PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
            PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15, PROTOCOL_F_STATUS = 16;

    // ---- virtio / vhost feature bits negotiated with GET/SET_FEATURES
    public static final int F_NOTIFY_ON_EMPTY = 24, F_LOG_ALL = 26, F_RING_INDIRECT_DESC = 28,
            F_RING_EVENT_IDX = 29, F_PROTOCOL_FEATURES = 30, F_VERSION_1 = 32, F_ACCESS_PLATFORM = 33,
            F_RING_PACKED = 34, F_IN_ORDER = 35, F_NOTIFICATION_DATA = 38;

    // ---- limits
    /** Regions in a SET_MEM_TABLE message (VHOST_MEMORY_BASELINE_NREGIONS). */
    public static final int MEMORY_BASELINE_NREGIONS = 8;
    /** Regions in all, with CONFIGURE_MEM_SLOTS (libvhost-user's VHOST_USER_MAX_RAM_SLOTS). */
    public static final int MAX_MEM_SLOTS = 32;
    /** Config space bytes a GET/SET_CONFIG may carry (VHOST_USER_MAX_CONFIG_SIZE). */
    public static final int MAX_CONFIG_SIZE = 256;
    /** Virtqueue size limit of the virtio spec (split and packed). */
    public static final int MAX_QUEUE_SIZE = 32768;
    /** Fds one message may carry (libvhost-user reads at most VHOST_MEMORY_BASELINE_NREGIONS). */
    public static final int MAX_FDS = 8;

    // ---- payload details
    /** SET_VRING_KICK/CALL/ERR u64: the vring index, and the "no fd" flag. */
    public static final long VRING_IDX_MASK = 0xFF, VRING_NOFD_MASK = 1L << 8;
    /** SET_VRING_ADDR flags: dirty logging of the used ring. */
    public static final int VRING_F_LOG = 1;
    /** SET_CONFIG flags (VHOST_SET_CONFIG_TYPE_*). */
    public static final int CONFIG_TYPE_FRONTEND = 0, CONFIG_TYPE_MIGRATION = 1;

    public static long bit(int n) {
        return 1L << n;
    }

    /** The request's name for log and error texts. */
    public static String requestName(int request) {
        return switch (request) {
            case NONE -> "NONE";
            case GET_FEATURES -> "GET_FEATURES";
            case SET_FEATURES -> "SET_FEATURES";
            case SET_OWNER -> "SET_OWNER";
            case RESET_OWNER -> "RESET_OWNER";
            case SET_MEM_TABLE -> "SET_MEM_TABLE";
            case SET_LOG_BASE -> "SET_LOG_BASE";
            case SET_LOG_FD -> "SET_LOG_FD";
            case SET_VRING_NUM -> "SET_VRING_NUM";
            case SET_VRING_ADDR -> "SET_VRING_ADDR";
            case SET_VRING_BASE -> "SET_VRING_BASE";
            case GET_VRING_BASE -> "GET_VRING_BASE";
            case SET_VRING_KICK -> "SET_VRING_KICK";
            case SET_VRING_CALL -> "SET_VRING_CALL";
            case SET_VRING_ERR -> "SET_VRING_ERR";
            case GET_PROTOCOL_FEATURES -> "GET_PROTOCOL_FEATURES";
            case SET_PROTOCOL_FEATURES -> "SET_PROTOCOL_FEATURES";
            case GET_QUEUE_NUM -> "GET_QUEUE_NUM";
            case SET_VRING_ENABLE -> "SET_VRING_ENABLE";
            case SET_BACKEND_REQ_FD -> "SET_BACKEND_REQ_FD";
            case GET_CONFIG -> "GET_CONFIG";
            case SET_CONFIG -> "SET_CONFIG";
            case GET_INFLIGHT_FD -> "GET_INFLIGHT_FD";
            case SET_INFLIGHT_FD -> "SET_INFLIGHT_FD";
            case RESET_DEVICE -> "RESET_DEVICE";
            case GET_MAX_MEM_SLOTS -> "GET_MAX_MEM_SLOTS";
            case ADD_MEM_REG -> "ADD_MEM_REG";
            case REM_MEM_REG -> "REM_MEM_REG";
            default -> "request " + Integer.toUnsignedString(request);
        };
    }
}
