package io.isthmus.engine.export.vhostuser.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.isthmus.engine.export.vhostuser.SplitVirtqueue;
import java.lang.invoke.VarHandle;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * The split-ring publication protocol between a guest driver (written as Linux's virtio_ring orders it) and the
 * real {@link SplitVirtqueue}: buffers published through the avail index are seen whole, used entries published
 * through the used index are seen whole, and neither side's notification suppression can lose a kick or an
 * interrupt (the full fences between publishing an index and reading the other side's event field).
 */
public final class VirtqueueStress {
    private VirtqueueStress() {}

    @JCStressTest
    @Description("Driver fills a descriptor and publishes the avail index; the device pops: all or nothing.")
    @Outcome(id = "-1", expect = ACCEPTABLE, desc = "the device saw no new buffer yet")
    @Outcome(id = "42", expect = ACCEPTABLE, desc = "the device saw the buffer and its length")
    @Outcome(expect = FORBIDDEN, desc = "the device saw the index but a stale descriptor")
    @State
    public static class AvailPublication {
        final RingMemory r = new RingMemory(false);

        @Actor
        public void driver() {
            r.prepare(0, 42);
            r.publishAvail(1);
        }

        @Actor
        public void device(I_Result res) {
            int p = r.queue.pop(r.chain);
            res.r1 = p == SplitVirtqueue.POPPED ? (int) r.chain.length(0) : p == SplitVirtqueue.EMPTY ? -1 : -100 - p;
        }
    }

    @JCStressTest
    @Description("Device writes a used entry and publishes the used index; the driver reads it: all or nothing.")
    @Outcome(id = "-1", expect = ACCEPTABLE, desc = "the driver saw no completion yet")
    @Outcome(id = "42", expect = ACCEPTABLE, desc = "the driver saw the completion and its length")
    @Outcome(expect = FORBIDDEN, desc = "the driver saw the index but a stale used entry")
    @State
    public static class UsedPublication {
        final RingMemory r = new RingMemory(false);

        @Actor
        public void device() {
            r.queue.push(0, 42);
        }

        @Actor
        public void driver(I_Result res) {
            res.r1 = r.usedIdxAcquire() == 1 ? r.usedLen(0) : -1;
        }
    }

    @JCStressTest
    @Description("EVENT_IDX: the device completes and decides whether to interrupt while the driver re-enables"
            + " interrupts (used_event) and re-checks the used index. Outcome (interrupt, driver saw it).")
    @Outcome(id = "0, 0", expect = FORBIDDEN, desc = "lost interrupt: no signal and the driver goes to sleep")
    @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "interrupted")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "the driver found the completion itself")
    @Outcome(id = "1, 1", expect = ACCEPTABLE_INTERESTING, desc = "both")
    @State
    public static class NoLostInterrupt {
        final RingMemory r = new RingMemory(true);

        public NoLostInterrupt() {
            r.queue.push(0, 0); // used idx 1, signalled: from now on used_event decides
            r.queue.needsNotify();
            r.setUsedEvent(100); // the driver had interrupts off
        }

        @Actor
        public void device(II_Result res) {
            r.queue.push(0, 0);
            res.r1 = r.queue.needsNotify() ? 1 : 0;
        }

        @Actor
        public void driver(II_Result res) {
            r.setUsedEvent(1); // interrupt me once the used index passes 1 (virtqueue_enable_cb_prepare)
            VarHandle.fullFence(); // virtio_mb
            res.r2 = r.usedIdxAcquire() != 1 ? 1 : 0; // virtqueue_poll
        }
    }

    @JCStressTest
    @Description("EVENT_IDX: the device re-enables kicks (avail_event) and re-checks while the driver publishes a"
            + " buffer and decides whether to kick. Outcome (device saw it, driver kicked).")
    @Outcome(id = "0, 0", expect = FORBIDDEN, desc = "lost kick: the device sleeps and nobody kicks")
    @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the device found the buffer itself")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "kicked")
    @Outcome(id = "1, 1", expect = ACCEPTABLE_INTERESTING, desc = "both")
    @State
    public static class NoLostKick {
        final RingMemory r = new RingMemory(true);

        public NoLostKick() {
            r.setAvailEvent(100); // the device had kicks off
        }

        @Actor
        public void device(II_Result res) {
            res.r1 = r.queue.setNotification(true) ? 1 : 0;
        }

        @Actor
        public void driver(II_Result res) {
            r.prepare(0, 42);
            r.publishAvail(1);
            VarHandle.fullFence(); // virtqueue_kick_prepare: virtio_mb
            res.r2 = SplitVirtqueue.needEvent(r.availEvent(), 1, 0) ? 1 : 0;
        }
    }

    @JCStressTest
    @Description("No EVENT_IDX: the device clears NO_NOTIFY and re-checks while the driver publishes a buffer and"
            + " reads the flag. Outcome (device saw it, driver kicked).")
    @Outcome(id = "0, 0", expect = FORBIDDEN, desc = "lost kick")
    @Outcome(expect = ACCEPTABLE, desc = "the device saw the buffer, or was kicked")
    @State
    public static class NoLostKickWithFlags {
        final RingMemory r = new RingMemory(false);

        public NoLostKickWithFlags() {
            r.queue.setNotification(false);
        }

        @Actor
        public void device(II_Result res) {
            res.r1 = r.queue.setNotification(true) ? 1 : 0;
        }

        @Actor
        public void driver(II_Result res) {
            r.prepare(0, 42);
            r.publishAvail(1);
            VarHandle.fullFence();
            res.r2 = (r.usedFlags() & SplitVirtqueue.USED_F_NO_NOTIFY) == 0 ? 1 : 0;
        }
    }

    @JCStressTest
    @Description("BROKEN ON PURPOSE: the driver re-enables interrupts without the full fence before re-checking;"
            + " VirtqueueJcstressTest expects jcstress to catch the lost interrupt. Outcome as NoLostInterrupt.")
    @Outcome(id = "0, 0", expect = FORBIDDEN, desc = "lost interrupt")
    @Outcome(expect = ACCEPTABLE, desc = "interrupted, or the driver found the completion")
    @State
    public static class BrokenInterruptNoFence {
        final RingMemory r = new RingMemory(true);

        public BrokenInterruptNoFence() {
            r.queue.push(0, 0);
            r.queue.needsNotify();
            r.setUsedEvent(100);
        }

        @Actor
        public void device(II_Result res) {
            r.queue.push(0, 0);
            res.r1 = r.queue.needsNotify() ? 1 : 0;
        }

        @Actor
        public void driver(II_Result res) {
            r.setUsedEvent(1);
            res.r2 = r.usedIdxAcquire() != 1 ? 1 : 0; // no fence: the store may pass the load
        }
    }
}
