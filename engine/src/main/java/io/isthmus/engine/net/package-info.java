/**
 * Transport-neutral networking shared by the NBD server, vhost-user-blk and the control plane's socket
 * chardevs.
 *
 * <ul>
 *   <li>{@link io.isthmus.engine.net.SocketAddress}: QAPI's SocketAddress (unix path, inet host/port with
 *       {@code ipv4}/{@code ipv6}, inherited fd); {@link io.isthmus.engine.net.InetFamily}: QEMU's family
 *       matrix for {@code ipv4}/{@code ipv6} and the addresses a listener tries.</li>
 *   <li>{@link io.isthmus.engine.net.ListeningSocket}: create/bind/listen (or adopt an inherited fd) with QEMU's
 *       texts, blocking accept for control-plane threads, unlink of the UNIX path on close;
 *       {@link io.isthmus.engine.net.RingAcceptor}: accept on an IoThread's ring.</li>
 *   <li>{@link io.isthmus.engine.net.Transport}: the byte stream under a connection's protocol code, with
 *       {@link io.isthmus.engine.net.PlainTransport} (io_uring, no copies) and the TLS implementation in
 *       {@code io.isthmus.engine.tls}; the seam for SCM_RIGHTS descriptors (vhost-user) is
 *       {@link io.isthmus.engine.net.Transport.Sink#receivedFds}.</li>
 *   <li>{@link io.isthmus.engine.net.Fds}: blocking descriptor helpers for the control plane (so it needs no
 *       bindings).</li>
 * </ul>
 */
package io.isthmus.engine.net;
