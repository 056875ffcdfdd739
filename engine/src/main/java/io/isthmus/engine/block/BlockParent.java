package io.isthmus.engine.block;

/**
 * Something that uses a block node and holds permissions on it: a {@link BlockUser} (an export, a resize in
 * progress) or a {@link BlockChild} edge from a parent node. Control thread only.
 */
public abstract sealed class BlockParent permits BlockUser, BlockChild {
    final BlockNode node;
    int perm;
    int shared = BlockPerm.ALL;

    BlockParent(BlockNode node) {
        this.node = node;
    }

    /** The node this parent uses. */
    public BlockNode node() {
        return node;
    }

    public int perm() {
        return perm;
    }

    public int sharedPerm() {
        return shared;
    }

    /** How QEMU names this parent in a permission conflict ("an unnamed block device", "node 'r'"). */
    abstract String description();

    /** The role name in QEMU's permission messages ("root" for users, "file" for a format's child). */
    abstract String childName();
}
