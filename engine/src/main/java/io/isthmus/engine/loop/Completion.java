package io.isthmus.engine.loop;

/**
 * Receives the completion of one io_uring operation, on the IoThread that submitted it.
 *
 * <p>Implementations are long-lived objects (a connection, a request slot, a queue), preallocated and reused:
 * the {@code tag} passed at submission comes back unchanged, so one object can tell its operations apart
 * without allocating a callback per operation. {@code res} is the kernel's result: {@code >= 0} on success,
 * {@code -errno} on failure ({@code -ECANCELED} after a cancel or on shutdown). {@code flags} are the CQE flags
 * ({@code IORING_CQE_F_MORE} while a multishot operation keeps going).
 *
 * <p>Must not throw: an exception is logged and swallowed by the loop, and the operation counts as completed.
 */
@FunctionalInterface
public interface Completion {
    void complete(int res, int flags, long tag);
}
