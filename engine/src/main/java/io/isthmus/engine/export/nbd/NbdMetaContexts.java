package io.isthmus.engine.export.nbd;

/**
 * The metadata contexts a client selected with NBD_OPT_SET_META_CONTEXT (or listed with LIST): for which
 * export, and which of {@code base:allocation}, {@code qemu:allocation-depth} and each exported bitmap. Context
 * ids follow QEMU: 0, 1, and 2 + bitmap index.
 */
public final class NbdMetaContexts {
    public NbdExportInfo export;
    public boolean baseAllocation;
    public boolean allocationDepth;
    public boolean[] bitmaps = new boolean[0];
    /** Number of selected contexts once the option succeeded (0 = none negotiated). */
    public int count;

    void reset(NbdExportInfo exp) {
        export = exp;
        baseAllocation = false;
        allocationDepth = false;
        bitmaps = new boolean[exp == null ? 0 : exp.bitmapNames().size()];
        count = 0;
    }

    void selectAll() {
        baseAllocation = true;
        allocationDepth = export.allocationDepth();
        java.util.Arrays.fill(bitmaps, true);
    }

    int selected() {
        int n = (baseAllocation ? 1 : 0) + (allocationDepth ? 1 : 0);
        for (boolean b : bitmaps) {
            if (b) {
                n++;
            }
        }
        return n;
    }

    /** Whether context {@code id} is selected (for the extended-headers block-status payload). */
    public boolean isSelected(int id) {
        if (count == 0) {
            return false;
        }
        if (id == Nbd.META_ID_BASE_ALLOCATION) {
            return baseAllocation;
        }
        if (id == Nbd.META_ID_ALLOCATION_DEPTH) {
            return allocationDepth;
        }
        int i = id - Nbd.META_ID_DIRTY_BITMAP;
        return i >= 0 && i < bitmaps.length && bitmaps[i];
    }
}
