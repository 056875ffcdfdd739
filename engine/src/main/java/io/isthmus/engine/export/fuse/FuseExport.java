package io.isthmus.engine.export.fuse;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportOptions;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.export.NodeListener;
import io.isthmus.engine.loop.IoThread;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One FUSE export: its mount ({@link FuseMount}), its serving core ({@link FuseServer}, a queue per IoThread) and
 * the glue between the core and the node access: resizes and the allocated size run on the control thread
 * ({@link FuseNodeControl}), length changes of the node reach the kernel as an attribute invalidation
 * ({@link NodeListener}).
 *
 * <p>References: besides the user's, the export holds one while any file handle is open (a safe-mode
 * block-export-del then refuses with QEMU's "export 'ID' still in use", where QSD would unmount under the open file)
 * and one from the shutdown request until the mount is gone. Deletion order: {@link FuseServer#stop} (every request
 * answered), then {@link FuseMount#close} (unmount, on a helper thread of its own: neither an IoThread nor the
 * control thread waits for fusermount3), then the last reference goes and the manager detaches the node.
 *
 * <p>Threads: created and shut down on the control thread; {@link #resize} and {@link #allocatedBytes} on the
 * serving IoThreads; the handle callbacks on the IoThreads; the node listener on the control thread.
 */
public final class FuseExport extends BlockExport implements FuseNodeControl, FuseFile.HandleListener, NodeListener {
    private static final System.Logger LOG = System.getLogger(FuseExport.class.getName());
    private static final int EIO = 5, EACCES = 13, EINVAL = 22;
    /** How old the allocated size given for st_blocks may get (the kernel keeps attributes 1 s anyway). */
    private static final long ALLOCATED_REFRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final FuseMount mount;
    private final Executor control;
    private final FuseFile file;
    private final FuseServer server;
    private final Object handleLock = new Object();
    /** Open handles counted for the reference (under handleLock); the reference is held while it is not 0. */
    private int handles;
    /** Cleared (under handleLock) once the server stopped: no handle is counted any more. */
    private boolean serving = true;
    private volatile long allocated;
    private volatile long allocatedAt;
    private final AtomicBoolean refreshing = new AtomicBoolean();
    private volatile boolean deleted;

    /** Mounts, then starts serving; nothing is left mounted when it throws. Control thread. */
    static FuseExport create(ExportOptions common, FuseExportOptions options, NodeAccess node, IoThread[] threads,
            Executor control) throws EngineException {
        int maxIo = FuseExportConfig.DEFAULT_MAX_IO; // the mount's max_read and the largest READ/WRITE: one value
        FuseMount mount = FuseMount.mount(options.mountpoint(),
                new FuseMount.Options(common.writable(), options.allowOther(), maxIo, null, true));
        try {
            FuseExportConfig config = new FuseExportConfig(common.writable(), options.growable(), mount.allowOther(),
                    maxIo, FuseExportConfig.DEFAULT_SLOTS, io.isthmus.bindings.Posix.getuid(),
                    io.isthmus.bindings.Posix.getgid());
            return new FuseExport(common, node, threads, control, mount, config);
        } catch (RuntimeException e) {
            mount.close();
            throw e;
        }
    }

    private FuseExport(ExportOptions common, NodeAccess node, IoThread[] threads, Executor control, FuseMount mount,
            FuseExportConfig config) {
        super(common, node, threads);
        this.mount = mount;
        this.control = control;
        this.allocated = allocatedOf(node);
        this.allocatedAt = System.nanoTime();
        this.file = new FuseFile(node, this, config);
        file.setHandleListener(this);
        node.setListener(this);
        try {
            this.server = FuseServer.start(mount, file, List.of(threads));
        } catch (RuntimeException e) {
            node.setListener(null);
            throw e;
        }
        // a halted export's connection is aborted: no RELEASE comes any more, so open handles no longer count
        server.onHalt(reason -> releaseHandles());
    }

    public String mountpoint() {
        return mount.mountpoint();
    }

    /** The serving core (tests, diagnostics). */
    public FuseServer server() {
        return server;
    }

    /** File handles open on the mount now. Any thread. */
    public int openHandles() {
        return server.openHandles();
    }

    // ---- FuseNodeControl (serving IoThreads)

    /** Runs {@link NodeAccess#truncate} on the control thread and posts the result back to the calling IoThread. */
    @Override
    public void resize(long length, boolean growOnly, ResizeDone done) {
        IoThread caller = IoThread.current();
        try {
            control.execute(() -> {
                int r = truncate(length, growOnly);
                try {
                    caller.execute(() -> done.resized(r));
                } catch (RejectedExecutionException e) {
                    // the IoThread is gone, and the request with it
                }
            });
        } catch (RejectedExecutionException e) {
            done.resized(-EIO);
        }
    }

    /** Control thread: 0 or -errno. */
    private int truncate(long length, boolean growOnly) {
        if (deleted) {
            return -EIO;
        }
        try {
            if (!growOnly || node().length() < length) {
                node().truncate(length);
            }
            return 0;
        } catch (IllegalArgumentException e) {
            return -EINVAL;
        } catch (IllegalStateException e) {
            return -EACCES; // no resize permission
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "FUSE export '" + id() + "': resize to " + length + " failed: " + e);
            return -EIO;
        }
    }

    /**
     * The node's allocated size as last read on the control thread; a value older than half a second is refreshed
     * there in the background (the node's stat is not for IoThreads). Any thread; never blocks.
     */
    @Override
    public long allocatedBytes() {
        if (System.nanoTime() - allocatedAt > ALLOCATED_REFRESH_NANOS && refreshing.compareAndSet(false, true)) {
            try {
                control.execute(() -> {
                    try {
                        if (!deleted) {
                            allocated = allocatedOf(node());
                        }
                        allocatedAt = System.nanoTime();
                    } finally {
                        refreshing.set(false);
                    }
                });
            } catch (RejectedExecutionException e) {
                refreshing.set(false);
            }
        }
        return allocated;
    }

    /** As QEMU's getattr: an allocation of 0 or unknown (null-co, an empty sparse file) counts as the length. */
    private static long allocatedOf(NodeAccess node) {
        long a = node.allocatedBytes();
        return a <= 0 ? -1 : a;
    }

    // ---- FuseFile.HandleListener (IoThreads)

    @Override
    public void handleOpened() {
        synchronized (handleLock) {
            if (serving && handles++ == 0) {
                ref();
            }
        }
    }

    @Override
    public void handleReleased() {
        synchronized (handleLock) {
            if (serving && handles > 0 && --handles == 0) {
                unref();
            }
        }
    }

    // ---- NodeListener (control thread)

    /** block_resize or another user's truncate (or this export's own): the kernel drops the cached size now. */
    @Override
    public void lengthChanged(long length) {
        FuseServer s = server;
        if (s != null) {
            s.invalidateAttributes();
        }
    }

    // ---- lifecycle

    /**
     * Stops serving; once every request is answered the mount goes (on a helper thread) and the references held for
     * open handles and for the shutdown are dropped.
     */
    @Override
    protected void requestShutdown() {
        ref(); // held until the mount is gone
        server.stop().whenComplete((v, t) -> {
            if (t != null) {
                LOG.log(System.Logger.Level.ERROR, "FUSE export '" + id() + "': stopping failed", t);
            }
            Thread.ofPlatform().daemon().name("fuse-unmount-" + id()).start(this::unmountAndRelease);
        });
    }

    private void unmountAndRelease() {
        try {
            mount.close();
        } finally {
            releaseHandles();
            unref();
        }
    }

    /** No handle counts any more (the server stopped or halted): drops the reference held for open ones. */
    private void releaseHandles() {
        boolean held;
        synchronized (handleLock) {
            serving = false;
            held = handles > 0;
            handles = 0;
        }
        if (held) {
            unref();
        }
    }

    /** After the last reference (the mount is gone already): the node's listener goes before the manager detaches. */
    @Override
    protected void delete() {
        deleted = true;
        mount.close(); // idempotent; already closed on the shutdown path
        node().setListener(null);
    }
}
