package io.isthmus.engine.tls;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Gnutls;
import io.isthmus.bindings.NativeLibraries;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The GnuTLS push/pull callbacks, as two static upcall stubs shared by every session, and the layout of the
 * per-session native "transport block" they work on. GnuTLS gets the block's address as its transport pointer;
 * the callbacks only copy bytes between GnuTLS and the session's two native buffers and move the block's
 * offsets, so they touch no Java object and need no lookup:
 *
 * <pre>
 *   offset  field       meaning
 *   0       session     gnutls_session_t (for gnutls_transport_set_errno)
 *   8       inBase      ciphertext received from the socket, not yet pulled by GnuTLS: [inStart, inEnd)
 *   16      inCap
 *   24      inStart
 *   32      inEnd
 *   40      inEof       1 once the peer closed the socket: pull then returns 0
 *   48      outBase     ciphertext pushed by GnuTLS, not yet sent: [outStart, outEnd)
 *   56      outCap
 *   64      outStart
 *   72      outEnd
 *   80      outBlocked  1 when a push found the buffer full (GnuTLS holds the rest and wants a retry)
 * </pre>
 *
 * <p>Thread use: the callbacks run on whichever thread is inside a GnuTLS call for that session (the session's
 * IoThread). Upcalls never throw: any unexpected failure answers -1 with EIO. Return convention: GnuTLS's
 * (bytes transferred, 0 = end of stream, -1 with the transport errno set to EAGAIN or EIO).
 */
final class TlsTransport {
    private TlsTransport() {}

    static final long SESSION = 0, IN_BASE = 8, IN_CAP = 16, IN_START = 24, IN_END = 32, IN_EOF = 40,
            OUT_BASE = 48, OUT_CAP = 56, OUT_START = 64, OUT_END = 72, OUT_BLOCKED = 80;
    static final long BLOCK_SIZE = 88;

    static final MemorySegment PULL_STUB;
    static final MemorySegment PUSH_STUB;

    static {
        try {
            var lookup = MethodHandles.lookup();
            MethodType type = MethodType.methodType(long.class, MemorySegment.class, MemorySegment.class, long.class);
            PULL_STUB = NativeLibraries.LINKER.upcallStub(lookup.findStatic(TlsTransport.class, "pull", type),
                    Gnutls.gnutls_pull_func, Arena.global());
            PUSH_STUB = NativeLibraries.LINKER.upcallStub(lookup.findStatic(TlsTransport.class, "push", type),
                    Gnutls.gnutls_push_func, Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** ssize_t pull(gnutls_transport_ptr_t block, void *buf, size_t len) */
    @SuppressWarnings("unused")
    private static long pull(MemorySegment blockPtr, MemorySegment buf, long len) {
        MemorySegment block = blockPtr.reinterpret(BLOCK_SIZE);
        try {
            long start = block.get(JAVA_LONG, IN_START);
            long end = block.get(JAVA_LONG, IN_END);
            long n = Math.min(len, end - start);
            if (n <= 0) {
                if (block.get(JAVA_LONG, IN_EOF) != 0) {
                    return 0;
                }
                Gt.setErrno(block.get(ADDRESS, SESSION), Errno.EAGAIN);
                return -1;
            }
            MemorySegment in = block.get(ADDRESS, IN_BASE).reinterpret(block.get(JAVA_LONG, IN_CAP));
            MemorySegment.copy(in, start, buf.reinterpret(n), 0, n);
            block.set(JAVA_LONG, IN_START, start + n);
            return n;
        } catch (Throwable t) {
            return fail(block);
        }
    }

    /** ssize_t push(gnutls_transport_ptr_t block, const void *buf, size_t len) */
    @SuppressWarnings("unused")
    private static long push(MemorySegment blockPtr, MemorySegment buf, long len) {
        MemorySegment block = blockPtr.reinterpret(BLOCK_SIZE);
        try {
            long cap = block.get(JAVA_LONG, OUT_CAP);
            long end = block.get(JAVA_LONG, OUT_END);
            long n = Math.min(len, cap - end);
            if (n <= 0) {
                block.set(JAVA_LONG, OUT_BLOCKED, 1L);
                Gt.setErrno(block.get(ADDRESS, SESSION), Errno.EAGAIN);
                return -1;
            }
            MemorySegment out = block.get(ADDRESS, OUT_BASE).reinterpret(cap);
            MemorySegment.copy(buf.reinterpret(n), 0, out, end, n);
            block.set(JAVA_LONG, OUT_END, end + n);
            return n;
        } catch (Throwable t) {
            return fail(block);
        }
    }

    private static long fail(MemorySegment block) {
        try {
            Gt.setErrno(block.get(ADDRESS, SESSION), Errno.EIO);
        } catch (Throwable ignored) {
            // nothing more can be done inside an upcall
        }
        return -1;
    }
}
