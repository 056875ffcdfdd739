package io.isthmus.engine.export.nbd;

/**
 * The seam between "bytes on the socket" and "NBD protocol bytes" for STARTTLS: a non-blocking server TLS
 * session. The connection feeds it ciphertext read from the socket and sends what it produces; NBD bytes go in
 * and come out in plaintext. Implemented by the TLS layer; plaintext connections never touch it.
 *
 * <p>Thread use: one IoThread (the connection's). No I/O of its own.
 */
public interface NbdTlsSession {
    /** Ciphertext received from the socket. */
    void receiveCiphertext(byte[] data, int off, int len);

    /** Plaintext to encrypt and send. */
    void sendPlaintext(byte[] data, int off, int len);

    /** Decrypted bytes for the NBD layer (may be empty); clears them. */
    byte[] takePlaintext();

    /** Ciphertext the socket must send (handshake records, encrypted data); clears it. */
    byte[] takeCiphertext();

    boolean handshakeComplete();

    /** Non-null once the session failed (handshake refused, authz denied, bad record): close the connection. */
    String failure();
}
