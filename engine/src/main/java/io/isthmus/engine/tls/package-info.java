/**
 * TLS for the NBD server (NBD_OPT_STARTTLS): credentials as QEMU's {@code tls-creds-x509}, {@code tls-creds-psk}
 * and {@code tls-creds-anon} objects load them, a non-blocking per-connection {@link io.isthmus.engine.tls.TlsSession},
 * and the authorization rules of {@code authz-simple}, {@code authz-list} and {@code authz-listfile}.
 *
 * <h2>Implementation choice: GnuTLS through FFM</h2>
 * The TLS engine is the system's GnuTLS (libgnutls.so.30, installed with QEMU), called through the Foreign
 * Function &amp; Memory API ({@code io.isthmus.bindings.Gnutls}, {@code GnutlsX509}). The alternatives were JSSE,
 * which cannot do PSK (and PSK is half of QEMU's TLS), and BouncyCastle's TLS API (bctls, non-blocking through
 * {@code TlsServerProtocol}). GnuTLS won on every count that matters for a drop-in replacement:
 * <ul>
 *   <li><b>Identical behaviour by construction.</b> QEMU's server is GnuTLS, and so are all its clients here
 *       (qemu-img, qemu-nbd, qemu-io, and libnbd's nbdinfo/nbdcopy). Using the same library with the same calls
 *       gives the same negotiated versions, cipher suites and alerts; the {@code priority} property is a GnuTLS
 *       priority string that only GnuTLS can interpret ("NORMAL", "@SYSTEM", "NORMAL:-VERS-TLS1.3", ...), with
 *       QEMU's suffixes for PSK ({@code :+ECDHE-PSK:+DHE-PSK:+PSK}) and anon ({@code :+ANON-DH}); keys.psk is
 *       read by GnuTLS's own {@code gnutls_psk_set_server_credentials_file}; CRLs, encrypted keys
 *       ({@code passwordid}) and certificate verification are GnuTLS's.</li>
 *   <li><b>The identity string authz rules are written against.</b> QEMU authorises the string
 *       {@code gnutls_x509_crt_get_dn} returns. GnuTLS 3.7 lists the RDNs in the certificate's encoding order
 *       (e.g. {@code C=GB,L=London,O=Example,CN=client.example.com} for a certtool-made certificate) with its own
 *       escaping; a Java X.500 formatter would produce a different string for the same certificate, and existing
 *       {@code authz-simple identity=...} configurations would stop matching. Here the same function is called.</li>
 *   <li><b>Speed.</b> Record encryption runs in nettle's assembly (AES-NI, PCLMUL, SHA extensions) and the
 *       handshake's public-key operations in GMP/nettle, at C speed with no garbage; the per-record cost of the
 *       FFM boundary (one downcall, one or two upcalls) is tens of nanoseconds next to microseconds of crypto on a
 *       16 KiB record. BouncyCastle's lightweight crypto is pure Java and allocates per record.</li>
 *   <li><b>Non-blocking fits.</b> GnuTLS takes custom push/pull functions. Two static upcall stubs
 *       ({@link io.isthmus.engine.tls.TlsTransport}) copy between GnuTLS and two per-connection native buffers
 *       described by a small native block, so GnuTLS never touches the socket: the IoThread receives straight into
 *       the session's input buffer and sends straight from its output buffer with io_uring, and GnuTLS answers
 *       EAGAIN when it needs more.</li>
 * </ul>
 * Cost of the choice: a native dependency (already present wherever QEMU is) and bindings to maintain; if the
 * library is missing, {@link io.isthmus.engine.tls.TlsCredentials#isSupported()} is false and creating
 * credentials fails with a clear error instead of the daemon failing to start.
 *
 * <h2>Deliberate differences from QEMU</h2>
 * <ul>
 *   <li>Without {@code dh-params.pem}, QEMU generates a new 2048-bit DH group when credentials are created (seconds
 *       of CPU); here the RFC 7919 ffdhe2048 group is used ({@code gnutls_*_set_known_dh_params}), which GnuTLS
 *       prefers anyway. A {@code dh-params.pem} in the directory is loaded as in QEMU.</li>
 *   <li>{@code authz-listfile} refresh: QEMU watches the file with inotify; here a change of the file
 *       (modification time, size, inode) is noticed at the next authorization check. The outcome for a client is
 *       the same.</li>
 * </ul>
 *
 * <h2>Threads and memory</h2>
 * Credentials are immutable after loading and reference counted (a server and each session hold a reference, so
 * object-del of credentials in use succeeds). A session is used by one thread at a time (its IoThread), owns a
 * shared arena with its buffers, and is freed by {@code close()}. Authz objects are safe from any thread.
 */
package io.isthmus.engine.tls;
