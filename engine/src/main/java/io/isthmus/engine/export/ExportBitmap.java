package io.isthmus.engine.export;

/**
 * A dirty bitmap as exports read it (NBD's qemu:dirty-bitmap contexts). Scans run on the IoThread of the
 * connection asking; implementations must make them safe against concurrent marking.
 */
public interface ExportBitmap {
    String name();

    boolean isEnabled();

    boolean isInconsistent();

    /** Marks the bitmap busy (used by an export) or not; false when it was already busy. */
    boolean setBusy(boolean busy);

    /** Whether byte {@code offset} is dirty. */
    boolean isDirty(long offset);

    /**
     * The end of the run of equal dirtiness starting at {@code offset}, capped at {@code end} (exclusive):
     * [offset, result) is all dirty or all clean.
     */
    long runEnd(long offset, long end);
}
