package io.isthmus.control;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Supplier;

/**
 * The control thread: QEMU's main loop for the control plane. Every command, every object change and
 * every command-line option runs here, one at a time, in the order posted. Monitors' reader threads
 * and engine threads reach it only by posting tasks.
 *
 * <p>Any thread may post; {@link #run} is called by exactly one thread (the daemon's main thread).
 */
public final class ControlLoop {
    private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private volatile Thread thread;
    private volatile boolean stopping;

    /** Queues a task. Tasks posted after the loop stopped are never run. */
    public void post(Runnable task) {
        tasks.add(task);
    }

    /** Runs the supplier on the control thread; the future completes with its result or exception. */
    public <T> CompletableFuture<T> submit(Supplier<T> work) {
        CompletableFuture<T> f = new CompletableFuture<>();
        post(() -> {
            try {
                f.complete(work.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /** True on the control thread (or before the loop runs, on the thread that builds the daemon). */
    public boolean inLoop() {
        Thread t = thread;
        return t == null || t == Thread.currentThread();
    }

    /** Makes {@link #run} return after the task now running. */
    public void stop() {
        stopping = true;
        post(() -> { });
    }

    public boolean stopping() {
        return stopping;
    }

    /** Binds the loop to the calling thread (done before start-up options run). */
    public void bindCurrentThread() {
        thread = Thread.currentThread();
    }

    /** Runs tasks until {@link #stop}. An exception escaping a task is reported and the loop goes on. */
    public void run() {
        bindCurrentThread();
        while (!stopping) {
            Runnable r;
            try {
                r = tasks.take();
            } catch (InterruptedException e) {
                continue;
            }
            runOne(r);
        }
    }

    /** Runs whatever is queued now, without blocking (used while shutting down). */
    public void drainPending() {
        Runnable r;
        while ((r = tasks.poll()) != null) {
            runOne(r);
        }
    }

    private static void runOne(Runnable r) {
        try {
            r.run();
        } catch (Throwable t) {
            System.err.println(ProgName.NAME + ": internal error in control task: " + t);
            t.printStackTrace();
        }
    }
}
