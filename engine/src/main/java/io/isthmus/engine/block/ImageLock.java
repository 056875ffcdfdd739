package io.isthmus.engine.block;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.Unistd;
import io.isthmus.engine.EngineException;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * QEMU's image locking (block/file-posix.c): open-file-description byte-range locks on the image file itself.
 * Holding permission bit i = a shared (read) lock on byte 100 + i; not sharing permission bit i = a shared lock
 * on byte 200 + i. Before a node takes a permission it checks that nobody else locks "does not share it", and
 * before it unshares one, that nobody else holds it — so qemu-img, QEMU and Isthmus refuse one another with the
 * same messages ({@code Failed to get "write" lock}).
 *
 * <p>Thread use: control thread only. Memory: the {@code struct flock} buffer belongs to the owning file node
 * (its arena). Native calls return >= 0 or -errno.
 */
final class ImageLock {
    static final int PERM_BASE = 100;
    static final int SHARED_BASE = 200;

    private static final long L_TYPE = Fcntl.flock.byteOffset(PathElement.groupElement("l_type"));
    private static final long L_WHENCE = Fcntl.flock.byteOffset(PathElement.groupElement("l_whence"));
    private static final long L_START = Fcntl.flock.byteOffset(PathElement.groupElement("l_start"));
    private static final long L_LEN = Fcntl.flock.byteOffset(PathElement.groupElement("l_len"));
    private static final long L_PID = Fcntl.flock.byteOffset(PathElement.groupElement("l_pid"));

    private final int fd;
    private final MemorySegment flock;
    /** Bits locked now: holds (perm) and does-not-share (unshared). */
    private int lockedPerm;
    private int lockedUnshared;

    ImageLock(int fd, MemorySegment flock) {
        this.fd = fd;
        this.flock = flock;
    }

    private int fcntl(int cmd, short type, int byteOffset) {
        flock.fill((byte) 0);
        flock.set(ValueLayout.JAVA_SHORT, L_TYPE, type);
        flock.set(ValueLayout.JAVA_SHORT, L_WHENCE, (short) Unistd.SEEK_SET);
        flock.set(ValueLayout.JAVA_LONG, L_START, byteOffset);
        flock.set(ValueLayout.JAVA_LONG, L_LEN, 1L);
        flock.set(ValueLayout.JAVA_INT, L_PID, 0);
        return Posix.fcntlLock(fd, cmd, flock);
    }

    /** True if another open file description holds a lock on the byte (F_OFD_GETLK with a write lock). */
    private boolean lockedElsewhere(int byteOffset) throws EngineException {
        int r = fcntl(Fcntl.F_OFD_GETLK, Fcntl.F_WRLCK, byteOffset);
        if (r < 0) {
            throw new EngineException("Failed to get lock status of byte " + byteOffset + ": " + Errno.message(r));
        }
        return flock.get(ValueLayout.JAVA_SHORT, L_TYPE) != Fcntl.F_UNLCK;
    }

    /** Locks exactly the bytes for (perm, unshared), releasing the others. */
    private void setLocks(int perm, int unshared) throws EngineException {
        for (int i = 0; i < BlockPerm.COUNT; i++) {
            int bit = 1 << i;
            setByte(PERM_BASE + i, (perm & bit) != 0, (lockedPerm & bit) != 0);
            if ((perm & bit) != 0) {
                lockedPerm |= bit;
            } else {
                lockedPerm &= ~bit;
            }
            setByte(SHARED_BASE + i, (unshared & bit) != 0, (lockedUnshared & bit) != 0);
            if ((unshared & bit) != 0) {
                lockedUnshared |= bit;
            } else {
                lockedUnshared &= ~bit;
            }
        }
    }

    private void setByte(int off, boolean want, boolean have) throws EngineException {
        if (want == have) {
            return;
        }
        int r = fcntl(Fcntl.F_OFD_SETLK, want ? Fcntl.F_RDLCK : Fcntl.F_UNLCK, off);
        if (r < 0 && want) {
            throw new EngineException("Failed to lock byte " + off + ": " + Errno.message(r));
        }
    }

    /**
     * QEMU's raw_handle_perm_lock: lock the union of the old and new bytes, check the new permissions against
     * the locks of others, then keep exactly the new bytes. On a refusal the old locks are restored.
     */
    void apply(int perm, int shared) throws EngineException {
        int oldPerm = lockedPerm;
        int oldUnshared = lockedUnshared;
        int unshared = ~shared & BlockPerm.ALL;
        try {
            setLocks(oldPerm | perm, oldUnshared | unshared);
            for (int i = 0; i < BlockPerm.COUNT; i++) {
                int bit = 1 << i;
                if ((perm & bit) != 0 && lockedElsewhere(SHARED_BASE + i)) {
                    throw new EngineException("Failed to get \"" + BlockPerm.names(bit) + "\" lock");
                }
            }
            for (int i = 0; i < BlockPerm.COUNT; i++) {
                int bit = 1 << i;
                if ((unshared & bit) != 0 && lockedElsewhere(PERM_BASE + i)) {
                    throw new EngineException("Failed to get shared \"" + BlockPerm.names(bit) + "\" lock");
                }
            }
        } catch (EngineException e) {
            try {
                setLocks(oldPerm, oldUnshared);
            } catch (EngineException ignored) {
                // releasing never fails; re-taking an old lock that was held a moment ago does not either
            }
            throw e;
        }
        setLocks(perm, unshared);
    }

    /** Releases every byte (close does it too; this is for locking turned off at runtime and for tests). */
    void releaseAll() {
        try {
            setLocks(0, 0);
        } catch (EngineException ignored) {
            // unlocking cannot fail
        }
    }
}
