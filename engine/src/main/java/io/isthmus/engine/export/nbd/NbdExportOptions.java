package io.isthmus.engine.export.nbd;

import java.util.List;

/**
 * The NBD-specific members of block-export-add type=nbd ({@code BlockExportOptionsNbd}). {@code name} null
 * means the node-name; each bitmap is a name on the exported node (or below it), or {@code node} + {@code name}.
 */
public record NbdExportOptions(String name, String description, List<BitmapRef> bitmaps, boolean allocationDepth) {
    /** A bitmap to export: on {@code node} when given, else looked up from the exported node down. */
    public record BitmapRef(String node, String name) {
    }
}
