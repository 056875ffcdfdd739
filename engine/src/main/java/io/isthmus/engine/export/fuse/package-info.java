/**
 * The FUSE export's serving core: one block node presented as one regular file mounted on a regular file.
 *
 * <ul>
 *   <li>{@link io.isthmus.engine.export.fuse.FuseExportDriver} (the "fuse" row of the export-driver table, options in
 *       {@link io.isthmus.engine.export.fuse.FuseExportOptions}) and {@link io.isthmus.engine.export.fuse.FuseExport}
 *       (the glue: mount, serve, resize on the control thread, a reference per open handle, stop, unmount,
 *       detach).</li>
 *   <li>{@link io.isthmus.engine.export.fuse.FuseMount}: libfuse3 (through the bindings) creates the session and
 *       mounts with QEMU's checks, texts and options; libfuse serves no request. A
 *       {@link io.isthmus.engine.export.fuse.FuseUnmountWatcher} removes the mount when the daemon dies without
 *       unmounting.</li>
 *   <li>{@link io.isthmus.engine.export.fuse.FuseServer}: a {@code FuseQueue} per IoThread, on the session fd and
 *       on clones ({@code FUSE_DEV_IOC_CLONE}); requests are read through the IoThread's ring into preallocated
 *       slot buffers laid out so that a WRITE's payload is page-aligned, served with block requests straight into
 *       and out of those buffers, and answered by one vectored write.</li>
 *   <li>{@link io.isthmus.engine.export.fuse.FuseRequest} (decoder), {@link io.isthmus.engine.export.fuse.FuseReplies}
 *       (encoders), {@link io.isthmus.engine.export.fuse.FuseInit} (negotiation),
 *       {@link io.isthmus.engine.export.fuse.FuseFile} (attributes and QEMU's SETATTR rules),
 *       {@link io.isthmus.engine.export.fuse.FuseNodeControl} (resize, allocated size: mapped by the export driver
 *       to the node access).</li>
 * </ul>
 *
 * <p>FUSE over io_uring (kernel 6.14+, {@code /sys/module/fuse/parameters/enable_uring}) would replace the reads
 * and reply writes with {@code IORING_OP_URING_CMD} entries (REGISTER, then COMMIT_AND_FETCH per request) on the
 * same rings: it needs 128-byte SQEs ({@code IORING_SETUP_SQE128}) in {@code Ring}, entries for every CPU's queue
 * spread over the export's IoThreads, {@code FUSE_OVER_IO_URING} in the INIT reply (flags2, with INIT_EXT), and the
 * /dev/fuse queue kept for INIT, interrupts and notifications.
 */
package io.isthmus.engine.export.fuse;
