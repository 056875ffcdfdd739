/*
 * linux/io_uring.h (kernel ABI, as in linux-libc-dev 6.1) -> LinuxIoUring: the subset the ring uses.
 * Unions are bound by their first member; IoUringPrep (shim) writes the other names through the same offsets.
 */
struct io_uring_sqe {
    __u8 opcode; __u8 flags; __u16 ioprio; __s32 fd;
    union { __u64 off; __u64 addr2; struct { __u32 cmd_op; __u32 __pad1; }; };
    union { __u64 addr; __u64 splice_off_in; };
    __u32 len;
    union { __u32 rw_flags; __u32 fsync_flags; __u32 poll32_events; __u32 msg_flags; __u32 timeout_flags;
            __u32 accept_flags; __u32 cancel_flags; /* ... */ };
    __u64 user_data;
    union { __u16 buf_index; __u16 buf_group; } __attribute__((packed));
    __u16 personality;
    union { __s32 splice_fd_in; __u32 file_index; struct { __u16 addr_len; __u16 __pad3[1]; }; };
    union { struct { __u64 addr3; __u64 __pad2[1]; }; __u8 cmd[0]; };
};
struct io_uring_cqe { __u64 user_data; __s32 res; __u32 flags; };
struct io_sqring_offsets {
    __u32 head, tail, ring_mask, ring_entries, flags, dropped, array, resv1; __u64 resv2;
};
struct io_cqring_offsets {
    __u32 head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1; __u64 resv2;
};
struct io_uring_params {
    __u32 sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd, resv[3];
    struct io_sqring_offsets sq_off;
    struct io_cqring_offsets cq_off;
};
struct __kernel_timespec { __s64 tv_sec; long long tv_nsec; };
/* constants: IORING_SETUP_*, enum io_uring_op (IORING_OP_*), IOSQE_*, IORING_FSYNC_DATASYNC, IORING_TIMEOUT_*,
   IORING_POLL_ADD_MULTI, IORING_ASYNC_CANCEL_*, IORING_RECVSEND_POLL_FIRST, IORING_RECV_MULTISHOT,
   IORING_ACCEPT_MULTISHOT, IORING_CQE_F_*, IORING_OFF_*, IORING_SQ_*, IORING_ENTER_*, IORING_FEAT_*,
   IORING_REGISTER_* (enum io_uring_register_op) */
