package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;

/**
 * Layouts and constants of {@code linux/io_uring.h} (kernel ABI). Unions are declared by their first member
 * name; the other names of a union member are listed in comments and written through the same offset.
 * Offsets are checked against the C header by the layout probe test.
 */
public final class LinuxIoUring {
    private LinuxIoUring() {}

    /** struct io_uring_sqe (64 bytes). */
    public static final StructLayout io_uring_sqe = structLayout(
            JAVA_BYTE.withName("opcode"),
            JAVA_BYTE.withName("flags"),
            JAVA_SHORT.withName("ioprio"),
            JAVA_INT.withName("fd"),
            JAVA_LONG.withName("off"),          // union: off, addr2, {cmd_op, __pad1}
            JAVA_LONG.withName("addr"),         // union: addr, splice_off_in
            JAVA_INT.withName("len"),
            JAVA_INT.withName("rw_flags"),      // union: rw_flags, fsync_flags, poll32_events, msg_flags,
                                                //        accept_flags, timeout_flags, cancel_flags, ...
            JAVA_LONG.withName("user_data"),
            JAVA_SHORT.withName("buf_index"),   // union: buf_index, buf_group
            JAVA_SHORT.withName("personality"),
            JAVA_INT.withName("splice_fd_in"),  // union: splice_fd_in, file_index, {addr_len, __pad3}
            JAVA_LONG.withName("addr3"),
            JAVA_LONG.withName("__pad2")
    ).withName("io_uring_sqe");

    /** struct io_uring_cqe (16 bytes, without the CQE32 extension). */
    public static final StructLayout io_uring_cqe = structLayout(
            JAVA_LONG.withName("user_data"),
            JAVA_INT.withName("res"),
            JAVA_INT.withName("flags")
    ).withName("io_uring_cqe");

    /** struct io_sqring_offsets (40 bytes). */
    public static final StructLayout io_sqring_offsets = structLayout(
            JAVA_INT.withName("head"),
            JAVA_INT.withName("tail"),
            JAVA_INT.withName("ring_mask"),
            JAVA_INT.withName("ring_entries"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("dropped"),
            JAVA_INT.withName("array"),
            JAVA_INT.withName("resv1"),
            JAVA_LONG.withName("resv2")          // user_addr since Linux 6.5 (IORING_SETUP_NO_MMAP)
    ).withName("io_sqring_offsets");

    /** struct io_cqring_offsets (40 bytes). */
    public static final StructLayout io_cqring_offsets = structLayout(
            JAVA_INT.withName("head"),
            JAVA_INT.withName("tail"),
            JAVA_INT.withName("ring_mask"),
            JAVA_INT.withName("ring_entries"),
            JAVA_INT.withName("overflow"),
            JAVA_INT.withName("cqes"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("resv1"),
            JAVA_LONG.withName("resv2")          // user_addr since Linux 6.5 (IORING_SETUP_NO_MMAP)
    ).withName("io_cqring_offsets");

    /** struct io_uring_params (120 bytes). */
    public static final StructLayout io_uring_params = structLayout(
            JAVA_INT.withName("sq_entries"),
            JAVA_INT.withName("cq_entries"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("sq_thread_cpu"),
            JAVA_INT.withName("sq_thread_idle"),
            JAVA_INT.withName("features"),
            JAVA_INT.withName("wq_fd"),
            MemoryLayout.sequenceLayout(3, JAVA_INT).withName("resv"),
            io_sqring_offsets.withName("sq_off"),
            io_cqring_offsets.withName("cq_off")
    ).withName("io_uring_params");

    /** struct __kernel_timespec (16 bytes), used by IORING_OP_TIMEOUT. */
    public static final StructLayout __kernel_timespec = structLayout(
            JAVA_LONG.withName("tv_sec"),
            JAVA_LONG.withName("tv_nsec")
    ).withName("__kernel_timespec");

    /** struct io_uring_rsrc_register / io_uring_files_update etc. are not used; buffers register as iovecs. */

    // ---- field offsets, for code that writes SQEs and reads CQEs directly in the mapped rings
    @Derived public static final long SQE_OPCODE = off(io_uring_sqe, "opcode");
    @Derived public static final long SQE_FLAGS = off(io_uring_sqe, "flags");
    @Derived public static final long SQE_IOPRIO = off(io_uring_sqe, "ioprio");
    @Derived public static final long SQE_FD = off(io_uring_sqe, "fd");
    @Derived public static final long SQE_OFF = off(io_uring_sqe, "off");
    @Derived public static final long SQE_ADDR = off(io_uring_sqe, "addr");
    @Derived public static final long SQE_LEN = off(io_uring_sqe, "len");
    @Derived public static final long SQE_RW_FLAGS = off(io_uring_sqe, "rw_flags");
    @Derived public static final long SQE_USER_DATA = off(io_uring_sqe, "user_data");
    @Derived public static final long SQE_BUF_INDEX = off(io_uring_sqe, "buf_index");
    @Derived public static final long SQE_PERSONALITY = off(io_uring_sqe, "personality");
    @Derived public static final long SQE_SPLICE_FD_IN = off(io_uring_sqe, "splice_fd_in");
    @Derived public static final long SQE_ADDR3 = off(io_uring_sqe, "addr3");
    @Derived public static final long SQE_PAD2 = off(io_uring_sqe, "__pad2");
    @Derived public static final long SQE_SIZE = io_uring_sqe.byteSize();

    @Derived public static final long CQE_USER_DATA = off(io_uring_cqe, "user_data");
    @Derived public static final long CQE_RES = off(io_uring_cqe, "res");
    @Derived public static final long CQE_FLAGS = off(io_uring_cqe, "flags");
    @Derived public static final long CQE_SIZE = io_uring_cqe.byteSize();

    private static long off(StructLayout l, String name) {
        return l.byteOffset(PathElement.groupElement(name));
    }

    // ---- setup flags
    public static final int IORING_SETUP_IOPOLL = 1 << 0, IORING_SETUP_SQPOLL = 1 << 1,
            IORING_SETUP_SQ_AFF = 1 << 2, IORING_SETUP_CQSIZE = 1 << 3, IORING_SETUP_CLAMP = 1 << 4,
            IORING_SETUP_ATTACH_WQ = 1 << 5, IORING_SETUP_R_DISABLED = 1 << 6, IORING_SETUP_SUBMIT_ALL = 1 << 7,
            IORING_SETUP_COOP_TASKRUN = 1 << 8, IORING_SETUP_TASKRUN_FLAG = 1 << 9,
            IORING_SETUP_SQE128 = 1 << 10, IORING_SETUP_CQE32 = 1 << 11, IORING_SETUP_SINGLE_ISSUER = 1 << 12,
            IORING_SETUP_DEFER_TASKRUN = 1 << 13;

    // ---- opcodes (enum io_uring_op)
    public static final byte IORING_OP_NOP = 0, IORING_OP_READV = 1, IORING_OP_WRITEV = 2, IORING_OP_FSYNC = 3,
            IORING_OP_READ_FIXED = 4, IORING_OP_WRITE_FIXED = 5, IORING_OP_POLL_ADD = 6,
            IORING_OP_POLL_REMOVE = 7, IORING_OP_SYNC_FILE_RANGE = 8, IORING_OP_SENDMSG = 9,
            IORING_OP_RECVMSG = 10, IORING_OP_TIMEOUT = 11, IORING_OP_TIMEOUT_REMOVE = 12,
            IORING_OP_ACCEPT = 13, IORING_OP_ASYNC_CANCEL = 14, IORING_OP_LINK_TIMEOUT = 15,
            IORING_OP_CONNECT = 16, IORING_OP_FALLOCATE = 17, IORING_OP_OPENAT = 18, IORING_OP_CLOSE = 19,
            IORING_OP_FILES_UPDATE = 20, IORING_OP_STATX = 21, IORING_OP_READ = 22, IORING_OP_WRITE = 23,
            IORING_OP_FADVISE = 24, IORING_OP_MADVISE = 25, IORING_OP_SEND = 26, IORING_OP_RECV = 27,
            IORING_OP_OPENAT2 = 28, IORING_OP_EPOLL_CTL = 29, IORING_OP_SPLICE = 30,
            IORING_OP_PROVIDE_BUFFERS = 31, IORING_OP_REMOVE_BUFFERS = 32, IORING_OP_TEE = 33,
            IORING_OP_SHUTDOWN = 34, IORING_OP_RENAMEAT = 35, IORING_OP_UNLINKAT = 36, IORING_OP_MKDIRAT = 37,
            IORING_OP_SYMLINKAT = 38, IORING_OP_LINKAT = 39, IORING_OP_MSG_RING = 40,
            IORING_OP_FSETXATTR = 41, IORING_OP_SETXATTR = 42, IORING_OP_FGETXATTR = 43,
            IORING_OP_GETXATTR = 44, IORING_OP_SOCKET = 45, IORING_OP_URING_CMD = 46, IORING_OP_SEND_ZC = 47,
            IORING_OP_SENDMSG_ZC = 48;

    // ---- sqe->flags
    public static final byte IOSQE_FIXED_FILE = 1 << 0, IOSQE_IO_DRAIN = 1 << 1, IOSQE_IO_LINK = 1 << 2,
            IOSQE_IO_HARDLINK = 1 << 3, IOSQE_ASYNC = 1 << 4, IOSQE_BUFFER_SELECT = 1 << 5,
            IOSQE_CQE_SKIP_SUCCESS = 1 << 6;

    // ---- sqe->fsync_flags, timeout_flags, poll, cancel, accept
    public static final int IORING_FSYNC_DATASYNC = 1 << 0;
    public static final int IORING_TIMEOUT_ABS = 1 << 0, IORING_TIMEOUT_UPDATE = 1 << 1,
            IORING_TIMEOUT_BOOTTIME = 1 << 2, IORING_TIMEOUT_REALTIME = 1 << 3;
    public static final int IORING_POLL_ADD_MULTI = 1 << 0;
    public static final int IORING_ASYNC_CANCEL_ALL = 1 << 0, IORING_ASYNC_CANCEL_FD = 1 << 1,
            IORING_ASYNC_CANCEL_ANY = 1 << 2, IORING_ASYNC_CANCEL_FD_FIXED = 1 << 3;
    public static final int IORING_RECVSEND_POLL_FIRST = 1 << 0, IORING_RECV_MULTISHOT = 1 << 1;
    public static final int IORING_ACCEPT_MULTISHOT = 1 << 0;

    // ---- cqe->flags
    public static final int IORING_CQE_F_BUFFER = 1 << 0, IORING_CQE_F_MORE = 1 << 1,
            IORING_CQE_F_SOCK_NONEMPTY = 1 << 2, IORING_CQE_F_NOTIF = 1 << 3;

    // ---- mmap offsets
    public static final long IORING_OFF_SQ_RING = 0L, IORING_OFF_CQ_RING = 0x8000000L,
            IORING_OFF_SQES = 0x10000000L;

    // ---- sq ring flags
    public static final int IORING_SQ_NEED_WAKEUP = 1 << 0, IORING_SQ_CQ_OVERFLOW = 1 << 1,
            IORING_SQ_TASKRUN = 1 << 2;

    // ---- io_uring_enter flags
    public static final int IORING_ENTER_GETEVENTS = 1 << 0, IORING_ENTER_SQ_WAKEUP = 1 << 1,
            IORING_ENTER_SQ_WAIT = 1 << 2, IORING_ENTER_EXT_ARG = 1 << 3,
            IORING_ENTER_REGISTERED_RING = 1 << 4;

    // ---- features
    public static final int IORING_FEAT_SINGLE_MMAP = 1 << 0, IORING_FEAT_NODROP = 1 << 1,
            IORING_FEAT_SUBMIT_STABLE = 1 << 2, IORING_FEAT_RW_CUR_POS = 1 << 3,
            IORING_FEAT_CUR_PERSONALITY = 1 << 4, IORING_FEAT_FAST_POLL = 1 << 5,
            IORING_FEAT_POLL_32BITS = 1 << 6, IORING_FEAT_SQPOLL_NONFIXED = 1 << 7,
            IORING_FEAT_EXT_ARG = 1 << 8, IORING_FEAT_NATIVE_WORKERS = 1 << 9;

    // ---- io_uring_register opcodes
    public static final int IORING_REGISTER_BUFFERS = 0, IORING_UNREGISTER_BUFFERS = 1,
            IORING_REGISTER_FILES = 2, IORING_UNREGISTER_FILES = 3, IORING_REGISTER_EVENTFD = 4,
            IORING_UNREGISTER_EVENTFD = 5, IORING_REGISTER_FILES_UPDATE = 6, IORING_REGISTER_PROBE = 8,
            IORING_REGISTER_RING_FDS = 20, IORING_UNREGISTER_RING_FDS = 21;
}
