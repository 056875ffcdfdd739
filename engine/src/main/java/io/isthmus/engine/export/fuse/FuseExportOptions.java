package io.isthmus.engine.export.fuse;

import io.isthmus.engine.export.ExportArgs;

/**
 * The FUSE-specific members of block-export-add type=fuse ({@code BlockExportOptionsFuse}): {@code mountpoint} (an
 * existing regular file), {@code growable} (writes past EOF grow the node; default false) and {@code allow-other}
 * (off, on, or auto: try with allow_other, then without; default auto). Immutable; any thread.
 */
public record FuseExportOptions(String mountpoint, boolean growable, FuseMount.AllowOther allowOther) {

    /** The members of a validated block-export-add (the schema made sure {@code mountpoint} is there). */
    public static FuseExportOptions parse(ExportArgs a) {
        String ao = a.string("allow-other");
        FuseMount.AllowOther allow = switch (ao == null ? "auto" : ao) {
            case "off" -> FuseMount.AllowOther.OFF;
            case "on" -> FuseMount.AllowOther.ON;
            default -> FuseMount.AllowOther.AUTO;
        };
        return new FuseExportOptions(a.string("mountpoint"), a.bool("growable"), allow);
    }
}
