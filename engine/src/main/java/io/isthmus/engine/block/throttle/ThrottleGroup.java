package io.isthmus.engine.block.throttle;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A throttle group (QEMU's ThrottleGroup, block/throttle-groups.c): one set of leaky buckets shared by
 * every throttle node that names the group, served round-robin between those members per direction.
 *
 * <p>Threads: members may live on different IoThreads, so the bucket state and the round-robin
 * tokens are guarded by {@link #lock} (as QEMU guards them with tg->lock); the lock is held only for the
 * few arithmetic steps of an admission decision, never across I/O or a wait. {@link #configure} is
 * called by the control thread (object-add, qom-set); it takes effect on requests already queued: every
 * member's waiting requests are re-examined at once on their own IoThreads. The config held here is
 * never mutated after publication; {@link #config()} returns a copy.
 */
public final class ThrottleGroup {
    static final int READ = 0, WRITE = 1;

    private final String name;
    final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}. */
    final ThrottleState state = new ThrottleState();
    /** Members in join order (QEMU's tg->head); guarded by {@link #lock}. */
    final List<ThrottleMember> members = new ArrayList<>();
    /** The member whose turn it is, per direction (tg->tokens); guarded by {@link #lock}. */
    final ThrottleMember[] tokens = new ThrottleMember[2];
    /** Whether some member's timer is armed, per direction (tg->any_timer_armed); guarded by {@link #lock}. */
    final boolean[] anyTimerArmed = new boolean[2];
    /** Throttle nodes using the group; guarded by {@link #lock}. */
    private int users;
    /** Fast path: no bucket has a rate, so nothing is throttled. Written under the lock. */
    volatile boolean enabled;

    public ThrottleGroup(String name, ThrottleConfig config) {
        this.name = name;
        lock.lock();
        try {
            state.configure(config.copy(), System.nanoTime());
            enabled = config.enabled();
        } finally {
            lock.unlock();
        }
    }

    public String name() {
        return name;
    }

    /** A copy of the current limits. Any thread. */
    public ThrottleConfig config() {
        lock.lock();
        try {
            return state.config.copy();
        } finally {
            lock.unlock();
        }
    }

    /**
     * New limits (already {@link ThrottleConfig#validate validated}): the buckets restart empty, as in QEMU's
     * throttle_config(), and each member's queued requests are re-examined at once (QEMU's
     * throttle_group_restart_tgm). Any thread.
     */
    public void configure(ThrottleConfig config) {
        List<ThrottleMember> restart;
        lock.lock();
        try {
            state.configure(config.copy(), System.nanoTime());
            enabled = config.enabled();
            restart = List.copyOf(members);
        } finally {
            lock.unlock();
        }
        for (ThrottleMember m : restart) {
            m.restartAll();
        }
    }

    /** How many throttle nodes use the group (object-del refuses while any does). Any thread. */
    public int memberCount() {
        lock.lock();
        try {
            return users;
        } finally {
            lock.unlock();
        }
    }

    /** A throttle node starts using the group (open). */
    public void addUser() {
        lock.lock();
        try {
            users++;
        } finally {
            lock.unlock();
        }
    }

    /** A throttle node stopped using the group (close). */
    public void removeUser() {
        lock.lock();
        try {
            users--;
        } finally {
            lock.unlock();
        }
    }

    /** A node's member for requests on {@code thread} (made on the node's first request there). */
    public ThrottleMember join(io.isthmus.engine.loop.IoThread thread, ThrottleMember.Resume resume) {
        ThrottleMember m = new ThrottleMember(this, thread, resume);
        register(m);
        return m;
    }

    /** Whether any bucket has a rate; when none has, members with nothing queued skip the group. Any thread. */
    public boolean enabled() {
        return enabled;
    }

    void register(ThrottleMember m) {
        lock.lock();
        try {
            members.add(m);
            for (int d = 0; d < 2; d++) {
                if (tokens[d] == null) {
                    tokens[d] = m;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    void unregister(ThrottleMember m) {
        lock.lock();
        try {
            int i = members.indexOf(m);
            if (i < 0) {
                return;
            }
            for (int d = 0; d < 2; d++) {
                if (tokens[d] == m) {
                    tokens[d] = members.size() > 1 ? members.get((i + 1) % members.size()) : null;
                }
            }
            members.remove(i);
        } finally {
            lock.unlock();
        }
    }

    /** The member after {@code m} in join order, wrapping (QEMU's throttle_group_next_tgm). Under the lock. */
    ThrottleMember next(ThrottleMember m) {
        int i = members.indexOf(m);
        return members.get((i + 1) % members.size());
    }
}
