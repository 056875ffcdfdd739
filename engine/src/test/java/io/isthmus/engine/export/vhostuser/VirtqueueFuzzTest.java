package io.isthmus.engine.export.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Drives the split- and packed-ring chain walkers (and the virtio-blk request checks behind them) over guest
 * memory whose rings, descriptors, indirect tables and request headers are arbitrary bytes: nothing may throw,
 * every popped chain must lie inside guest memory with readable buffers first, and a split walk must end (EMPTY
 * or BROKEN) within the ring's bounds. Seeds in VirtqueueFuzzTestInputs/ replay under JUnit; JAZZER_FUZZ=1 fuzzes.
 */
class VirtqueueFuzzTest {
    static final long GPA = 0x10000;
    static final int MEM = 64 * 1024;
    static TestGuest guest;
    /** Chains popped whole (POPPED) and virtio-blk requests submitted by the last walk: the seeds' tests read them. */
    static int popped, submitted;

    @BeforeAll
    static void map() throws Exception {
        guest = TestGuest.create(GPA, MEM, 0x7f0000000000L);
    }

    @AfterAll
    static void unmap() {
        guest.close();
    }

    @FuzzTest(maxDuration = "30s")
    void splitChainWalkStaysInsideGuestMemory(FuzzedDataProvider data) throws Exception {
        walk(new ByteInput(data.consumeRemainingAsBytes()));
    }

    @FuzzTest(maxDuration = "30s")
    void packedChainWalkStaysInsideGuestMemory(FuzzedDataProvider data) throws Exception {
        walkPacked(new ByteInput(data.consumeRemainingAsBytes()));
    }

    static void walk(ByteInput in) throws VhostUserException {
        MemorySegment mem = guest.mem;
        mem.fill((byte) 0);
        int size = 1 << in.range(0, 8); // 1..256 entries
        boolean eventIdx = in.bool();
        boolean indirect = in.bool();
        int base = in.u16();
        // the rings at the start of memory; then the input's bytes, spread over memory in runs, so that
        // descriptors, tables and buffers all come from it (addresses biased towards guest memory)
        guest.ring(size, GPA);
        scatter(in, mem);
        SplitVirtqueue q = new SplitVirtqueue(guest.memory, size, guest.memory.slice(guest.descGpa, 16L * size),
                guest.memory.slice(guest.availGpa, 6 + 2L * size), guest.memory.slice(guest.usedGpa, 6 + 8L * size),
                base, eventIdx, indirect);
        if (!drain(q, size + 1)) {
            throw new AssertionError("more pops than the queue holds without EMPTY or BROKEN");
        }
    }

    /** Packed rings: the ring at the start of memory, the event areas after it, any size up to 300. */
    static void walkPacked(ByteInput in) throws VhostUserException {
        MemorySegment mem = guest.mem;
        mem.fill((byte) 0);
        int size = in.range(1, 300);
        boolean eventIdx = in.bool();
        boolean indirect = in.bool();
        int base = (in.range(0, size - 1) | (in.bool() ? 0x8000 : 0))
                | (in.range(0, size - 1) | (in.bool() ? 0x8000 : 0)) << 16;
        scatter(in, mem);
        long events = GPA + 16L * size;
        PackedVirtqueue q = new PackedVirtqueue(guest.memory, size, guest.memory.slice(GPA, 16L * size),
                guest.memory.slice(events, 4), guest.memory.slice(events + 4, 4), base, eventIdx, indirect);
        drain(q, 2 * size + 2); // a packed ring has no index to run out of: bounded by the test
    }

    /** Spreads the input over memory in runs, so descriptors, tables and buffers come from it. */
    private static void scatter(ByteInput in, MemorySegment mem) {
        while (in.remaining() > 0) {
            int at = in.range(0, MEM - 1);
            byte[] run = in.bytes(in.range(1, 64));
            MemorySegment.copy(run, 0, mem, ValueLayout.JAVA_BYTE, at, Math.min(run.length, MEM - at));
            if (in.bool() && at + 8 <= MEM) {
                mem.set(VhostUser.LE_LONG, at & ~7, GPA + in.range(0, MEM)); // a plausible buffer address
            }
        }
    }

    /** Pops and completes up to {@code max} chains; true if the queue ended (EMPTY or BROKEN) within that. */
    private static boolean drain(Virtqueue q, int max) {
        popped = submitted = 0;
        DescriptorChain chain = new DescriptorChain(130);
        VirtioBlkRequest req = new VirtioBlkRequest();
        MemorySegment iov = java.lang.foreign.Arena.ofAuto().allocate(16 * 130);
        for (int i = 0; i < max; i++) {
            int r = q.pop(chain);
            if (r == Virtqueue.EMPTY || r == Virtqueue.BROKEN) {
                return true;
            }
            if (r == Virtqueue.POPPED) {
                popped++;
                check(chain);
                if (req.parse(chain, 1 << 20, 512, true) == VirtioBlkRequest.SUBMIT && req.length > 0
                        && req.op <= io.isthmus.engine.block.BlockRequest.WRITE) {
                    submitted++;
                    int n = req.dataToIovecs(iov, 130);
                    for (int k = 0; k < n; k++) {
                        long a = iov.get(ValueLayout.JAVA_LONG, 16L * k);
                        long l = iov.get(ValueLayout.JAVA_LONG, 16L * k + 8);
                        inside(a, l);
                    }
                }
                q.addUsed(chain.head, req.finish(), chain.ringDescriptors);
            } else {
                q.addUsed(chain.head, 0, chain.ringDescriptors);
            }
            q.publishUsed();
            q.needsNotify();
        }
        return false;
    }

    private static void check(DescriptorChain c) {
        if (c.count > c.capacity() || c.readable > c.count) {
            throw new AssertionError("chain counts");
        }
        for (int i = 0; i < c.count; i++) {
            inside(c.hostAddress(i), c.length(i));
        }
    }

    private static void inside(long address, long length) {
        long lo = guest.mem.address();
        if (address < lo || length <= 0 || address + length > lo + MEM) {
            throw new AssertionError("a buffer outside guest memory: 0x" + Long.toHexString(address) + " + " + length);
        }
    }

    @Test
    void theSeedsReachTheDeviceAsIntended() throws Exception {
        String dir = "VirtqueueFuzzTestInputs/";
        walk(new ByteInput(seed(dir + "splitChainWalkStaysInsideGuestMemory/virtio_blk_read")));
        assertEquals(1, submitted, "split: a virtio-blk read");
        walk(new ByteInput(seed(dir + "splitChainWalkStaysInsideGuestMemory/indirect_write")));
        assertEquals(1, submitted, "split: an indirect virtio-blk write");
        walk(new ByteInput(seed(dir + "splitChainWalkStaysInsideGuestMemory/loop")));
        assertEquals(0, popped, "split: a looping chain fails its request");
        walkPacked(new ByteInput(seed(dir + "packedChainWalkStaysInsideGuestMemory/virtio_blk_read")));
        assertEquals(1, submitted, "packed: a virtio-blk read");
        walkPacked(new ByteInput(seed(dir + "packedChainWalkStaysInsideGuestMemory/indirect_write")));
        assertEquals(1, submitted, "packed: an indirect virtio-blk write");
    }

    private static byte[] seed(String name) throws java.io.IOException {
        try (var in = VirtqueueFuzzTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void randomRings() throws Exception {
        Random rnd = new Random(5);
        for (int i = 0; i < 3000; i++) {
            byte[] b = new byte[rnd.nextInt(2000)];
            rnd.nextBytes(b);
            walk(new ByteInput(b));
            walkPacked(new ByteInput(b));
        }
    }
}
