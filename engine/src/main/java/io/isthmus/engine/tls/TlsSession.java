package io.isthmus.engine.tls;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.isthmus.bindings.Gnutls;
import io.isthmus.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One TLS connection over GnuTLS, driven without threads or blocking: the owner moves ciphertext between the
 * socket and this session's buffers, and plaintext between its protocol and {@link #read}/{@link #write}.
 *
 * <h2>Driving it</h2>
 * <pre>
 *   socket data arrived   -> recv into {@link #inputSpace()}, then {@link #inputReceived(long)}
 *                            (or copy it in with {@link #feed}); peer closed -> {@link #inputEof()}
 *   while handshaking     -> {@link #handshake()} after every input and after every drained output
 *   established           -> {@link #read} until it returns {@link #AGAIN}; {@link #write} app data
 *   always                -> send {@link #pendingOutput()} when non-empty, then {@link #outputSent(long)}
 * </pre>
 * The handshake outcome includes QEMU's checks on the peer: for x509 with verify-peer, the client certificate
 * is verified against the CA, its validity dates checked, its distinguished name recorded and, if an
 * {@link Authz} is given, authorised ({@code TLS x509 authz check for DN is denied}). A failed session reports
 * why in {@link #failure()} (QEMU's texts) and may still have an alert in {@link #pendingOutput()}.
 *
 * <h2>Threads and memory</h2>
 * One thread at a time (the connection's IoThread); create it anywhere. The session owns a shared arena holding
 * the transport block and the two ciphertext buffers (sizes fixed at creation); {@link #close()} frees them, the
 * GnuTLS session, and its reference on the credentials. The region returned by {@link #pendingOutput()} stays
 * valid and unchanged until {@link #outputSent} (one send in flight); {@link #inputSpace()} may move buffered
 * input, so call it only when no receive into the previous space is in flight. Plaintext segments passed to
 * {@link #read}/{@link #write} must be native. Return convention of the data calls: a byte count {@code >= 0},
 * or one of the negative constants below.
 */
public final class TlsSession implements AutoCloseable {
    /** Largest TLS plaintext fragment. */
    public static final int MAX_FRAGMENT = 16384;
    /** Room reserved per record for header, MAC/tag, padding (TLS 1.2 allows 2048 of expansion). */
    static final int RECORD_OVERHEAD = 2048 + 5;
    /** A whole record on the wire. */
    public static final int MAX_WIRE_RECORD = MAX_FRAGMENT + RECORD_OVERHEAD;
    public static final int DEFAULT_INPUT_CAPACITY = 2 * MAX_WIRE_RECORD;
    public static final int DEFAULT_OUTPUT_CAPACITY = 4 * MAX_WIRE_RECORD;

    /** {@link #read}: no complete record yet; feed more input (and flush output). */
    public static final long AGAIN = 0;
    /** {@link #read}: the peer ended the stream (close_notify, or the socket closed). */
    public static final long EOF = -1;
    /** {@link #read}/{@link #write}: the session failed; see {@link #failure()}. */
    public static final long FAILED = -2;

    public enum State { HANDSHAKING, ESTABLISHED, FAILED, CLOSED }

    private final TlsCredentials creds;
    private final TlsEndpoint endpoint;
    private final Authz authz;
    private final String hostname;
    private final Arena arena;
    private final MemorySegment block;
    private final MemorySegment in;
    private final MemorySegment out;
    private MemorySegment session = MemorySegment.NULL;
    private State state = State.HANDSHAKING;
    private String failure;
    private String peerName;
    private String pskUsername;
    /** Bytes of a record GnuTLS encrypted but could not push; re-offered by the caller's next write. */
    private long stalledSend;
    private boolean freed;

    private TlsSession(TlsCredentials creds, TlsEndpoint endpoint, Authz authz, String hostname, int inCap,
                       int outCap) {
        if (inCap < MAX_WIRE_RECORD || outCap < MAX_WIRE_RECORD) {
            throw new IllegalArgumentException("TLS buffers must hold at least one record (" + MAX_WIRE_RECORD
                    + " bytes)");
        }
        this.creds = creds;
        this.endpoint = endpoint;
        this.authz = authz;
        this.hostname = hostname;
        this.arena = Arena.ofShared();
        this.block = arena.allocate(TlsTransport.BLOCK_SIZE, 8);
        this.in = arena.allocate(inCap, 64);
        this.out = arena.allocate(outCap, 64);
        block.set(ADDRESS, TlsTransport.IN_BASE, in);
        block.set(JAVA_LONG, TlsTransport.IN_CAP, inCap);
        block.set(ADDRESS, TlsTransport.OUT_BASE, out);
        block.set(JAVA_LONG, TlsTransport.OUT_CAP, outCap);
    }

    /**
     * A server session (the NBD server after NBD_OPT_STARTTLS), with the default buffer sizes.
     *
     * @param authz checked against the client certificate's DN after the handshake (x509 with verify-peer, as
     *              QEMU), or null
     * @throws EngineException with QEMU's text if the session cannot be set up (endpoint mismatch, priority)
     */
    public static TlsSession server(TlsCredentials creds, Authz authz) {
        return open(creds, TlsEndpoint.SERVER, authz, null, DEFAULT_INPUT_CAPACITY, DEFAULT_OUTPUT_CAPACITY);
    }

    /** A server session with explicit buffer capacities (each at least {@link #MAX_WIRE_RECORD}). */
    public static TlsSession server(TlsCredentials creds, Authz authz, int inputCapacity, int outputCapacity) {
        return open(creds, TlsEndpoint.SERVER, authz, null, inputCapacity, outputCapacity);
    }

    /** A client session; {@code hostname} is checked against the server certificate (x509 with verify-peer). */
    public static TlsSession client(TlsCredentials creds, String hostname) {
        return open(creds, TlsEndpoint.CLIENT, null, hostname, DEFAULT_INPUT_CAPACITY, DEFAULT_OUTPUT_CAPACITY);
    }

    private static TlsSession open(TlsCredentials creds, TlsEndpoint endpoint, Authz authz, String hostname,
                                   int inCap, int outCap) {
        if (creds.endpoint() != endpoint) {
            throw new EngineException("Credentials endpoint doesn't match session");
        }
        creds.retain();
        TlsSession s;
        try {
            s = new TlsSession(creds, endpoint, authz, hostname, inCap, outCap);
        } catch (RuntimeException | Error e) {
            creds.release();
            throw e;
        }
        try {
            s.init();
            return s;
        } catch (RuntimeException | Error e) {
            s.close();
            throw e;
        }
    }

    private void init() {
        int flags = (endpoint == TlsEndpoint.SERVER ? Gnutls.GNUTLS_SERVER : Gnutls.GNUTLS_CLIENT)
                | Gnutls.GNUTLS_NONBLOCK | Gnutls.GNUTLS_NO_SIGNAL;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sp = a.allocate(ADDRESS);
            int r = (int) Gnutls.gnutls_init().invokeExact(sp, flags);
            if (r < 0) {
                throw new EngineException("Cannot initialize TLS session: " + Gt.strerror(r));
            }
            session = sp.get(ADDRESS, 0);
            block.set(ADDRESS, TlsTransport.SESSION, session);
            String prio = creds.sessionPriority();
            r = (int) Gnutls.gnutls_priority_set_direct().invokeExact(session, a.allocateFrom(prio),
                    MemorySegment.NULL);
            if (r < 0) {
                throw new EngineException(creds.priorityErrorPrefix() + prio + ": " + Gt.strerror(r));
            }
            r = (int) Gnutls.gnutls_credentials_set().invokeExact(session, creds.credentialsType(), creds.handle());
            if (r < 0) {
                throw new EngineException("Cannot set session credentials: " + Gt.strerror(r));
            }
            if (creds instanceof X509Credentials && endpoint == TlsEndpoint.SERVER) {
                // Request, do not require: the check after the handshake enforces (and words the error) as QEMU.
                Gnutls.gnutls_certificate_server_set_request().invokeExact(session, Gnutls.GNUTLS_CERT_REQUEST);
            }
            Gnutls.gnutls_transport_set_ptr().invokeExact(session, block);
            Gnutls.gnutls_transport_set_push_function().invokeExact(session, TlsTransport.PUSH_STUB);
            Gnutls.gnutls_transport_set_pull_function().invokeExact(session, TlsTransport.PULL_STUB);
        } catch (EngineException e) {
            throw e;
        } catch (Throwable t) {
            throw Gt.rethrow(t);
        }
    }

    // ------------------------------------------------------------------ ciphertext in

    /**
     * Free space at the end of the input buffer to receive socket data into (compacting buffered input first);
     * empty when the buffer is full (the owner should then {@link #read} or {@link #handshake} first).
     */
    public MemorySegment inputSpace() {
        long start = block.get(JAVA_LONG, TlsTransport.IN_START);
        long end = block.get(JAVA_LONG, TlsTransport.IN_END);
        if (start > 0) {
            if (end > start) {
                MemorySegment.copy(in, start, in, 0, end - start);
            }
            end -= start;
            block.set(JAVA_LONG, TlsTransport.IN_START, 0L);
            block.set(JAVA_LONG, TlsTransport.IN_END, end);
        }
        return in.asSlice(end, in.byteSize() - end);
    }

    /** {@code n} bytes were received into the space {@link #inputSpace()} returned. */
    public void inputReceived(long n) {
        long end = block.get(JAVA_LONG, TlsTransport.IN_END);
        if (n < 0 || end + n > in.byteSize()) {
            throw new IllegalArgumentException("received " + n + " bytes into " + (in.byteSize() - end));
        }
        block.set(JAVA_LONG, TlsTransport.IN_END, end + n);
    }

    /** Copies as much of {@code ciphertext} as fits into the input buffer; returns the number of bytes taken. */
    public long feed(MemorySegment ciphertext) {
        MemorySegment space = inputSpace();
        long n = Math.min(space.byteSize(), ciphertext.byteSize());
        MemorySegment.copy(ciphertext, 0, space, 0, n);
        inputReceived(n);
        return n;
    }

    /** The peer closed its side of the socket: GnuTLS will see the end of the stream after buffered input. */
    public void inputEof() {
        block.set(JAVA_LONG, TlsTransport.IN_EOF, 1L);
    }

    /** Ciphertext buffered and not yet consumed by GnuTLS. */
    public long bufferedInput() {
        return block.get(JAVA_LONG, TlsTransport.IN_END) - block.get(JAVA_LONG, TlsTransport.IN_START);
    }

    // ------------------------------------------------------------------ ciphertext out

    /** Ciphertext to send to the peer (possibly empty). Stable until {@link #outputSent}. */
    public MemorySegment pendingOutput() {
        long start = block.get(JAVA_LONG, TlsTransport.OUT_START);
        long end = block.get(JAVA_LONG, TlsTransport.OUT_END);
        return out.asSlice(start, end - start);
    }

    public boolean hasPendingOutput() {
        return block.get(JAVA_LONG, TlsTransport.OUT_END) > block.get(JAVA_LONG, TlsTransport.OUT_START);
    }

    /**
     * {@code n} bytes of {@link #pendingOutput()} were sent. The rest moves to the front of the buffer. Returns
     * true if GnuTLS had been stopped by a full buffer: call {@link #handshake()} (or {@link #write}) again.
     */
    public boolean outputSent(long n) {
        long start = block.get(JAVA_LONG, TlsTransport.OUT_START);
        long end = block.get(JAVA_LONG, TlsTransport.OUT_END);
        if (n < 0 || start + n > end) {
            throw new IllegalArgumentException("sent " + n + " of " + (end - start) + " bytes");
        }
        start += n;
        if (start > 0) {
            if (end > start) {
                MemorySegment.copy(out, start, out, 0, end - start);
            }
            end -= start;
            start = 0;
        }
        block.set(JAVA_LONG, TlsTransport.OUT_START, start);
        block.set(JAVA_LONG, TlsTransport.OUT_END, end);
        boolean wasBlocked = block.get(JAVA_LONG, TlsTransport.OUT_BLOCKED) != 0;
        block.set(JAVA_LONG, TlsTransport.OUT_BLOCKED, 0L);
        return wasBlocked;
    }

    // ------------------------------------------------------------------ handshake

    /** Advances the handshake with the input buffered so far; returns the state afterwards. */
    public State handshake() {
        if (state != State.HANDSHAKING) {
            return state;
        }
        int r = Gt.handshake(session);
        if (r == 0) {
            try {
                checkCredentials();
                state = State.ESTABLISHED;
            } catch (EngineException e) {
                fail(e.getMessage());
            }
        } else if (r != Gnutls.GNUTLS_E_AGAIN && r != Gnutls.GNUTLS_E_INTERRUPTED) {
            fail("TLS handshake failed: " + Gt.strerror(r));
        }
        return state;
    }

    private void checkCredentials() {
        if (creds instanceof PskCredentials && endpoint == TlsEndpoint.SERVER) {
            try {
                pskUsername = Gt.cString((MemorySegment) Gnutls.gnutls_psk_server_get_username().invokeExact(session));
            } catch (Throwable t) {
                throw Gt.rethrow(t);
            }
        } else if (creds instanceof X509Credentials && creds.verifyPeer()) {
            checkCertificate();
        }
    }

    /** QEMU's qcrypto_tls_session_check_certificate, same order and texts. */
    private void checkCertificate() {
        long now = System.currentTimeMillis() / 1000;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment status = a.allocate(JAVA_INT);
            int r = (int) Gnutls.gnutls_certificate_verify_peers2().invokeExact(session, status);
            if (r < 0) {
                throw new EngineException("Verify failed: " + Gt.strerror(r));
            }
            int st = status.get(JAVA_INT, 0);
            if (st != 0) {
                throw new EngineException(X509Cert.statusReason(st));
            }
            MemorySegment count = a.allocate(JAVA_INT);
            MemorySegment certs = (MemorySegment) Gnutls.gnutls_certificate_get_peers().invokeExact(session, count);
            if (certs.equals(MemorySegment.NULL)) {
                throw new EngineException("No certificate peers");
            }
            int n = count.get(JAVA_INT, 0);
            certs = certs.reinterpret(Gnutls.gnutls_datum_t.byteSize() * n);
            int[] err = new int[1];
            for (int i = 0; i < n; i++) {
                MemorySegment datum = certs.asSlice(Gnutls.gnutls_datum_t.byteSize() * i,
                        Gnutls.gnutls_datum_t.byteSize());
                try (X509Cert cert = X509Cert.importDatum(datum, Gnutls.GNUTLS_X509_FMT_DER, err)) {
                    if (cert == null) {
                        throw new EngineException("Cannot import certificate: " + Gt.strerror(err[0]));
                    }
                    if (cert.expirationTime() < now) {
                        throw new EngineException("The certificate has expired");
                    }
                    if (cert.activationTime() > now) {
                        throw new EngineException("The certificate is not yet activated");
                    }
                    if (i == 0) {
                        peerName = cert.dn();
                        if (authz != null && !authz.isAllowed(peerName)) {
                            throw new EngineException("TLS x509 authz check for " + peerName + " is denied");
                        }
                        if (hostname != null) {
                            if (!cert.checkHostname(hostname)) {
                                throw new EngineException("Certificate does not match the hostname " + hostname);
                            }
                        } else if (endpoint == TlsEndpoint.CLIENT) {
                            throw new EngineException("No hostname for certificate validation");
                        }
                    }
                }
            }
        } catch (EngineException e) {
            throw e;
        } catch (Throwable t) {
            throw Gt.rethrow(t);
        }
    }

    // ------------------------------------------------------------------ application data

    /**
     * Decrypts buffered input into {@code dst} (native): bytes read ({@code > 0}), {@link #AGAIN} when no complete
     * record is buffered, {@link #EOF}, or {@link #FAILED}. Call until it returns {@link #AGAIN}: GnuTLS may hold
     * several records.
     */
    public long read(MemorySegment dst) {
        if (state != State.ESTABLISHED) {
            return state == State.CLOSED ? EOF : FAILED;
        }
        if (dst.byteSize() == 0) {
            return AGAIN;
        }
        long r = Gt.recordRecv(session, dst, dst.byteSize());
        if (r > 0) {
            return r;
        }
        if (r == 0 || r == Gnutls.GNUTLS_E_PREMATURE_TERMINATION) {
            return EOF;
        }
        if (r == Gnutls.GNUTLS_E_AGAIN || r == Gnutls.GNUTLS_E_INTERRUPTED) {
            return AGAIN;
        }
        fail("Cannot read from TLS channel: " + Gt.strerror((int) r));
        return FAILED;
    }

    /** Decrypted bytes GnuTLS holds from a record larger than the last {@link #read}'s destination. */
    public long pendingPlaintext() {
        return state == State.ESTABLISHED ? Gt.recordCheckPending(session) : 0;
    }

    /**
     * Encrypts as much of {@code src} (native) as the output buffer has room for, in records of at most
     * {@link #MAX_FRAGMENT} bytes; returns the number of bytes consumed ({@code 0} when the output buffer is full:
     * send {@link #pendingOutput()} first), or {@link #FAILED}. Bytes not consumed must be offered again.
     */
    public long write(MemorySegment src) {
        if (state != State.ESTABLISHED) {
            return FAILED;
        }
        long size = src.byteSize();
        long done = 0;
        if (stalledSend > 0) {
            // GnuTLS holds an encrypted record of the first stalledSend bytes of src: flush it first.
            long r = Gt.recordSend(session, MemorySegment.NULL, 0);
            if (r == Gnutls.GNUTLS_E_AGAIN || r == Gnutls.GNUTLS_E_INTERRUPTED) {
                return 0;
            }
            if (r < 0) {
                fail("Cannot write to TLS channel: " + Gt.strerror((int) r));
                return FAILED;
            }
            done = Math.min(stalledSend, size);
            stalledSend = 0;
        }
        long max = MAX_FRAGMENT;
        while (done < size) {
            long free = out.byteSize() - block.get(JAVA_LONG, TlsTransport.OUT_END);
            if (free < RECORD_OVERHEAD + 1) {
                break;
            }
            long chunk = Math.min(size - done, Math.min(max, free - RECORD_OVERHEAD));
            long r = Gt.recordSend(session, src.asSlice(done, chunk), chunk);
            if (r > 0) {
                done += r;
            } else if (r == Gnutls.GNUTLS_E_AGAIN || r == Gnutls.GNUTLS_E_INTERRUPTED) {
                stalledSend = chunk;
                break;
            } else {
                fail("Cannot write to TLS channel: " + Gt.strerror((int) r));
                return FAILED;
            }
        }
        return done;
    }

    /**
     * Queues a close_notify alert ({@code gnutls_bye(GNUTLS_SHUT_WR)}): send {@link #pendingOutput()} afterwards.
     * Further reads and writes report {@link #EOF}/{@link #FAILED}.
     */
    public void bye() {
        if (state == State.ESTABLISHED) {
            Gt.bye(session, Gnutls.GNUTLS_SHUT_WR);
            state = State.CLOSED;
        }
    }

    private void fail(String message) {
        state = State.FAILED;
        failure = message;
    }

    // ------------------------------------------------------------------ state and peer

    public State state() {
        return state;
    }

    /** Why the session failed (QEMU's text), or null. */
    public String failure() {
        return failure;
    }

    /** The client certificate's distinguished name (x509 with verify-peer, after the handshake), or null. */
    public String peerName() {
        return peerName;
    }

    /** The PSK username the client presented (PSK server, after the handshake), or null. */
    public String pskUsername() {
        return pskUsername;
    }

    /** The peer's identity for authorization: the certificate DN, else the PSK username, else null. */
    public String identity() {
        return peerName != null ? peerName : pskUsername;
    }

    /** Negotiated protocol name (e.g. "TLS1.3"), for diagnostics. */
    public String protocol() {
        return session.equals(MemorySegment.NULL) ? null : Gt.protocolName(session);
    }

    /** Negotiated cipher name (e.g. "AES-256-GCM"), for diagnostics. */
    public String cipher() {
        return session.equals(MemorySegment.NULL) ? null : Gt.cipherName(session);
    }

    public TlsCredentials credentials() {
        return creds;
    }

    /** Frees the GnuTLS session, the buffers and the reference on the credentials. Idempotent. */
    @Override
    public void close() {
        if (freed) {
            return;
        }
        freed = true;
        if (!session.equals(MemorySegment.NULL)) {
            Gt.free(Gnutls.gnutls_deinit(), session);
            session = MemorySegment.NULL;
        }
        if (state == State.HANDSHAKING || state == State.ESTABLISHED) {
            state = State.CLOSED;
        }
        arena.close();
        creds.release();
    }
}
