package io.isthmus.engine.export.fuse;

import static io.isthmus.engine.export.fuse.FuseProtocol.*;

import io.isthmus.engine.export.NodeAccess;
import java.lang.foreign.MemorySegment;

/**
 * The one regular file an export presents: its node, its attributes (mode, owner, times: QEMU keeps mode and
 * owner; Isthmus keeps the times too so that {@code touch} works) and QEMU's rules for changing them.
 *
 * <p>Thread use: shared by the export's IoThreads; the attributes change under this object's lock (SETATTR is
 * rare) and are read under it. The length is always the node's current one. Memory: none native.
 */
public final class FuseFile {
    /** Attribute validity given to the kernel, as QEMU (1 s). */
    static final long ATTR_VALID_SEC = 1;
    private static final int EPERM = 1, EACCES = 13, EINVAL = 22, EROFS = 30, ENOTSUP = 95;
    /** SETATTR bits that are accepted and ignored (QEMU: FH, LOCKOWNER, KILL_SUIDGID). */
    private static final int IGNORED = FATTR_FH | FATTR_LOCKOWNER | FATTR_KILL_SUIDGID;
    private static final int TIMES = FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW | FATTR_CTIME;

    final FuseNode node;
    final FuseNodeControl control;
    final FuseExportConfig config;
    private final int blksize;

    private int mode;
    private int uid, gid;
    private long atime, mtime, ctime;
    private int atimeNs, mtimeNs, ctimeNs;
    /** Data changed since the last GETATTR: the next one moves mtime and ctime to now. A flag rather than a clock
     *  read per write: the data path only stores it when it is not set yet. */
    private volatile boolean modified;
    /** Open file handles (OPEN minus RELEASE): a safe-mode delete refuses while any is open. */
    private final java.util.concurrent.atomic.AtomicInteger openHandles = new java.util.concurrent.atomic.AtomicInteger();
    private volatile HandleListener handles;

    public FuseFile(NodeAccess node, FuseNodeControl control, FuseExportConfig config) {
        this(FuseNode.of(node), control, config);
    }

    FuseFile(FuseNode node, FuseNodeControl control, FuseExportConfig config) {
        this.node = node;
        this.control = control;
        this.config = config;
        this.mode = S_IFREG | S_IRUSR | (config.writable() ? S_IWUSR : 0);
        this.uid = config.uid();
        this.gid = config.gid();
        this.blksize = Math.max(512, Math.min(node.requestAlignment(), 1 << 20));
        long now = System.currentTimeMillis();
        atime = mtime = ctime = now / 1000;
        atimeNs = mtimeNs = ctimeNs = (int) (now % 1000) * 1_000_000;
    }

    public int blockSize() {
        return blksize;
    }

    public synchronized int mode() {
        return mode;
    }

    public synchronized int uid() {
        return uid;
    }

    public synchronized int gid() {
        return gid;
    }

    /** Writes fuse_attr_out for the file at {@code at}; returns its length. */
    int encodeAttr(MemorySegment s, long at) {
        long length = node.length();
        long alloc = control.allocatedBytes();
        long blocks = ((alloc < 0 ? length : alloc) + 511) / 512;
        synchronized (this) {
            if (modified) {
                modified = false;
                long now = System.currentTimeMillis();
                mtime = ctime = now / 1000;
                mtimeNs = ctimeNs = (int) (now % 1000) * 1_000_000;
            }
            return FuseReplies.attrOut(s, at, ATTR_VALID_SEC, 0, 1, length, blocks, atime, atimeNs, mtime, mtimeNs,
                    ctime, ctimeNs, mode, 1, uid, gid, blksize);
        }
    }

    /** File handles the kernel holds open (processes with the file open, roughly): any thread. */
    public int openHandles() {
        return openHandles.get();
    }

    /**
     * Sets what hears every OPEN and RELEASE (the export holds a reference while any handle is open, so that a
     * safe-mode delete refuses). Set before serving starts.
     */
    public void setHandleListener(HandleListener l) {
        this.handles = l;
    }

    void opened() {
        openHandles.incrementAndGet();
        HandleListener l = handles;
        if (l != null) {
            l.handleOpened(); // before the OPEN's reply: its RELEASE cannot be heard first
        }
    }

    void released() {
        int before = openHandles.getAndUpdate(n -> n > 0 ? n - 1 : 0);
        HandleListener l = handles;
        if (before > 0 && l != null) {
            l.handleReleased();
        }
    }

    /** Hears OPEN and RELEASE, on the IoThread that served them; must not block. */
    public interface HandleListener {
        void handleOpened();

        void handleReleased();
    }

    /** The data changed (a write, zeroes, a punched hole): any IoThread. */
    void noteModified() {
        if (!modified) {
            modified = true;
        }
    }

    /**
     * Checks a SETATTR before anything changes (QEMU's fuse_setattr rules, plus times and the refusal of
     * setuid/setgid): 0, or the -errno to answer.
     */
    int checkSetattr(FuseRequest r) {
        int v = r.valid;
        int supported = FATTR_SIZE | FATTR_MODE | TIMES | IGNORED
                | (config.allowOther() ? FATTR_UID | FATTR_GID : 0);
        if ((v & ~supported) != 0) {
            return -ENOTSUP;
        }
        if ((v & FATTR_MODE) != 0) {
            int m = r.mode;
            if ((m & (S_ISUID | S_ISGID)) != 0) {
                return -EPERM;
            }
            // without allow_other nobody but the owner can reach the file: no permissions for them
            if (!config.allowOther() && (m & (S_IRWXG | S_IRWXO)) != 0) {
                return -EPERM;
            }
            if (!config.writable() && (m & (S_IWUSR | S_IWGRP | S_IWOTH)) != 0) {
                return -EROFS;
            }
        }
        if ((v & FATTR_SIZE) != 0) {
            if (!config.writable()) {
                return -EACCES;
            }
            if (r.attrSize < 0) {
                return -EINVAL;
            }
        }
        return 0;
    }

    /** Applies the mode, owner and time changes of a checked SETATTR (the size is the caller's). */
    synchronized void applySetattr(FuseRequest r) {
        int v = r.valid;
        long now = System.currentTimeMillis();
        long nowSec = now / 1000;
        int nowNs = (int) (now % 1000) * 1_000_000;
        if ((v & FATTR_MODE) != 0) {
            mode = S_IFREG | (r.mode & 07777);
        }
        if ((v & FATTR_UID) != 0) {
            uid = r.attrUid;
        }
        if ((v & FATTR_GID) != 0) {
            gid = r.attrGid;
        }
        if ((v & FATTR_SIZE) != 0) {
            mtime = nowSec;
            mtimeNs = nowNs;
        }
        if ((v & FATTR_ATIME_NOW) != 0) {
            atime = nowSec;
            atimeNs = nowNs;
        } else if ((v & FATTR_ATIME) != 0) {
            atime = r.atime;
            atimeNs = clampNs(r.atimensec);
        }
        if ((v & FATTR_MTIME_NOW) != 0) {
            mtime = nowSec;
            mtimeNs = nowNs;
        } else if ((v & FATTR_MTIME) != 0) {
            mtime = r.mtime;
            mtimeNs = clampNs(r.mtimensec);
        }
        if ((v & FATTR_CTIME) != 0) {
            ctime = r.ctime;
            ctimeNs = clampNs(r.ctimensec);
        } else if ((v & ~IGNORED) != 0) {
            ctime = nowSec;
            ctimeNs = nowNs;
        }
    }

    private static int clampNs(int ns) {
        return ns < 0 || ns >= 1_000_000_000 ? 0 : ns;
    }
}
