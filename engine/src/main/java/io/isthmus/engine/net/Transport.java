package io.isthmus.engine.net;

import io.isthmus.engine.loop.IoThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The byte stream under a connection's protocol code, as nbdkit swaps {@code conn->recv/send}: the protocol
 * receives into and sends from its own buffers and never learns whether the bytes cross the socket as they are
 * ({@link PlainTransport}: io_uring recv/sendmsg on the descriptor, payloads straight into and out of request
 * buffers) or through a TLS session ({@code io.isthmus.engine.tls.TlsStreamTransport}).
 *
 * <p>Model: at most one receive and one send in flight. {@link #recv} and {@link #sendv} either finish at once
 * (a TLS session may already hold decrypted bytes) or return {@link #PENDING} and report later through the
 * {@link Sink} given to {@link #start}; a pending operation always reports, also after {@link #shutdown}.
 *
 * <p>Descriptors passed with SCM_RIGHTS (vhost-user): a recvmsg-based plain transport receives with a control
 * buffer beside the data (its own, from the arena given to {@link #start}), and before it reports the bytes it
 * hands the descriptors of that message to {@link Sink#receivedFds}, whose default closes them (a peer
 * must not leak descriptors into a protocol that does not expect them). Neither method changes for it.
 *
 * <p>Thread use: the owner's IoThread only. Memory: the transport allocates what it needs from the arena given
 * to {@link #start} (the connection's); buffers passed in stay the caller's and must live until the operation
 * reports. Returns: byte counts {@code >= 0} or {@code -errno}.
 */
public interface Transport {
    /** The operation was started and will report through the {@link Sink}. */
    long PENDING = Long.MIN_VALUE;

    /** The connection's side of a transport; called on the IoThread. */
    interface Sink {
        /** A pending {@link #recv} finished: {@code res > 0} bytes are in its buffer, 0 end of stream, or -errno. */
        void received(long res);

        /** A pending {@link #sendv} finished: {@code res} bytes of its gather list went out, or -errno. */
        void sent(long res);

        /**
         * Descriptors that arrived with the bytes of the next {@link #received} (recvmsg transports only);
         * they belong to the sink. The default closes them.
         */
        default void receivedFds(int[] fds, int count) {
            for (int i = 0; i < count; i++) {
                Fds.close(fds[i]);
            }
        }
    }

    /** Binds the transport to its IoThread, owner and memory; before any other call. */
    void start(IoThread thread, Sink sink, Arena arena);

    /**
     * Receives into {@code buf} (at least one byte; {@code waitAll}: the caller wants all of it, e.g. a payload
     * received in place). Returns bytes received now ({@code > 0}), {@link #PENDING}, 0 at end of stream, or
     * -errno (see {@link #failure}).
     */
    long recv(MemorySegment buf, boolean waitAll);

    /**
     * Sends the gather list {@code iov} ({@code count} native {@code struct iovec}s, valid until it reports).
     * Returns bytes of the list sent now, {@link #PENDING}, or -errno. Fewer bytes than the list holds may go:
     * the caller sends the rest again.
     */
    long sendv(MemorySegment iov, int count);

    /** Shuts the socket down: pending operations finish (with an error or end of stream). */
    void shutdown();

    /** Frees the transport and closes the socket; only once nothing is pending. */
    void close();

    /** Why the last operation failed, in words (TLS), or null to use the errno. */
    String failure();
}
