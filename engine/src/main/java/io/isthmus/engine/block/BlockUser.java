package io.isthmus.engine.block;

import io.isthmus.engine.EngineException;

/**
 * A user of a node that is not a node itself (QEMU's BlockBackend): an export, or a block_resize in progress.
 * Holds its permissions from {@link BlockNode#attach} until {@link #detach()}. Control thread only.
 */
public final class BlockUser extends BlockParent {
    private final String description;
    private boolean attached = true;

    BlockUser(BlockNode node, String description) {
        super(node);
        this.description = description;
    }

    @Override
    String description() {
        return description;
    }

    @Override
    String childName() {
        return "root";
    }

    /** Changes the permissions held; refused with QEMU's text on a conflict, leaving the old ones in place. */
    public void setPermissions(int perm, int sharedPerm) throws EngineException {
        node.graphUpdate(this, perm, sharedPerm);
    }

    public boolean isAttached() {
        return attached;
    }

    /** Gives up the node: the permissions (and image locks) this user held are released. Idempotent. */
    public void detach() {
        if (attached) {
            attached = false;
            node.removeParent(this);
        }
    }
}
