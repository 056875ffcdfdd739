package io.isthmus.engine.loop.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.isthmus.engine.loop.TaskQueue;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/** The IoThread's MPSC task queue under concurrent producers and a consumer polling at the same time. */
public final class TaskQueueStress {
    private TaskQueueStress() {}

    @JCStressTest
    @Description("Two producers offer at once (racing on the tail swap): after both, every task is seen once.")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "each task seen once")
    @Outcome(expect = FORBIDDEN, desc = "a task lost or seen twice")
    @State
    public static class TwoProducers {
        final TaskQueue q = new TaskQueue();
        final Runnable a = () -> { }, b = () -> { };

        @Actor
        public void producer1() {
            q.offer(a);
        }

        @Actor
        public void producer2() {
            q.offer(b);
        }

        @Arbiter
        public void consumer(II_Result r) {
            for (Runnable t = q.poll(); t != null; t = q.poll()) {
                if (t == a) {
                    r.r1++;
                } else if (t == b) {
                    r.r2++;
                }
            }
        }
    }

    @JCStressTest
    @Description("A producer offers while the consumer (itself posting a task, as a loop may) polls: each seen once.")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "each task seen once")
    @Outcome(expect = FORBIDDEN, desc = "a task lost or seen twice")
    @State
    public static class ProducerAndPollingConsumer {
        final TaskQueue q = new TaskQueue();
        final Runnable a = () -> { }, b = () -> { };
        int seenA, seenB;

        private void count(Runnable t) {
            if (t == a) {
                seenA++;
            } else if (t == b) {
                seenB++;
            }
        }

        @Actor
        public void producer() {
            q.offer(a);
        }

        @Actor
        public void consumer() {
            q.offer(b);
            count(q.poll());
            count(q.poll());
        }

        @Arbiter
        public void arbiter(II_Result r) {
            for (Runnable t = q.poll(); t != null; t = q.poll()) {
                count(t);
            }
            r.r1 = seenA;
            r.r2 = seenB;
        }
    }

    @JCStressTest
    @Description("One producer's tasks come out in the order offered; isEmpty is false once a poll missed one.")
    @Outcome(id = "1, 2, 0", expect = ACCEPTABLE, desc = "in order")
    @Outcome(expect = FORBIDDEN, desc = "out of order, lost, or the queue claims empty with a task in it")
    @State
    public static class ProducerOrder {
        final TaskQueue q = new TaskQueue();
        final Runnable a = () -> { }, b = () -> { };
        int first, second, emptyWhileMissing;

        @Actor
        public void producer() {
            q.offer(a);
            q.offer(b);
        }

        @Actor
        public void consumer() {
            Runnable r = q.poll();
            if (r == a) {
                first = 1;
                Runnable r2 = q.poll();
                if (r2 == b) {
                    second = 2;
                } else if (r2 != null) {
                    second = -1;
                }
            } else if (r == b) {
                first = -1;
            }
        }

        @Arbiter
        public void arbiter(III_Result r) {
            // after the race every offer has completed: the queue must not report empty while tasks remain
            boolean remaining = first == 0 || second == 0;
            if (remaining && q.isEmpty()) {
                emptyWhileMissing = 1;
            }
            for (Runnable t = q.poll(); t != null; t = q.poll()) {
                if (t == a && first == 0) {
                    first = 1;
                } else if (t == b && first == 1 && second == 0) {
                    second = 2;
                } else {
                    second = -2;
                }
            }
            r.r1 = first;
            r.r2 = second;
            r.r3 = emptyWhileMissing;
        }
    }
}
