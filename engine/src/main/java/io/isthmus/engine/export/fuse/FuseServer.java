package io.isthmus.engine.export.fuse;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.Posix;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.loop.IoThread;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * The serving core of one FUSE export: a {@link FuseQueue} per IoThread, the first on the session's own
 * {@code /dev/fuse} fd and every further one on a clone ({@code FUSE_DEV_IOC_CLONE}); the kernel hands each request
 * to whichever fd reads it first, and the reply goes back on that fd.
 *
 * <p>Lifecycle: {@link #start} begins serving; {@link #stop} stops reading and completes when every request in
 * flight has been answered and the buffers are freed; the mount is the caller's ({@link FuseMount#close} unmounts,
 * after stop). A request stream that makes no sense halts the export ({@link #halted}): no queue reads any more,
 * the connection is aborted so that no caller hangs, and the halt listener hears the reason.
 *
 * <p>Thread use: start/stop from any thread (the control thread); the rest runs on the IoThreads. Memory: the
 * queues own their buffers and clone fds; the session fd stays libfuse's.
 */
public final class FuseServer {
    private static final System.Logger LOG = System.getLogger(FuseServer.class.getName());

    private final String name;
    private final Runnable abort;
    private final Runnable sever;
    private final FuseFile file;
    private final List<FuseQueue> queues = new ArrayList<>();
    private volatile boolean halted;
    private volatile String haltReason;
    private volatile boolean disconnected;
    private volatile boolean initialized;
    private volatile boolean stopping;
    private volatile int protocolMinor;
    private volatile Consumer<String> haltListener;
    /** The fd notifications go to (the first queue's). */
    private int notifyFd = -1;

    private FuseServer(String name, Runnable abort, Runnable sever, FuseFile file) {
        this.name = name;
        this.abort = abort;
        this.sever = sever;
        this.file = file;
    }

    /**
     * Serves {@code file} on {@code mount} with one queue per IoThread. Throws with the errno's text when a clone fd
     * cannot be made (nothing is left serving then).
     */
    public static FuseServer start(FuseMount mount, FuseFile file, List<IoThread> threads) {
        if (threads.isEmpty()) {
            throw new IllegalArgumentException("no IoThread to serve on");
        }
        FuseServer s = new FuseServer(mount.mountpoint(), mount::abort, mount::sever, file);
        List<Integer> clones = new ArrayList<>();
        try {
            setNonBlocking(mount.fd());
            for (int i = 0; i < threads.size(); i++) {
                int fd = mount.fd();
                if (i > 0) {
                    fd = mount.cloneFd();
                    clones.add(fd);
                    setNonBlocking(fd);
                }
                s.queues.add(new FuseQueue(s, file, threads.get(i), fd, i > 0));
            }
            s.notifyFd = mount.fd();
        } catch (RuntimeException e) {
            clones.forEach(Posix::close);
            throw e;
        }
        s.startQueues();
        return s;
    }

    /**
     * Serves on an fd the caller made (tests: one end of a SOCK_SEQPACKET pair stands in for /dev/fuse); the fd
     * stays the caller's. {@code abort} runs when the export halts.
     */
    static FuseServer serveFd(String name, FuseFile file, IoThread thread, int fd, Runnable abort) {
        FuseServer s = new FuseServer(name, abort, () -> { }, file);
        setNonBlocking(fd);
        s.queues.add(new FuseQueue(s, file, thread, fd, false));
        s.notifyFd = fd;
        s.startQueues();
        return s;
    }

    private void startQueues() {
        for (FuseQueue q : queues) {
            q.io.execute(q::start);
        }
    }

    private static void setNonBlocking(int fd) {
        int fl = Posix.fcntl(fd, Fcntl.F_GETFL, 0);
        int r = fl < 0 ? fl : Posix.fcntl(fd, Fcntl.F_SETFL, fl | Fcntl.O_NONBLOCK);
        if (r < 0) {
            throw new EngineException("Cannot make the FUSE device non-blocking: " + Errno.message(r));
        }
    }

    /** The file served. */
    public FuseFile file() {
        return file;
    }

    String name() {
        return name;
    }

    /** Stops reading requests; completes when every request in flight is answered and the buffers are freed. */
    public CompletableFuture<Void> stop() {
        stopping = true;
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (FuseQueue q : queues) {
            try {
                q.io.execute(q::stop);
            } catch (RejectedExecutionException e) {
                q.abandon();
            }
            // an IoThread that closes before running the stop leaves nothing in flight either
            q.io.terminated().thenRun(q::abandon);
            all.add(q.stopped);
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    /**
     * Tells the kernel the file's attributes changed behind its back (a block_resize, another user's truncate), so
     * that the next stat sees the new length at once instead of after the attribute timeout. Any thread (a write of
     * one notification on the device, which does not block). Returns 0 or -errno; 0 without doing anything before
     * INIT, after stop or after a halt.
     */
    public int invalidateAttributes() {
        if (!initialized || halted || disconnected || stopping) {
            return 0;
        }
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment m = a.allocate(64, 8);
            int n = FuseReplies.notifyInvalInode(m, 0, 1, -1, 0);
            long r = Posix.write(notifyFd, m, n);
            return r < 0 ? (int) r : 0;
        }
    }

    /** File handles open on the mount (OPEN minus RELEASE): a safe-mode delete refuses while any is. */
    public int openHandles() {
        return file.openHandles();
    }

    /** Sets what hears a halt (once, with the reason). Any thread. */
    public void onHalt(Consumer<String> listener) {
        this.haltListener = listener;
    }

    public boolean halted() {
        return halted;
    }

    public String haltReason() {
        return haltReason;
    }

    /** The kernel ended the connection (unmounted from outside, or aborted). */
    public boolean disconnected() {
        return disconnected;
    }

    /** INIT has been answered. */
    public boolean initialized() {
        return initialized;
    }

    /** The protocol minor the kernel announced at INIT (0 before). */
    public int protocolMinor() {
        return protocolMinor;
    }

    void initialized(int major, int minor) {
        protocolMinor = minor;
        initialized = true;
    }

    /** IoThread: the stream from the kernel made no sense; stop every queue and abort the connection. */
    void halt(String reason) {
        synchronized (this) {
            if (halted) {
                return;
            }
            halted = true;
            haltReason = reason;
        }
        LOG.log(System.Logger.Level.ERROR, "FUSE export on " + name + " halted: " + reason);
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (FuseQueue q : queues) {
            try {
                q.io.execute(q::halt);
            } catch (RejectedExecutionException e) {
                q.abandon();
            }
            all.add(q.stopped);
        }
        // no caller may hang on a request nobody will read: abort the connection through fusectl where it is
        // mounted, and in any case drop the device file once the queues' reads are gone (the last /dev/fuse
        // reference going away aborts the connection too)
        abort.run();
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenRun(sever);
        Consumer<String> l = haltListener;
        if (l != null) {
            try {
                l.accept(reason);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "FUSE halt listener failed", e);
            }
        }
    }

    void markDisconnected() {
        disconnected = true;
    }
}
