package io.isthmus.engine.block.throttle;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.block.BlockRequest;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import java.util.ArrayDeque;

/**
 * One throttle node's membership in a {@link ThrottleGroup} on one IoThread (QEMU's ThrottleGroupMember; a
 * node whose requests come from several IoThreads has one member per thread, so queues and timers stay
 * on their thread). QEMU's block/throttle-groups.c algorithm, with coroutines replaced by queues:
 * <ul>
 * <li>{@link #admit}: a request goes at once unless the group's buckets are full or this member already has
 * requests of that direction waiting; then it is queued (no thread waits).</li>
 * <li>When a request goes it is accounted, and the next member in round-robin order with waiting requests is
 * given the turn: its first request is released at once if the buckets allow (preferring this member's
 * own), else that member's timer is armed for when they will.</li>
 * <li>Timers are io_uring timeouts on the member's IoThread; a timer firing releases one request. Releasing
 * runs the request from a task posted to the member's IoThread (as QEMU restarts a coroutine from the
 * event loop), never inline.</li>
 * </ul>
 *
 * <p>Threads: the queues, the timer operation and the release task belong to {@link #thread}; the fields
 * marked "group lock" are read and written by any member's thread under {@link ThrottleGroup#lock}. A
 * member on another thread arms this member's timer by posting to {@link #thread}.
 */
public final class ThrottleMember implements Completion {
    /** Resumes a request that was queued (on the member's IoThread). */
    @FunctionalInterface
    public interface Resume {
        void resume(BlockRequest req);
    }

    private final ThrottleGroup group;
    final IoThread thread;
    private final Resume resume;
    @SuppressWarnings("unchecked")
    private final ArrayDeque<BlockRequest>[] queues = new ArrayDeque[] {new ArrayDeque<>(), new ArrayDeque<>()};
    /** Requests released but not yet run, per direction (the release task runs them). Member thread. */
    private final int[] released = new int[2];
    private boolean releasePosted;
    private final Runnable releaseTask = this::runReleased;
    /** Queued requests per direction, released or not (QEMU's pending_reqs). Group lock. */
    final int[] pending = new int[2];
    /** Whether the timer of a direction is armed (timer_pending). Group lock. */
    final boolean[] timerArmed = new boolean[2];
    /** When an armed timer is due, {@link System#nanoTime} (group lock); applied on the member thread. */
    final long[] timerDue = new long[2];
    /** The io_uring timeout in flight per direction, and its generation (a replaced one is ignored). Member thread. */
    private final long[] timerOp = {-1, -1};
    private final long[] timerGen = new long[2];
    private final Runnable[] applyTimer = {() -> applyTimer(0), () -> applyTimer(1)};
    private boolean closed;

    ThrottleMember(ThrottleGroup group, IoThread thread, Resume resume) {
        this.group = group;
        this.thread = thread;
        this.resume = resume;
    }

    public IoThread thread() {
        return thread;
    }

    /**
     * QEMU's throttle_group_co_io_limits_intercept(), on the member's thread: true when the request may go now
     * (it has been accounted); false when it was queued — it is handed to {@link Resume#resume} later, on this
     * thread. {@code write} covers writes, write-zeroes and discards.
     */
    public boolean admit(BlockRequest req, boolean write, long bytes) {
        int d = write ? ThrottleGroup.WRITE : ThrottleGroup.READ;
        ThrottleGroup g = group;
        g.lock.lock();
        try {
            ThrottleMember token = nextToken(d);
            boolean mustWait = token.scheduleTimer(d);
            if (mustWait || pending[d] != 0) {
                pending[d]++;
                queues[d].addLast(req);
                return false;
            }
            g.state.account(d, bytes);
            scheduleNext(d);
            return true;
        } finally {
            g.lock.unlock();
        }
    }

    /** next_throttle_token(). Group lock. */
    private ThrottleMember nextToken(int d) {
        ThrottleGroup g = group;
        ThrottleMember start = g.tokens[d];
        if (start == null || !g.members.contains(start)) {
            start = this;
        }
        ThrottleMember token = g.next(start);
        while (token != start && token.pending[d] == 0) {
            token = g.next(token);
        }
        if (token == start && token.pending[d] == 0) {
            token = this;
        }
        return token;
    }

    /** throttle_group_schedule_timer() for this member. Group lock. */
    private boolean scheduleTimer(int d) {
        ThrottleGroup g = group;
        if (g.anyTimerArmed[d]) {
            return true;
        }
        long now = System.nanoTime();
        long wait = g.state.computeTimer(d, now);
        if (wait == 0) {
            return false;
        }
        if (!timerArmed[d]) {
            arm(d, now + wait);
        }
        g.tokens[d] = this;
        g.anyTimerArmed[d] = true;
        return true;
    }

    /** schedule_next_request(): called by this member (the one that just let a request go). Group lock. */
    private void scheduleNext(int d) {
        ThrottleGroup g = group;
        ThrottleMember token = nextToken(d);
        if (token.pending[d] == 0) {
            return;
        }
        boolean mustWait = token.scheduleTimer(d);
        if (!mustWait) {
            if (releaseOne(d)) {
                token = this;
            } else {
                token.arm(d, System.nanoTime());
                g.anyTimerArmed[d] = true;
            }
            g.tokens[d] = token;
        }
    }

    /** Releases this member's oldest unreleased request of direction d, if any. Group lock, member thread. */
    private boolean releaseOne(int d) {
        if (queues[d].size() <= released[d]) {
            return false;
        }
        released[d]++;
        if (!releasePosted) {
            releasePosted = true;
            thread.execute(releaseTask);
        }
        return true;
    }

    /** Runs released requests: each is accounted and makes way for the next, then continues down the graph. */
    private void runReleased() {
        releasePosted = false;
        for (int d = 0; d < 2; d++) {
            while (released[d] > 0) {
                released[d]--;
                BlockRequest req = queues[d].pollFirst();
                ThrottleGroup g = group;
                g.lock.lock();
                try {
                    pending[d]--;
                    g.state.account(d, req.length);
                    scheduleNext(d);
                } finally {
                    g.lock.unlock();
                }
                resume.resume(req);
            }
        }
    }

    /** timer_mod(): arms (or re-arms) this member's timer for {@code due}. Group lock; any thread. */
    private void arm(int d, long due) {
        timerArmed[d] = true;
        timerDue[d] = due;
        if (thread.inThread()) {
            applyTimer(d);
        } else {
            thread.execute(applyTimer[d]);
        }
    }

    /** Submits the io_uring timeout for the armed due time (replacing one in flight). Member thread. */
    private void applyTimer(int d) {
        if (closed) {
            return;
        }
        long due;
        ThrottleGroup g = group;
        g.lock.lock();
        try {
            if (!timerArmed[d]) {
                return;
            }
            due = timerDue[d];
        } finally {
            g.lock.unlock();
        }
        if (timerOp[d] >= 0) {
            thread.cancel(timerOp[d]);
        }
        long gen = ++timerGen[d];
        timerOp[d] = thread.timeout(Math.max(0, due - System.nanoTime()), this, (gen << 1) | d);
    }

    /** An io_uring timeout completed: timer_cb() if it is the current one and it expired. */
    @Override
    public void complete(int res, int flags, long tag) {
        int d = (int) (tag & 1);
        if ((tag >>> 1) != timerGen[d]) {
            return; // replaced or cancelled
        }
        timerOp[d] = -1;
        if (res != -Errno.ETIME && res != 0) {
            return; // cancelled on shutdown
        }
        fire(d);
    }

    /** timer_cb() + throttle_group_restart_queue(). Member thread. */
    private void fire(int d) {
        ThrottleGroup g = group;
        g.lock.lock();
        try {
            timerArmed[d] = false;
            g.anyTimerArmed[d] = false;
            if (!releaseOne(d)) {
                scheduleNext(d);
            }
        } finally {
            g.lock.unlock();
        }
    }

    /**
     * New limits: QEMU's throttle_group_restart_tgm() — a pending timer fires now, else the queue is restarted.
     * Any thread (posts to the member's thread).
     */
    void restartAll() {
        thread.execute(() -> {
            if (closed) {
                return;
            }
            for (int d = 0; d < 2; d++) {
                if (timerOp[d] >= 0) {
                    thread.cancel(timerOp[d]);
                    timerOp[d] = -1;
                    timerGen[d]++;
                }
                ThrottleGroup g = group;
                boolean armed;
                g.lock.lock();
                try {
                    armed = timerArmed[d];
                } finally {
                    g.lock.unlock();
                }
                if (armed) {
                    fire(d);
                } else {
                    g.lock.lock();
                    try {
                        if (!releaseOne(d)) {
                            scheduleNext(d);
                        }
                    } finally {
                        g.lock.unlock();
                    }
                }
            }
        });
    }

    /** Requests waiting (both directions). Member thread. */
    public int queued() {
        return queues[0].size() + queues[1].size();
    }

    /**
     * Leaves the group (node closed): the caller has drained the node, so no request is queued. Member thread
     * or after the thread stopped.
     */
    public void close() {
        group.unregister(this);
        closed = true;
        try {
            thread.execute(() -> {
                for (int d = 0; d < 2; d++) {
                    if (timerOp[d] >= 0) {
                        timerGen[d]++;
                        thread.cancel(timerOp[d]);
                        timerOp[d] = -1;
                    }
                }
            });
        } catch (RuntimeException stopped) {
            // the IoThread is gone, and its ring with it
        }
    }
}
