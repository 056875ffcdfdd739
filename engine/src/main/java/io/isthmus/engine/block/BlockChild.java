package io.isthmus.engine.block;

/** The edge from a parent node to one of its children (a raw node's "file"). Control thread only. */
public final class BlockChild extends BlockParent {
    final BlockNode parent;
    final String name;
    /** True when the child was defined inline in the parent's options and is deleted with it. */
    final boolean owned;

    BlockChild(BlockNode parent, String name, BlockNode child, boolean owned) {
        super(child);
        this.parent = parent;
        this.name = name;
        this.owned = owned;
    }

    public BlockNode parent() {
        return parent;
    }

    public BlockNode child() {
        return node;
    }

    /** The child's role name in its parent ("file", "backing"). */
    public String name() {
        return name;
    }

    @Override
    String description() {
        return "node '" + parent.nodeName() + "'";
    }

    @Override
    String childName() {
        return name;
    }
}
