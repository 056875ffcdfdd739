package io.isthmus.engine.loop;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sleep/wake-up protocol between an IoThread (the consumer of its {@link TaskQueue}) and the threads that
 * post tasks to it. It decides when a producer must ring the doorbell (write the eventfd whose read is armed
 * on the ring), so that a producer pays for a system call only when the loop is about to sleep or sleeping.
 *
 * <p>The protocol is Dekker's: the consumer announces {@code SLEEPING} and then looks at the queue; a producer
 * enqueues and then looks at the state. Both are sequentially consistent (volatile/atomic) accesses, so at least
 * one of the two sees the other's write: either the consumer sees the task and does not block, or the producer
 * sees {@code SLEEPING} and signals. Exactly one producer wins the CAS back to {@code AWAKE} and writes the
 * eventfd; a signal sent while the consumer had already decided not to block is only a spurious wake-up.
 * The jcstress tests in {@code engine/src/test/.../loop/jcstress} prove that no wake-up is lost.
 *
 * <p>Thread use: {@link #prepareToSleep} and {@link #awake} on the consumer; {@link #needsSignal} on any thread.
 * No native memory.
 */
public final class Wakeup {
    static final int AWAKE = 0, SLEEPING = 1;

    private final AtomicInteger state = new AtomicInteger(AWAKE);

    /**
     * Consumer: announce the intent to block, then check the queue. Returns true when the consumer may block
     * (no task is pending: any later task's producer will see {@code SLEEPING} and signal).
     */
    public boolean prepareToSleep(TaskQueue tasks) {
        state.set(SLEEPING);
        return tasks.isEmpty();
    }

    /**
     * Consumer: back from the kernel (or decided not to block). A release store, not a full fence (this runs
     * once per loop turn): it only spares producers a signal. Until it is visible a producer may still see
     * {@code SLEEPING} and signal needlessly (a spurious wake-up); it can never cost a needed signal, because
     * the consumer only blocks after {@link #prepareToSleep}, whose sequentially consistent store and queue
     * check come after this store and decide alone (the {@code WakeupStress.WakeThenSleepAgain} jcstress test).
     */
    public void awake() {
        state.setRelease(AWAKE);
    }

    /** Producer, after enqueueing: true when this producer must signal the consumer (exactly one does). */
    public boolean needsSignal() {
        return state.get() == SLEEPING && state.compareAndSet(SLEEPING, AWAKE);
    }

    /** Forces the next {@link #needsSignal} to return true (shutdown: make sure the loop wakes). */
    void forceSleeping() {
        state.set(SLEEPING);
    }
}
