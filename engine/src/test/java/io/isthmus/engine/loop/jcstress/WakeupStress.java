package io.isthmus.engine.loop.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.isthmus.engine.loop.TaskQueue;
import io.isthmus.engine.loop.Wakeup;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * The IoThread's sleep/wake-up protocol ({@link Wakeup}) with the real queue: a consumer that decides to block
 * must be signalled by a producer whose task it did not see. Outcome (signalled, blocked).
 */
public final class WakeupStress {
    private WakeupStress() {}

    @JCStressTest
    @Description("Producer offers then checks; consumer announces sleep then checks: no lost wake-up.")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "consumer saw the task and stays awake, no signal")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "consumer blocks and is signalled")
    @Outcome(id = "1, 0", expect = ACCEPTABLE_INTERESTING, desc = "spurious signal: consumer saw the task anyway")
    @Outcome(id = "0, 1", expect = FORBIDDEN, desc = "lost wake-up: consumer blocks, nobody signals")
    @State
    public static class NoLostWakeup {
        final TaskQueue q = new TaskQueue();
        final Wakeup w = new Wakeup();

        @Actor
        public void producer(II_Result r) {
            q.offer(() -> { });
            r.r1 = w.needsSignal() ? 1 : 0;
        }

        @Actor
        public void consumer(II_Result r) {
            r.r2 = w.prepareToSleep(q) ? 1 : 0;
        }
    }

    @JCStressTest
    @Description("Two producers post to a consumer that is already asleep: exactly one of them signals.")
    @Outcome(id = {"1, 0", "0, 1"}, expect = ACCEPTABLE, desc = "exactly one producer rings the doorbell")
    @Outcome(id = "0, 0", expect = FORBIDDEN, desc = "lost wake-up: nobody signals the sleeping consumer")
    @Outcome(id = "1, 1", expect = FORBIDDEN, desc = "two signals for one sleep")
    @State
    public static class ExactlyOneSignal {
        final TaskQueue q = new TaskQueue();
        final Wakeup w = new Wakeup();

        public ExactlyOneSignal() {
            if (!w.prepareToSleep(q)) {
                throw new IllegalStateException("an empty queue must let the consumer sleep");
            }
        }

        @Actor
        public void producer1(II_Result r) {
            q.offer(() -> { });
            r.r1 = w.needsSignal() ? 1 : 0;
        }

        @Actor
        public void producer2(II_Result r) {
            q.offer(() -> { });
            r.r2 = w.needsSignal() ? 1 : 0;
        }
    }

    @JCStressTest
    @Description("A consumer back from sleep (awake: a release store) looks at the queue and announces sleep again"
            + " while a producer posts: it blocks only if signalled.")
    @Outcome(id = "0, 0, 1", expect = FORBIDDEN, desc = "lost wake-up: consumer missed the task, blocks, no signal")
    @Outcome(expect = ACCEPTABLE, desc = "the consumer saw the task, or stays awake, or is signalled")
    @State
    public static class WakeThenSleepAgain {
        final TaskQueue q = new TaskQueue();
        final Wakeup w = new Wakeup();

        public WakeThenSleepAgain() {
            if (!w.prepareToSleep(q)) { // the consumer was asleep
                throw new IllegalStateException("an empty queue must let the consumer sleep");
            }
        }

        @Actor
        public void producer(III_Result r) {
            q.offer(() -> { });
            r.r1 = w.needsSignal() ? 1 : 0;
        }

        @Actor
        public void consumer(III_Result r) {
            w.awake();
            r.r2 = q.poll() != null ? 1 : 0;
            r.r3 = r.r2 == 0 && w.prepareToSleep(q) ? 1 : 0;
        }
    }
}
