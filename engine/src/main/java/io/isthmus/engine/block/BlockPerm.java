package io.isthmus.engine.block;

/**
 * The permissions a user of a block node takes and shares, with QEMU's bit values (BLK_PERM_*): the bit index is
 * also the offset of the image-locking byte (100 + bit for "holds", 200 + bit for "does not share").
 */
public final class BlockPerm {
    private BlockPerm() {}

    public static final int CONSISTENT_READ = 0x1;
    public static final int WRITE = 0x2;
    public static final int WRITE_UNCHANGED = 0x4;
    public static final int RESIZE = 0x8;
    public static final int ALL = 0xF;
    public static final int COUNT = 4;

    private static final String[] NAMES = {"consistent read", "write", "write unchanged", "resize"};

    /** QEMU's bdrv_perm_names: the names of the bits set, joined with ", ". */
    public static String names(int perms) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < COUNT; i++) {
            if ((perms & (1 << i)) != 0) {
                if (sb.length() > 0) {
                    sb.append(", ");
                }
                sb.append(NAMES[i]);
            }
        }
        return sb.toString();
    }
}
