/**
 * The export lifecycle shared by every export type (QEMU's block/export/export.c), and the contract an export type
 * implements.
 *
 * <h2>The lifecycle (common to all types, not changed by adding one)</h2>
 * {@link io.isthmus.engine.export.ExportManager} holds the driver table and the export list, newest first. Every
 * block-export-add goes the same way: the control plane hands over the validated members
 * ({@link io.isthmus.engine.export.ExportArgs}); the common ones become {@link io.isthmus.engine.export.ExportOptions}
 * and are checked in QEMU's order with its texts (id, driver, node, read-only, iothreads, inactive); the type's driver
 * reads its own members into its typed options; the node is attached with the permissions the driver asks for
 * ({@link io.isthmus.engine.export.NodeAccess}: the export's own block-graph user, like QEMU's BlockBackend); then
 * the driver creates the export. {@link io.isthmus.engine.export.BlockExport} counts references: the export's own
 * while the user owns it, one per admitted client ({@code admitClient}: a client is either refused or seen by the
 * shutdown). block-export-del safe refuses while clients hold references ("export 'x' still in use"), hard asks the
 * driver to drop them; the last unref deletes the export, detaches the node and fires
 * {@link io.isthmus.engine.export.ExportListener#exportDeleted} (BLOCK_EXPORT_DELETED) once.
 *
 * <h2>Adding an export type (vhost-user-blk, FUSE)</h2>
 * A new type lives in its own package and implements three things; nothing in this package, in the control plane's
 * command handlers or in the NBD code changes:
 * <ol>
 *   <li>an options record of its QAPI branch's members, read in
 *       {@link io.isthmus.engine.export.ExportDriver#parseOptions} from {@link io.isthmus.engine.export.ExportArgs}
 *       (strings, booleans, numbers, lists, nested objects);</li>
 *   <li>{@link io.isthmus.engine.export.ExportDriver ExportDriver&lt;Options&gt;}: the type name, whether the list
 *       form of {@code iothread} is accepted, whether inactive nodes are, the
 *       {@link io.isthmus.engine.block.BlockPerm} bits it takes ({@code permissions}: QEMU's consistent read + write
 *       when writable by default; a growable FUSE export adds resize) and shares ({@code sharedPermissions}: all by
 *       default; NBD takes away resize), and {@code create};</li>
 *   <li>a subclass of {@link io.isthmus.engine.export.BlockExport}: {@code requestShutdown} (drop every client),
 *       {@code delete} (free what it owns), {@code admitClient} for each connection or queue, and I/O through
 *       {@link io.isthmus.engine.export.NodeAccess#submit} on its IoThreads. Through the access it may also
 *       {@link io.isthmus.engine.export.NodeAccess#truncate truncate} the node (with the resize permission) and
 *       register a {@link io.isthmus.engine.export.NodeListener} to hear length changes (vhost-user-blk: config
 *       change to the guest) and drained sections (stop taking requests; those submitted meanwhile wait and run
 *       after).</li>
 * </ol>
 * The driver is registered once with {@link io.isthmus.engine.export.ExportManager#registerDriver}, and its test is a
 * thin subclass of the engine's {@code ExportContractTest}.
 *
 * <p>Threads: add, delete, truncate and listener calls on the control thread; the data path on IoThreads; references
 * and client admission from any thread.
 */
package io.isthmus.engine.export;
