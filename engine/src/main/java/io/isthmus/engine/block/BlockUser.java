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
 * <p>Events (QEMU's BlockDevOps): a {@link Listener} hears when a drained section on the node (or a node below it)
 * begins and ends, and when the node's length changed (block_resize, a user's {@link #truncate}).
 *
 * <p>Thread use: permissions, writethrough, listener, truncate and detach on the control thread; {@link #submit} on
 * an IoThread (it reads the flags set by the control thread, which are volatile). Listener calls come on the
 * control thread.
 */
public final class BlockUser extends BlockParent {
    private final String description;
    private volatile boolean attached = true;
    private volatile boolean writethrough;
    private volatile Listener listener;
    /** Drained sections open below this user (control thread): the listener hears the first begin and last end. */
    private int drainDepth;

    /**
     * What a user hears from its node (QEMU's BlockDevOps drained_begin/drained_end/resize_cb). Called on the control
     * thread; must not block (drainedBegin comes before the node waits for the requests in flight, which complete
     * as usual; requests submitted during the section wait and run after it).
     */
    public interface Listener {
        /** A drained section begins on the node or below it: stop taking new work if useful. */
        default void drainedBegin() {
        }

        /** The last drained section ended. */
        default void drainedEnd() {
        }

        /** The node's length changed (inside the drained section of the resize); {@code length} is the new one. */
        default void lengthChanged(long length) {
        }
    }

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

    /** Sets (or with null removes) the listener of this user. */
    public void setListener(Listener l) {
        this.listener = l;
    }

    /**
     * Resizes the node as this user (an export's own resize): needs the RESIZE permission. The node is drained,
     * truncated, its dirty bitmaps and those above it are resized and every user is told, as block_resize does
     * ({@link BlockGraph#resize}). Control thread; blocks while the node drains. Throws with the driver's text when
     * the node cannot be resized.
     */
    public void truncate(long length) throws EngineException {
        if (!attached || (perm & BlockPerm.RESIZE) == 0) {
            throw new IllegalStateException("truncate by a user without the resize permission");
        }
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length);
        }
        node.truncateDrained(length);
    }

    void drainedBegin() {
        if (drainDepth++ == 0) {
            tell(Listener::drainedBegin);
        }
    }

    void drainedEnd() {
        if (drainDepth > 0 && --drainDepth == 0) { // a user attached during a section hears no unpaired end
            tell(Listener::drainedEnd);
        }
    }

    void lengthChanged(long length) {
        tell(l -> l.lengthChanged(length));
    }

    /** A listener's failure is logged: it must not leave the node's drained section or resize half done. */
    private void tell(java.util.function.Consumer<Listener> event) {
        Listener l = listener;
        if (l == null) {
            return;
        }
        try {
            event.accept(l);
        } catch (RuntimeException e) {
            System.getLogger(BlockUser.class.getName()).log(System.Logger.Level.WARNING,
                    "listener of a user of node '" + node.nodeName() + "' failed", e);
        }
    }

    /** Gives up the node: the permissions (and image locks) this user held are released. Idempotent. */
    public void detach() {
        if (attached) {
            attached = false;
            node.removeParent(this);
        }
    }
}
