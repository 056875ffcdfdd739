package io.isthmus.engine.block;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.EngineException;

/**
 * A user of a node that is not a node itself (QEMU's BlockBackend): an export, or a block_resize in progress.
 * Holds its permissions from {@link BlockNode#attach} until {@link #detach()}.
 *
 * <p>Requests: an export submits through its user ({@link #submit}) rather than to the node, so that what QEMU keeps
 * per BlockBackend is applied once here for every export type: <em>writethrough</em> (QEMU's
 * {@code !blk_enable_write_cache}: every write and write-zeroes gets FUA, i.e. is flushed before it completes) and
 * the permission check (a user that did not take WRITE gets -EPERM for writes, write-zeroes and discards).
 *
 * <p>Thread use: permissions, writethrough and detach on the control thread; {@link #submit} on an IoThread (it
 * reads the flags set by the control thread, which are volatile).
 */
public final class BlockUser extends BlockParent {
    private final String description;
    private volatile boolean attached = true;
    private volatile boolean writethrough;

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

    /** Whether writes submitted through this user are flushed before they complete (QEMU: write cache off). */
    public boolean isWritethrough() {
        return writethrough;
    }

    /** Sets writethrough (an export's {@code writethrough} option); applies to requests submitted from now on. */
    public void setWritethrough(boolean writethrough) {
        this.writethrough = writethrough;
    }

    /**
     * Submits a request as this user (IoThread), with the user's semantics on top of {@link BlockNode#submit}:
     * writethrough adds FUA to WRITE and WRITE_ZEROES (the callback sees the flags as the caller set them); a user
     * without WRITE permission gets -EPERM for WRITE, WRITE_ZEROES and DISCARD; a detached user gets -EIO. Results,
     * threads and the callback are otherwise exactly those of {@link BlockNode#submit}.
     */
    public void submit(BlockRequest req) {
        int op = req.op;
        if (op == BlockRequest.WRITE || op == BlockRequest.WRITE_ZEROES || op == BlockRequest.DISCARD) {
            if ((perm & BlockPerm.WRITE) == 0 || !attached) {
                req.callback.done(req, attached ? -Errno.EPERM : -Errno.EIO);
                return;
            }
            if (op != BlockRequest.DISCARD && writethrough && (req.flags & BlockRequest.FUA) == 0) {
                req.flags |= BlockRequest.FUA;
                req.userAddedFua = true; // taken off again before the callback (BlockNode.complete)
            }
        } else if (!attached) {
            req.callback.done(req, -Errno.EIO);
            return;
        }
        node.submit(req);
    }

    /** Gives up the node: the permissions (and image locks) this user held are released. Idempotent. */
    public void detach() {
        if (attached) {
            attached = false;
            node.removeParent(this);
        }
    }
}
