package io.isthmus.engine.export.nbd;

import java.util.List;

/**
 * What the NBD handshake needs to know about one export: the facts QEMU advertises in NBD_OPT_LIST,
 * NBD_OPT_INFO/GO and the meta-context options. Implemented by {@link NbdExport}; tests use plain records.
 */
public interface NbdExportInfo {
    String name();

    /** Null when the export has none. */
    String description();

    /** Size in bytes as advertised (QEMU rounds the node length down to 512). */
    long size();

    /** Transmission flags before the per-client additions (DF, BLOCK_STAT_PAYLOAD). */
    int flags();

    /** The node's request alignment: the minimum block size advertised when the client asks for block sizes. */
    int requestAlignment();

    /** The maximum transfer size advertised (at most 32 MiB). */
    int maxTransfer();

    /** Whether {@code qemu:allocation-depth} is offered. */
    boolean allocationDepth();

    /** The names of the exported bitmaps, in order: context id of bitmap i is {@code 2 + i}. */
    List<String> bitmapNames();
}
