/**
 * The export lifecycle shared by every export type (QEMU's block/export/export.c).
 *
 * <p>{@link io.isthmus.engine.export.ExportManager} holds the driver table ({@link io.isthmus.engine.export.ExportDriver}:
 * a type name, whether the list form of {@code iothread} is accepted, a create function taking the common
 * {@link io.isthmus.engine.export.ExportOptions} plus the type's own options object) and the export list, newest
 * first. Every type goes through the same add path (QEMU's check order and texts), attaches to its node through
 * {@link io.isthmus.engine.export.NodeAccess} (its own block-graph user, like QEMU's BlockBackend), and is deleted
 * the same way: {@link io.isthmus.engine.export.BlockExport} counts references (the export's own while the user
 * owns it, one per client connection / queue); block-export-del safe refuses while clients hold references, hard
 * asks the driver to drop them; the last unref deletes the export, detaches the node and fires
 * {@link io.isthmus.engine.export.ExportListener#exportDeleted} (BLOCK_EXPORT_DELETED). vhost-user-blk and FUSE
 * plug in as further drivers on the same IoThreads.
 */
package io.isthmus.engine.export;
