package io.isthmus.engine.export.nbd;

import io.isthmus.engine.export.ExportArgs;
import java.util.ArrayList;
import java.util.List;

/**
 * The NBD-specific members of block-export-add type=nbd ({@code BlockExportOptionsNbd}). {@code name} null
 * means the node-name; each bitmap is a name on the exported node (or below it), or {@code node} + {@code name}.
 */
public record NbdExportOptions(String name, String description, List<BitmapRef> bitmaps, boolean allocationDepth) {
    /** No name (the node-name), no description, no bitmaps, no allocation depth. */
    public static final NbdExportOptions DEFAULTS = new NbdExportOptions(null, null, null, false);

    /**
     * The members of {@code BlockExportOptionsNbd} (and of the deprecated nbd-server-add, which has the same
     * names): {@code bitmaps} is a list of the alternate {@code str | {node, name}}.
     */
    public static NbdExportOptions parse(ExportArgs a) {
        List<BitmapRef> bitmaps = null;
        List<Object> l = a.list("bitmaps");
        if (l != null) {
            bitmaps = new ArrayList<>(l.size());
            for (Object o : l) {
                if (o instanceof ExportArgs m) {
                    bitmaps.add(new BitmapRef(m.string("node"), m.string("name")));
                } else {
                    bitmaps.add(new BitmapRef(null, (String) o));
                }
            }
        }
        return new NbdExportOptions(a.string("name"), a.string("description"), bitmaps, a.bool("allocation-depth"));
    }

    /** A bitmap to export: on {@code node} when given, else looked up from the exported node down. */
    public record BitmapRef(String node, String name) {
    }
}
