/**
 * The NBD export: QEMU's NBD server (nbd/server.c, blockdev-nbd.c) on io_uring IoThreads.
 *
 * <ul>
 *   <li>{@link io.isthmus.engine.export.nbd.NbdHandshake}: the fixed-newstyle handshake as a pure state machine
 *       (bytes in, bytes out), with QEMU's option handling, reply types and texts; meta contexts in
 *       {@link io.isthmus.engine.export.nbd.NbdMetaContexts} with QEMU's ids and LIST patterns.</li>
 *   <li>{@link io.isthmus.engine.export.nbd.NbdRequest} / {@link io.isthmus.engine.export.nbd.NbdReplies}: the
 *       transmission codecs (simple, structured and extended headers) and QEMU's request checks.</li>
 *   <li>{@link io.isthmus.engine.export.nbd.NbdServer}: a {@link io.isthmus.engine.net.ListeningSocket} (unix,
 *       inet, inherited fd) accepted on an IoThread through a {@link io.isthmus.engine.net.RingAcceptor}, connection limit (the listener stops accepting at the limit), handshake timeout, export table.
 *       {@code NbdNegotiation} runs the handshake on the listener thread (and STARTTLS through
 *       {@link io.isthmus.engine.tls.TlsSession}); then the socket moves to {@code NbdConnection} on one of the
 *       export's IoThreads (round-robin) behind a {@link io.isthmus.engine.net.Transport} (plain, or TLS through
 *       {@link io.isthmus.engine.tls.TlsStreamTransport}; the connection never sees which): requests are received in batches into a per-connection buffer,
 *       large write payloads straight into the buffer that is written, reads land in the buffer that is sent,
 *       and a batch's replies leave in one sendmsg with header and payload iovecs. 64 preallocated request slots
 *       per connection; no allocation per request on the plaintext path. TLS connections take a slower path
 *       (decrypt into the receive or payload buffer, encrypt replies from the slots).</li>
 *   <li>{@link io.isthmus.engine.export.nbd.NbdExportDriver} (options: {@link io.isthmus.engine.export.nbd.NbdExportOptions},
 *       parsed from the block-export-add members; permissions: everything shared but resize) and
 *       {@link io.isthmus.engine.export.nbd.NbdExport}. Dirty bitmaps are NBD's alone:
 *       {@link io.isthmus.engine.export.nbd.NbdBitmap}, found through the server's
 *       {@link io.isthmus.engine.export.nbd.NbdServer.BitmapLookup} ({@link io.isthmus.engine.export.nbd.NbdBitmaps}
 *       over the block graph, with QEMU's texts).</li>
 * </ul>
 *
 * <p>Deliberate differences from QEMU: exports accept the list form of {@code iothread} (connections spread over
 * IoThreads; QEMU refuses multi-threaded NBD exports); 64 requests in flight per client instead of 16; option
 * payloads of INFO/GO/meta-context options above 1 MiB are refused with NBD_REP_ERR_TOO_BIG instead of being read.
 */
package io.isthmus.engine.export.nbd;
