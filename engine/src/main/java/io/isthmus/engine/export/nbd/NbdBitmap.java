package io.isthmus.engine.export.nbd;

/**
 * A dirty bitmap as an NBD export publishes it ({@code qemu:dirty-bitmap:NAME} contexts). Found through
 * {@link NbdServer.BitmapLookup} when the export is created; marked busy while exported. Scans run on the IoThread
 * of the connection asking; implementations make them safe against concurrent marking.
 */
public interface NbdBitmap {
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
