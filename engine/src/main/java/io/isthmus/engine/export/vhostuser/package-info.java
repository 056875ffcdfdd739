/**
 * The protocol core of the vhost-user-blk export: pure logic over native memory, each piece unit-tested and fuzzed;
 * the socket transport, fd reception (SCM_RIGHTS), the IoThread wiring of kick/call eventfds and the export driver
 * are built on top of it.
 *
 * <ul>
 *   <li>{@link io.isthmus.engine.export.vhostuser.VhostUserMessage}: the wire codec, strict per-request payload
 *       sizes; {@link io.isthmus.engine.export.vhostuser.VhostUser}: the protocol's constants.</li>
 *   <li>{@link io.isthmus.engine.export.vhostuser.VhostUserHandler}: one session's state machine (the back end),
 *       over {@link io.isthmus.engine.export.vhostuser.VhostUserChannel} (received fds, replies) and
 *       {@link io.isthmus.engine.export.vhostuser.VhostUserDevice} (the device: config, queue start/stop).</li>
 *   <li>{@link io.isthmus.engine.export.vhostuser.GuestMemory}: the only way to guest memory, overflow-checked;
 *       {@link io.isthmus.engine.export.vhostuser.InflightRegion} and
 *       {@link io.isthmus.engine.export.vhostuser.SplitInflightLog}: in-flight tracking across back-end restarts.</li>
 *   <li>{@link io.isthmus.engine.export.vhostuser.SplitVirtqueue} and
 *       {@link io.isthmus.engine.export.vhostuser.PackedVirtqueue}: hostile-descriptor-proof ring handling with
 *       explicit memory ordering, into preallocated {@link io.isthmus.engine.export.vhostuser.DescriptorChain}s.</li>
 *   <li>{@link io.isthmus.engine.export.vhostuser.VirtioBlkRequest} and
 *       {@link io.isthmus.engine.export.vhostuser.VirtioBlkConfig}: virtio-blk as QEMU's vhost-user-blk server
 *       checks and describes it, producing block-layer operations with iovecs straight into guest memory.</li>
 *   <li>The glue: {@link io.isthmus.engine.export.vhostuser.VhostUserBlkExportDriver} (the "vhost-user-blk" row of
 *       the export-driver table, its options in {@link io.isthmus.engine.export.vhostuser.VhostUserBlkExportOptions}),
 *       {@code VhostUserBlkExport} (the socket, one front end at a time, node events), {@code VhostUserSession} (the
 *       channel over the socket on the first IoThread's ring), {@code VirtioBlkDevice} (start/stop of queues across
 *       threads) and {@code VirtioBlkQueue}/{@code VirtioBlkSlot} (kick, pop, submit, complete on the queue's
 *       IoThread).</li>
 * </ul>
 */
package io.isthmus.engine.export.vhostuser;
