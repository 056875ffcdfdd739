package io.isthmus.engine.export;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.loop.IoThread;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The export table and the one add/delete path shared by every export type (QEMU's block/export/export.c): the
 * driver table, the checks of blk_exp_add in QEMU's order and with its texts, block-export-del's safe and hard
 * modes, the exports newest first, and close-all on shutdown.
 *
 * <p>Threads: add/delete/list run on the control plane (synchronized); an export's last reference may be
 * dropped on any thread: its deletion is then handed to the {@code notify} executor, which also delivers
 * {@link ExportListener#exportDeleted}.
 */
public final class ExportManager {
    private static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9\\-._]*");

    private final Map<String, ExportDriver<?>> drivers = new LinkedHashMap<>();
    private final List<BlockExport> exports = new ArrayList<>(); // newest first
    private final Map<String, CompletableFuture<Void>> goneFutures = new ConcurrentHashMap<>();
    private final NodeResolver nodes;
    private final Function<String, IoThread> iothreadLookup;
    private final java.util.function.Supplier<IoThread> defaultIoThread;
    private final Executor notify;
    private volatile ExportListener listener = id -> { };
    private volatile Runnable pump = () -> { };
    /** Idle exports being deleted by block-export-del, whose final step the waiting control thread runs itself. */
    private final java.util.IdentityHashMap<BlockExport, CompletableFuture<Runnable>> syncGone =
            new java.util.IdentityHashMap<>();

    /**
     * @param iothreadLookup finds an iothread object by id (null when unknown)
     * @param defaultIoThread the IoThread used by exports without {@code iothread}
     * @param notify where deletions finish and listeners are called (the control plane's loop)
     */
    public ExportManager(NodeResolver nodes, Function<String, IoThread> iothreadLookup,
            java.util.function.Supplier<IoThread> defaultIoThread, Executor notify) {
        this.nodes = nodes;
        this.iothreadLookup = iothreadLookup;
        this.defaultIoThread = defaultIoThread;
        this.notify = notify;
    }

    public synchronized void registerDriver(ExportDriver<?> d) {
        drivers.put(d.type(), d);
    }

    public synchronized ExportDriver<?> driver(String type) {
        return drivers.get(type);
    }

    public void setListener(ExportListener l) {
        this.listener = l;
    }

    /**
     * What {@link #closeAll} runs while it waits (the control loop's pending tasks), so deletions handed to
     * {@code notify} can finish when closeAll itself runs on the thread behind {@code notify}.
     */
    public void setWaitPump(Runnable pump) {
        this.pump = pump;
    }

    /** block-export-add from its validated members: the common ones, and the type's for its driver. */
    public BlockExport add(ExportArgs args) throws EngineException {
        return add(ExportOptions.of(args), args);
    }

    /**
     * block-export-add: the common checks in QEMU's order, the driver's options, the attach with the permissions
     * the driver asks for, then the driver's create.
     *
     * @param typeArgs the members the driver reads its options from (may hold the common ones too)
     */
    public synchronized BlockExport add(ExportOptions o, ExportArgs typeArgs) throws EngineException {
        if (o.fixedIothread() && o.iothreadList()) {
            throw new EngineException("Cannot use fixed-iothread for a multi-threaded export");
        }
        if (!ID.matcher(o.id()).matches()) {
            throw new EngineException("Invalid block export id");
        }
        if (find(o.id()) != null) {
            throw new EngineException("Block export id '" + o.id() + "' is already in use");
        }
        ExportDriver<?> drv = drivers.get(o.type());
        if (drv == null) {
            throw new EngineException("No driver found for the requested export type");
        }
        ExportableNode node = nodes.find(o.nodeName());
        if (node == null) {
            throw new EngineException("Cannot find device='' nor node-name='" + o.nodeName() + "'");
        }
        if (o.writable() && node.isReadOnly()) {
            throw new EngineException("Cannot export read-only node as writable");
        }
        IoThread[] threads;
        if (o.iothreads() == null) {
            threads = new IoThread[] {defaultIoThread.get()};
        } else if (o.iothreadList()) {
            if (o.iothreads().isEmpty()) {
                throw new EngineException("The set of I/O threads must not be empty");
            }
            threads = new IoThread[o.iothreads().size()];
            for (int i = 0; i < threads.length; i++) {
                threads[i] = lookupIoThread(o.iothreads().get(i));
            }
            if (threads.length > 1 && !drv.supportsMultipleIoThreads()) {
                throw new EngineException(o.type() + " export does not support multi-threading");
            }
        } else {
            threads = new IoThread[] {lookupIoThread(o.iothreads().get(0))};
        }
        if (o.allowInactive() && !drv.supportsInactive()) {
            throw new EngineException("Export type does not support inactive exports");
        }
        BlockExport exp = create(drv, o, typeArgs, node, threads);
        exp.setManager(this);
        exports.addFirst(exp);
        return exp;
    }

    private static <O> BlockExport create(ExportDriver<O> drv, ExportOptions o, ExportArgs typeArgs,
            ExportableNode node, IoThread[] threads) throws EngineException {
        O options = drv.parseOptions(typeArgs);
        NodeAccess access = node.attach(o.id(), drv.permissions(o, options), drv.sharedPermissions(o, options),
                o.writethrough());
        try {
            return drv.create(o, options, access, threads);
        } catch (RuntimeException e) {
            access.detach();
            throw e;
        }
    }

    private IoThread lookupIoThread(String name) throws EngineException {
        IoThread t = iothreadLookup.apply(name);
        if (t == null) {
            throw new EngineException("iothread \"" + name + "\" not found");
        }
        return t;
    }

    /** block-export-del. Returns at once; the export may outlive the call until its last reference goes. */
    public void delete(String id, boolean hard) throws EngineException {
        BlockExport exp;
        synchronized (this) {
            exp = find(id);
            if (exp == null) {
                throw new EngineException("Export '" + id + "' is not found");
            }
            if (exp.shuttingDown()) {
                throw new EngineException("Export '" + id + "' is already shutting down");
            }
            if (!hard && exp.refcount() > 1) {
                throw new EngineException("export '" + id + "' still in use");
            }
        }
        if (exp.refcount() > 1) {
            exp.requestShutdownOnce(); // clients are dropped on their IoThreads; the event follows the reply
            return;
        }
        // An idle export goes at once in QEMU, so BLOCK_EXPORT_DELETED precedes the command's reply. Here the
        // driver shuts down on its IoThread; wait for that briefly and finish the deletion on this thread.
        CompletableFuture<Runnable> done = new CompletableFuture<>();
        synchronized (this) {
            syncGone.put(exp, done);
        }
        exp.requestShutdownOnce();
        Runnable finish = null;
        try {
            finish = done.get(1, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            // slow: the deletion completes later on the control thread's queue
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (finish == null) {
            synchronized (this) {
                if (syncGone.remove(exp) == null) {
                    finish = done.getNow(null); // gone() handed it over just now
                }
            }
        }
        if (finish != null) {
            finish.run();
        }
    }

    /** Requests shutdown of an export without the user checks (server stop, node removal). */
    public void shutdown(BlockExport exp) {
        exp.requestShutdownOnce();
    }

    public synchronized BlockExport find(String id) {
        for (BlockExport e : exports) {
            if (e.id().equals(id)) {
                return e;
            }
        }
        return null;
    }

    /** All exports, newest first (what query-block-exports returns). */
    public synchronized List<BlockExport> list() {
        return List.copyOf(exports);
    }

    /** Completes when the export with this id is gone (or at once if there is none). */
    public synchronized CompletableFuture<Void> whenGone(String id) {
        if (find(id) == null) {
            return CompletableFuture.completedFuture(null);
        }
        return goneFutures.computeIfAbsent(id, k -> new CompletableFuture<>());
    }

    /**
     * Shuts every export (of one type, or all when null) down and waits until they are gone. Oldest first,
     * so that BLOCK_EXPORT_DELETED comes in the order qemu-storage-daemon announces it at exit.
     */
    public void closeAll(String type) {
        // One export at a time, oldest first, each gone before the next is shut down: QSD's order of the
        // BLOCK_EXPORT_DELETED events at exit (shutting them down together let their IoThreads finish in any
        // order).
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        for (BlockExport e : list().reversed()) {
            if (type != null && !type.equals(e.type())) {
                continue;
            }
            CompletableFuture<Void> w = whenGone(e.id());
            e.requestShutdownOnce();
            while (!w.isDone() && System.nanoTime() < deadline) { // a stuck export must not block exit forever
                pump.run();
                try {
                    w.get(1, java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (Exception ignored) {
                    // keep pumping until done or the deadline
                }
            }
        }
    }

    /** The last reference went (any thread). */
    void gone(BlockExport exp) {
        Runnable finish = () -> {
            try {
                exp.delete();
            } finally {
                exp.node().detach();
                synchronized (this) {
                    exports.remove(exp);
                }
                CompletableFuture<Void> f = goneFutures.remove(exp.id());
                try {
                    listener.exportDeleted(exp.id());
                } finally {
                    if (f != null) {
                        f.complete(null);
                    }
                }
            }
        };
        CompletableFuture<Runnable> waiter;
        synchronized (this) {
            waiter = syncGone.remove(exp);
        }
        if (waiter != null) {
            waiter.complete(finish); // block-export-del on the control thread is waiting to run it
        } else {
            notify.execute(finish);
        }
    }
}
