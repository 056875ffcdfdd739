package io.isthmus.benchmarks.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysEventfd;
import io.isthmus.bindings.SysMman;
import io.isthmus.engine.export.vhostuser.DescriptorChain;
import io.isthmus.engine.export.vhostuser.GuestMemory;
import io.isthmus.engine.export.vhostuser.GuestMemoryRegion;
import io.isthmus.engine.export.vhostuser.MemoryRegionDescriptor;
import io.isthmus.engine.export.vhostuser.SplitVirtqueue;
import io.isthmus.engine.export.vhostuser.Virtqueue;
import io.isthmus.engine.export.vhostuser.VirtioBlk;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The front end's driver ring against the engine's device side, in one process and without a daemon: a
 * {@link DriverQueue} in a memfd, and the engine's {@link SplitVirtqueue} over a second mapping of that memfd
 * (as a back end maps it) popping its chains on another thread, answering reads with the {@link Pattern} of the
 * requested sector and checking that writes carry it. With and without EVENT_IDX, interrupt and poll completion.
 * Proves the ring layout, the descriptor chains, the header's sector and the kick/notify suppression agree with
 * the engine's reading of virtio.
 */
class DriverQueueLoopbackTest {
    private static final long GPA = 1L << 32;
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void theEnginesSplitVirtqueueServesTheDriverRing() throws Exception {
        for (boolean eventIdx : new boolean[] {true, false}) {
            for (DriverQueue.Completion c : DriverQueue.Completion.values()) {
                for (String rw : new String[] {"randread", "write"}) {
                    loop(rw, eventIdx, c);
                }
            }
        }
    }

    private static void loop(String rw, boolean eventIdx, DriverQueue.Completion completion) throws Exception {
        int depth = 8;
        int bs = 4096;
        long deviceSize = 1 << 20;
        long ios = 3000;
        int qsize = DriverQueue.sizeFor(depth);
        long len = DriverQueue.bytesFor(qsize, depth, bs);
        String what = rw + (eventIdx ? " event_idx " : " ") + completion;
        int memfd = Posix.memfdCreate("loopback", SysMman.MFD_CLOEXEC);
        int kick = Posix.eventfd(0, SysEventfd.EFD_CLOEXEC | SysEventfd.EFD_NONBLOCK);
        int call = Posix.eventfd(0, SysEventfd.EFD_CLOEXEC | SysEventfd.EFD_NONBLOCK);
        assertTrue(memfd >= 0 && kick >= 0 && call >= 0);
        assertEquals(0, Posix.ftruncate(memfd, len));
        long addr = Posix.mmap(0, len, SysMman.PROT_READ | SysMman.PROT_WRITE, SysMman.MAP_SHARED, memfd, 0);
        assertTrue(addr > 0);
        MemorySegment mem = MemorySegment.ofAddress(addr).reinterpret(len);
        GuestMemory gm = null;
        try {
            Workload w = new Workload(rw, bs, deviceSize, 0, 1, ios, true);
            DriverQueue dq = new DriverQueue(0, mem, 0, GPA, qsize, depth, bs, kick, call, eventIdx, completion, w);
            gm = GuestMemory.of(GuestMemoryRegion.map(Posix.dup(memfd),
                    new MemoryRegionDescriptor(GPA, len, addr, 0)));
            SplitVirtqueue vq = SplitVirtqueue.map(gm, qsize, addr + dq.descOffset(), addr + dq.availOffset(),
                    addr + dq.usedOffset(), 0, eventIdx, false);
            Device device = new Device(vq, bs, deviceSize, call, w.write());
            Thread t = Thread.ofPlatform().name("device").start(device);
            long now = System.nanoTime();
            dq.run(now, now + TimeUnit.SECONDS.toNanos(20), TimeUnit.SECONDS.toNanos(10));
            device.stop = true;
            t.join();
            assertNull(device.failure.get(), what);
            assertNull(dq.failure, what);
            assertEquals(ios, dq.completed, what);
            assertEquals(ios, device.served, what);
            assertEquals(0, dq.ioErrors, what);
            assertEquals(0, dq.mismatches, what + ": data read back matches the sector asked for");
            assertEquals(dq.availIndex(), vq.lastAvailIndex(), what);
            if (eventIdx) {
                assertTrue(dq.kicks < ios, what + ": kicks suppressed while the device was busy: " + dq.kicks);
            }
        } finally {
            if (gm != null) {
                gm.closeAll();
            }
            Posix.munmap(addr, len);
            Posix.close(memfd);
            Posix.close(kick);
            Posix.close(call);
        }
    }

    /** The back end: pops chains, serves them from the pattern, pushes, notifies as the queue says. */
    private static final class Device implements Runnable {
        final SplitVirtqueue vq;
        final int bs;
        final long size;
        final int call;
        final boolean write;
        final AtomicReference<String> failure = new AtomicReference<>();
        volatile boolean stop;
        long served;

        Device(SplitVirtqueue vq, int bs, long size, int call, boolean write) {
            this.vq = vq;
            this.bs = bs;
            this.size = size;
            this.call = call;
            this.write = write;
        }

        @Override
        public void run() {
            DescriptorChain chain = new DescriptorChain(16);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment hdr = a.allocate(VirtioBlk.OUTHDR_SIZE);
                MemorySegment buf = a.allocate(bs, 8);
                MemorySegment one = a.allocate(8, 8);
                one.set(ValueLayout.JAVA_LONG, 0, 1);
                while (!stop) {
                    int r = vq.pop(chain);
                    if (r == Virtqueue.EMPTY) {
                        Thread.onSpinWait();
                        continue;
                    }
                    if (r != Virtqueue.POPPED) {
                        failure.set("pop: " + r + " " + DescriptorChain.errorName(chain.error));
                        return;
                    }
                    if (chain.count != 3 || chain.readable != (write ? 2 : 1)) {
                        failure.set("chain of " + chain.count + " segments, " + chain.readable + " readable");
                        return;
                    }
                    chain.read(0, hdr, 0, VirtioBlk.OUTHDR_SIZE);
                    int type = hdr.get(LE_INT, 0);
                    long offset = hdr.get(LE_LONG, 8) << VirtioBlk.SECTOR_BITS;
                    if (type != (write ? VirtioBlk.T_OUT : VirtioBlk.T_IN) || offset % bs != 0 || offset >= size) {
                        failure.set("request type " + type + " at offset " + offset);
                        return;
                    }
                    int written;
                    if (write) {
                        chain.read(VirtioBlk.OUTHDR_SIZE, buf, 0, bs);
                        if (!Pattern.check(buf, 0, bs, offset)) {
                            failure.set("written data at " + offset + " is not the pattern");
                            return;
                        }
                        chain.writeByte(0, VirtioBlk.S_OK);
                        written = 1;
                    } else {
                        Pattern.fill(buf, 0, bs, offset);
                        chain.write(0, buf, 0, bs);
                        chain.writeByte(bs, VirtioBlk.S_OK);
                        written = bs + 1;
                    }
                    vq.push(chain.head, written);
                    served++;
                    if (vq.needsNotify()) {
                        Posix.write(call, one, 8);
                    }
                }
            }
        }
    }
}
