package io.isthmus.engine.export.nbd;

import java.util.List;

/** The exports a connection may choose from during the handshake (read on the connection's IoThread). */
public interface NbdExportTable {
    /** The export with this name, or null. */
    NbdExportInfo find(String name);

    /** Every export, oldest first (the order QEMU lists them in). */
    List<? extends NbdExportInfo> list();
}
