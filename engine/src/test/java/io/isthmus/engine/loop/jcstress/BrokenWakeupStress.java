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
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A deliberately broken producer (it checks the state before enqueueing): the same outcomes as
 * {@link WakeupStress.NoLostWakeup}. JcstressTest runs it and expects jcstress to report the forbidden lost
 * wake-up: proof that the harness detects the bug the real protocol is designed against. Not part of the
 * passing set.
 */
public final class BrokenWakeupStress {
    private BrokenWakeupStress() {}

    @JCStressTest
    @Description("BROKEN ON PURPOSE: producer checks before it offers, so a wake-up can be lost.")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "consumer saw the task")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "consumer blocks and is signalled")
    @Outcome(id = "1, 0", expect = ACCEPTABLE_INTERESTING, desc = "spurious signal")
    @Outcome(id = "0, 1", expect = FORBIDDEN, desc = "lost wake-up")
    @State
    public static class CheckBeforeOffer {
        final TaskQueue q = new TaskQueue();
        final Wakeup w = new Wakeup();

        @Actor
        public void producer(II_Result r) {
            boolean signal = w.needsSignal();
            q.offer(() -> { });
            r.r1 = signal ? 1 : 0;
        }

        @Actor
        public void consumer(II_Result r) {
            r.r2 = w.prepareToSleep(q) ? 1 : 0;
        }
    }
}
