package io.isthmus.bindings;

import static io.isthmus.bindings.LinuxIoUring.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;

/**
 * Java equivalents of liburing's static-inline {@code io_uring_prep_*} helpers: each fills one SQE in place.
 * An SQE is addressed by its native address ({@code sqe}, liburing's {@code struct io_uring_sqe *}): an entry
 * of a ring's mapped SQE array, as handed out by the engine's {@code Ring.nextSqe()}, so filling an entry
 * allocates nothing. Every helper writes all 64 bytes but user_data (as {@code io_uring_prep_rw} does), so a
 * reused entry carries nothing over. {@code user_data} is set separately by the caller.
 *
 * <p>Why addresses and not (segment, offset): this is the per-operation path of the data plane. Stores through
 * the ring's own {@link MemorySegment} (a field several objects away from the caller) made the JIT reload the
 * segment, its scope and its bounds for every store, since raw stores may alias anything; through
 * {@link #MEMORY}, a constant, the checks fold away and a store is one instruction, as in C. The price is the
 * bounds check: {@code sqe} must point at a whole SQE in a live mapping (the ring guarantees it, and unmaps
 * only after its owner has drained).
 *
 * <p>Thread use: only the thread that owns the ring may fill its SQEs. Memory: the ring's mapping, not owned
 * here.
 */
public final class IoUringPrep {
    private IoUringPrep() {}

    /**
     * The whole address space as one segment of global scope: accesses through it are checked only against
     * {@code Long.MAX_VALUE}. A static final, so the JIT folds its checks. Unaligned layouts: every word is at
     * its natural alignment within an SQE (SQEs sit at multiples of 64 in a page-aligned mapping), so the
     * alignment check could never fail, and x86-64 and aarch64 store either way with the same instruction.
     */
    public static final MemorySegment MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /**
     * io_uring_prep_rw: the common layout of most requests. The 64 bytes are written as eight 64-bit stores
     * (the SQE's fields pack into 8-byte words; x86-64 and aarch64 are little-endian): {opcode, flags, ioprio,
     * fd}, off, addr, {len, rw_flags}, [user_data: the caller's, {@link #setUserData}],
     * {buf_index, personality, splice_fd_in}, addr3, __pad2. The layout probe proves the offsets this relies on
     * (SQE_OPCODE 0, SQE_FD 4, SQE_LEN 24, SQE_RW_FLAGS 28, SQE_BUF_INDEX 40, SQE_SPLICE_FD_IN 44).
     */
    public static void prepRw(long sqe, byte op, int fd, long addr, int len, long off) {
        MEMORY.set(JAVA_LONG_UNALIGNED, sqe, ((long) fd << 32) | (op & 0xFFL));
        MEMORY.set(JAVA_LONG_UNALIGNED, sqe + SQE_OFF, off);
        MEMORY.set(JAVA_LONG_UNALIGNED, sqe + SQE_ADDR, addr);
        MEMORY.set(JAVA_LONG_UNALIGNED, sqe + SQE_LEN, len & 0xFFFFFFFFL);
        MEMORY.set(JAVA_LONG_UNALIGNED, sqe + SQE_BUF_INDEX, 0L);
        MEMORY.set(JAVA_LONG_UNALIGNED, sqe + SQE_ADDR3, 0L);
        MEMORY.set(JAVA_LONG_UNALIGNED, sqe + SQE_PAD2, 0L);
    }

    public static void setUserData(long sqe, long userData) {
        MEMORY.set(JAVA_LONG_UNALIGNED, sqe + SQE_USER_DATA, userData);
    }

    public static void setFlags(long sqe, byte flags) {
        MEMORY.set(JAVA_BYTE, sqe + SQE_FLAGS, flags);
    }

    public static void setOpFlags(long sqe, int opFlags) {
        MEMORY.set(JAVA_INT_UNALIGNED, sqe + SQE_RW_FLAGS, opFlags);
    }

    public static void prepNop(long sqe) {
        prepRw(sqe, IORING_OP_NOP, -1, 0L, 0, 0L);
    }

    public static void prepRead(long sqe, int fd, long addr, int len, long offset) {
        prepRw(sqe, IORING_OP_READ, fd, addr, len, offset);
    }

    public static void prepWrite(long sqe, int fd, long addr, int len, long offset) {
        prepRw(sqe, IORING_OP_WRITE, fd, addr, len, offset);
    }

    public static void prepReadv(long sqe, int fd, long iovecs, int nr, long offset) {
        prepRw(sqe, IORING_OP_READV, fd, iovecs, nr, offset);
    }

    public static void prepWritev(long sqe, int fd, long iovecs, int nr, long offset) {
        prepRw(sqe, IORING_OP_WRITEV, fd, iovecs, nr, offset);
    }

    public static void prepReadFixed(long sqe, int fd, long addr, int len, long offset,
                                     int bufIndex) {
        prepRw(sqe, IORING_OP_READ_FIXED, fd, addr, len, offset);
        MEMORY.set(JAVA_SHORT_UNALIGNED, sqe + SQE_BUF_INDEX, (short) bufIndex);
    }

    public static void prepWriteFixed(long sqe, int fd, long addr, int len, long offset,
                                      int bufIndex) {
        prepRw(sqe, IORING_OP_WRITE_FIXED, fd, addr, len, offset);
        MEMORY.set(JAVA_SHORT_UNALIGNED, sqe + SQE_BUF_INDEX, (short) bufIndex);
    }

    public static void prepFsync(long sqe, int fd, int fsyncFlags) {
        prepRw(sqe, IORING_OP_FSYNC, fd, 0L, 0, 0L);
        MEMORY.set(JAVA_INT_UNALIGNED, sqe + SQE_RW_FLAGS, fsyncFlags);
    }

    /** io_uring_prep_fallocate: mode goes in len, length in addr. */
    public static void prepFallocate(long sqe, int fd, int mode, long offset, long length) {
        prepRw(sqe, IORING_OP_FALLOCATE, fd, length, mode, offset);
    }

    public static void prepPollAdd(long sqe, int fd, int pollMask) {
        prepRw(sqe, IORING_OP_POLL_ADD, fd, 0L, 0, 0L);
        MEMORY.set(JAVA_INT_UNALIGNED, sqe + SQE_RW_FLAGS, pollMask);
    }

    public static void prepPollRemove(long sqe, long targetUserData) {
        prepRw(sqe, IORING_OP_POLL_REMOVE, -1, targetUserData, 0, 0L);
    }

    public static void prepRecv(long sqe, int fd, long addr, int len, int msgFlags) {
        prepRw(sqe, IORING_OP_RECV, fd, addr, len, 0L);
        MEMORY.set(JAVA_INT_UNALIGNED, sqe + SQE_RW_FLAGS, msgFlags);
    }

    public static void prepSend(long sqe, int fd, long addr, int len, int msgFlags) {
        prepRw(sqe, IORING_OP_SEND, fd, addr, len, 0L);
        MEMORY.set(JAVA_INT_UNALIGNED, sqe + SQE_RW_FLAGS, msgFlags);
    }

    public static void prepSendmsg(long sqe, int fd, long msghdr, int msgFlags) {
        prepRw(sqe, IORING_OP_SENDMSG, fd, msghdr, 1, 0L);
        MEMORY.set(JAVA_INT_UNALIGNED, sqe + SQE_RW_FLAGS, msgFlags);
    }

    public static void prepRecvmsg(long sqe, int fd, long msghdr, int msgFlags) {
        prepRw(sqe, IORING_OP_RECVMSG, fd, msghdr, 1, 0L);
        MEMORY.set(JAVA_INT_UNALIGNED, sqe + SQE_RW_FLAGS, msgFlags);
    }

    /** io_uring_prep_accept: addr/addrlen pointers may be 0. */
    public static void prepAccept(long sqe, int fd, long addr, long addrLenPtr, int flags) {
        prepRw(sqe, IORING_OP_ACCEPT, fd, addr, 0, addrLenPtr);
        MEMORY.set(JAVA_INT_UNALIGNED, sqe + SQE_RW_FLAGS, flags);
    }

    /** io_uring_prep_timeout: ts points at a __kernel_timespec that must stay valid until submitted. */
    public static void prepTimeout(long sqe, long ts, int count, int flags) {
        prepRw(sqe, IORING_OP_TIMEOUT, -1, ts, 1, count);
        MEMORY.set(JAVA_INT_UNALIGNED, sqe + SQE_RW_FLAGS, flags);
    }

    public static void prepTimeoutRemove(long sqe, long targetUserData, int flags) {
        prepRw(sqe, IORING_OP_TIMEOUT_REMOVE, -1, targetUserData, 0, 0L);
        MEMORY.set(JAVA_INT_UNALIGNED, sqe + SQE_RW_FLAGS, flags);
    }

    /** io_uring_prep_cancel64: cancels the request with the given user_data (or by fd / any, per flags). */
    public static void prepCancel(long sqe, long targetUserData, int flags) {
        prepRw(sqe, IORING_OP_ASYNC_CANCEL, -1, targetUserData, 0, 0L);
        MEMORY.set(JAVA_INT_UNALIGNED, sqe + SQE_RW_FLAGS, flags);
    }

    public static void prepCancelFd(long sqe, int fd, int flags) {
        prepRw(sqe, IORING_OP_ASYNC_CANCEL, fd, 0L, 0, 0L);
        MEMORY.set(JAVA_INT_UNALIGNED, sqe + SQE_RW_FLAGS, flags | IORING_ASYNC_CANCEL_FD);
    }

    public static void prepShutdown(long sqe, int fd, int how) {
        prepRw(sqe, IORING_OP_SHUTDOWN, fd, 0L, how, 0L);
    }

    public static void prepClose(long sqe, int fd) {
        prepRw(sqe, IORING_OP_CLOSE, fd, 0L, 0, 0L);
    }

    public static void prepConnect(long sqe, int fd, long addr, int addrLen) {
        prepRw(sqe, IORING_OP_CONNECT, fd, addr, 0, addrLen);
    }
}
