package io.isthmus.bindings;

import static io.isthmus.bindings.LinuxIoUring.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;

/**
 * Java equivalents of liburing's static-inline {@code io_uring_prep_*} helpers: each fills one SQE in place.
 * An SQE is addressed as ({@code sqes}, {@code base}): the mapped SQE array and the byte offset of the entry,
 * so filling an entry allocates nothing. Every helper writes all 64 bytes but user_data (as {@code io_uring_prep_rw}
 * does), so a reused entry carries nothing over. {@code user_data} is set separately by the caller.
 *
 * <p>Thread use: only the thread that owns the ring may fill its SQEs. The segment is the ring's mapping.
 */
public final class IoUringPrep {
    private IoUringPrep() {}

    /**
     * io_uring_prep_rw: the common layout of most requests. The 64 bytes are written as eight 64-bit stores
     * (the SQE's fields pack into 8-byte words; x86-64 and aarch64 are little-endian): {opcode, flags, ioprio,
     * fd}, off, addr, {len, rw_flags}, [user_data: the caller's, {@link #setUserData}],
     * {buf_index, personality, splice_fd_in}, addr3, __pad2. The layout probe proves the offsets this relies on
     * (SQE_OPCODE 0, SQE_FD 4, SQE_LEN 24, SQE_RW_FLAGS 28, SQE_BUF_INDEX 40, SQE_SPLICE_FD_IN 44).
     */
    public static void prepRw(MemorySegment sqes, long base, byte op, int fd, long addr, int len, long off) {
        sqes.set(JAVA_LONG, base, ((long) fd << 32) | (op & 0xFFL));
        sqes.set(JAVA_LONG, base + SQE_OFF, off);
        sqes.set(JAVA_LONG, base + SQE_ADDR, addr);
        sqes.set(JAVA_LONG, base + SQE_LEN, len & 0xFFFFFFFFL);
        sqes.set(JAVA_LONG, base + SQE_BUF_INDEX, 0L);
        sqes.set(JAVA_LONG, base + SQE_ADDR3, 0L);
        sqes.set(JAVA_LONG, base + SQE_PAD2, 0L);
    }

    public static void setUserData(MemorySegment sqes, long base, long userData) {
        sqes.set(JAVA_LONG, base + SQE_USER_DATA, userData);
    }

    public static void setFlags(MemorySegment sqes, long base, byte flags) {
        sqes.set(JAVA_BYTE, base + SQE_FLAGS, flags);
    }

    public static void setOpFlags(MemorySegment sqes, long base, int opFlags) {
        sqes.set(JAVA_INT, base + SQE_RW_FLAGS, opFlags);
    }

    public static void prepNop(MemorySegment sqes, long base) {
        prepRw(sqes, base, IORING_OP_NOP, -1, 0L, 0, 0L);
    }

    public static void prepRead(MemorySegment sqes, long base, int fd, long addr, int len, long offset) {
        prepRw(sqes, base, IORING_OP_READ, fd, addr, len, offset);
    }

    public static void prepWrite(MemorySegment sqes, long base, int fd, long addr, int len, long offset) {
        prepRw(sqes, base, IORING_OP_WRITE, fd, addr, len, offset);
    }

    public static void prepReadv(MemorySegment sqes, long base, int fd, long iovecs, int nr, long offset) {
        prepRw(sqes, base, IORING_OP_READV, fd, iovecs, nr, offset);
    }

    public static void prepWritev(MemorySegment sqes, long base, int fd, long iovecs, int nr, long offset) {
        prepRw(sqes, base, IORING_OP_WRITEV, fd, iovecs, nr, offset);
    }

    public static void prepReadFixed(MemorySegment sqes, long base, int fd, long addr, int len, long offset,
                                     int bufIndex) {
        prepRw(sqes, base, IORING_OP_READ_FIXED, fd, addr, len, offset);
        sqes.set(JAVA_SHORT, base + SQE_BUF_INDEX, (short) bufIndex);
    }

    public static void prepWriteFixed(MemorySegment sqes, long base, int fd, long addr, int len, long offset,
                                      int bufIndex) {
        prepRw(sqes, base, IORING_OP_WRITE_FIXED, fd, addr, len, offset);
        sqes.set(JAVA_SHORT, base + SQE_BUF_INDEX, (short) bufIndex);
    }

    public static void prepFsync(MemorySegment sqes, long base, int fd, int fsyncFlags) {
        prepRw(sqes, base, IORING_OP_FSYNC, fd, 0L, 0, 0L);
        sqes.set(JAVA_INT, base + SQE_RW_FLAGS, fsyncFlags);
    }

    /** io_uring_prep_fallocate: mode goes in len, length in addr. */
    public static void prepFallocate(MemorySegment sqes, long base, int fd, int mode, long offset, long length) {
        prepRw(sqes, base, IORING_OP_FALLOCATE, fd, length, mode, offset);
    }

    public static void prepPollAdd(MemorySegment sqes, long base, int fd, int pollMask) {
        prepRw(sqes, base, IORING_OP_POLL_ADD, fd, 0L, 0, 0L);
        sqes.set(JAVA_INT, base + SQE_RW_FLAGS, pollMask);
    }

    public static void prepPollRemove(MemorySegment sqes, long base, long targetUserData) {
        prepRw(sqes, base, IORING_OP_POLL_REMOVE, -1, targetUserData, 0, 0L);
    }

    public static void prepRecv(MemorySegment sqes, long base, int fd, long addr, int len, int msgFlags) {
        prepRw(sqes, base, IORING_OP_RECV, fd, addr, len, 0L);
        sqes.set(JAVA_INT, base + SQE_RW_FLAGS, msgFlags);
    }

    public static void prepSend(MemorySegment sqes, long base, int fd, long addr, int len, int msgFlags) {
        prepRw(sqes, base, IORING_OP_SEND, fd, addr, len, 0L);
        sqes.set(JAVA_INT, base + SQE_RW_FLAGS, msgFlags);
    }

    public static void prepSendmsg(MemorySegment sqes, long base, int fd, long msghdr, int msgFlags) {
        prepRw(sqes, base, IORING_OP_SENDMSG, fd, msghdr, 1, 0L);
        sqes.set(JAVA_INT, base + SQE_RW_FLAGS, msgFlags);
    }

    public static void prepRecvmsg(MemorySegment sqes, long base, int fd, long msghdr, int msgFlags) {
        prepRw(sqes, base, IORING_OP_RECVMSG, fd, msghdr, 1, 0L);
        sqes.set(JAVA_INT, base + SQE_RW_FLAGS, msgFlags);
    }

    /** io_uring_prep_accept: addr/addrlen pointers may be 0. */
    public static void prepAccept(MemorySegment sqes, long base, int fd, long addr, long addrLenPtr, int flags) {
        prepRw(sqes, base, IORING_OP_ACCEPT, fd, addr, 0, addrLenPtr);
        sqes.set(JAVA_INT, base + SQE_RW_FLAGS, flags);
    }

    /** io_uring_prep_timeout: ts points at a __kernel_timespec that must stay valid until submitted. */
    public static void prepTimeout(MemorySegment sqes, long base, long ts, int count, int flags) {
        prepRw(sqes, base, IORING_OP_TIMEOUT, -1, ts, 1, count);
        sqes.set(JAVA_INT, base + SQE_RW_FLAGS, flags);
    }

    public static void prepTimeoutRemove(MemorySegment sqes, long base, long targetUserData, int flags) {
        prepRw(sqes, base, IORING_OP_TIMEOUT_REMOVE, -1, targetUserData, 0, 0L);
        sqes.set(JAVA_INT, base + SQE_RW_FLAGS, flags);
    }

    /** io_uring_prep_cancel64: cancels the request with the given user_data (or by fd / any, per flags). */
    public static void prepCancel(MemorySegment sqes, long base, long targetUserData, int flags) {
        prepRw(sqes, base, IORING_OP_ASYNC_CANCEL, -1, targetUserData, 0, 0L);
        sqes.set(JAVA_INT, base + SQE_RW_FLAGS, flags);
    }

    public static void prepCancelFd(MemorySegment sqes, long base, int fd, int flags) {
        prepRw(sqes, base, IORING_OP_ASYNC_CANCEL, fd, 0L, 0, 0L);
        sqes.set(JAVA_INT, base + SQE_RW_FLAGS, flags | IORING_ASYNC_CANCEL_FD);
    }

    public static void prepShutdown(MemorySegment sqes, long base, int fd, int how) {
        prepRw(sqes, base, IORING_OP_SHUTDOWN, fd, 0L, how, 0L);
    }

    public static void prepClose(MemorySegment sqes, long base, int fd) {
        prepRw(sqes, base, IORING_OP_CLOSE, fd, 0L, 0, 0L);
    }

    public static void prepConnect(MemorySegment sqes, long base, int fd, long addr, int addrLen) {
        prepRw(sqes, base, IORING_OP_CONNECT, fd, addr, 0, addrLen);
    }
}
