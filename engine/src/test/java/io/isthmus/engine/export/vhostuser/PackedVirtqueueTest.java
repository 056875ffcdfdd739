package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.PackedVirtqueue.DESC_F_AVAIL;
import static io.isthmus.engine.export.vhostuser.PackedVirtqueue.DESC_F_INDIRECT;
import static io.isthmus.engine.export.vhostuser.PackedVirtqueue.DESC_F_NEXT;
import static io.isthmus.engine.export.vhostuser.PackedVirtqueue.DESC_F_USED;
import static io.isthmus.engine.export.vhostuser.PackedVirtqueue.DESC_F_WRITE;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_INT;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_LONG;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PackedVirtqueueTest {
    static final long GPA = 0x40000000L, UADDR = 0x7f0000000000L, MEM = 1 << 20;
    static final long RING = GPA, DRIVER = GPA + 0x8000, DEVICE = GPA + 0x8010, DATA = GPA + 0x10000,
            TABLE = GPA + 0x80000;
    static final int FRESH = 0x80008000;

    TestGuest g;
    final DescriptorChain chain = new DescriptorChain(64);
    int size;
    int next; // the driver's next descriptor
    boolean wrap = true;

    @BeforeEach
    void setUp() throws Exception {
        g = TestGuest.create(GPA, MEM, UADDR);
    }

    @AfterEach
    void tearDown() {
        g.close();
    }

    PackedVirtqueue queue(int size, boolean eventIdx, boolean indirect) throws VhostUserException {
        this.size = size;
        return PackedVirtqueue.map(g.memory, size, RING - GPA + UADDR, DRIVER - GPA + UADDR, DEVICE - GPA + UADDR,
                FRESH, eventIdx, indirect);
    }

    /** The driver makes a chain of buffers {addr, len, flags} available with buffer id {@code id}. */
    void offer(int id, long[]... bufs) {
        int head = next;
        for (int i = 0; i < bufs.length; i++) {
            long o = g.off(RING) + 16L * next;
            g.mem.set(LE_LONG, o, bufs[i][0]);
            g.mem.set(LE_INT, o + 8, (int) bufs[i][1]);
            g.mem.set(LE_SHORT, o + 12, (short) id);
            int f = (int) bufs[i][2] | (i < bufs.length - 1 ? DESC_F_NEXT : 0)
                    | (wrap ? DESC_F_AVAIL : DESC_F_USED);
            if (i > 0) {
                g.mem.set(LE_SHORT, o + 14, (short) f);
            } else {
                headFlags = f;
            }
            if (++next == size) {
                next = 0;
                wrap = !wrap;
            }
        }
        java.lang.invoke.VarHandle.releaseFence();
        g.mem.set(LE_SHORT, g.off(RING) + 16L * head + 14, (short) headFlags); // the head last
    }

    int headFlags;

    static long[] buf(long addr, long len, int flags) {
        return new long[] {addr, len, flags};
    }

    int usedFlags(int i) {
        return g.mem.get(LE_SHORT, g.off(RING) + 16L * i + 14) & 0xFFFF;
    }

    int usedId(int i) {
        return g.mem.get(LE_SHORT, g.off(RING) + 16L * i + 12) & 0xFFFF;
    }

    int usedLen(int i) {
        return g.mem.get(LE_INT, g.off(RING) + 16L * i + 8);
    }

    @Test
    void popsChainsAndWritesUsedDescriptorsAcrossWraps() throws Exception {
        PackedVirtqueue q = queue(4, false, false);
        assertEquals(Virtqueue.EMPTY, q.pop(chain), "a zeroed ring has nothing available");
        offer(3, buf(DATA, 16, 0), buf(DATA + 512, 512, DESC_F_WRITE), buf(DATA + 1024, 1, DESC_F_WRITE));
        assertEquals(Virtqueue.POPPED, q.pop(chain));
        assertEquals(3, chain.head);
        assertEquals(3, chain.ringDescriptors);
        assertEquals(1, chain.readable);
        assertEquals(513, chain.writableBytes);
        assertEquals(Virtqueue.EMPTY, q.pop(chain));
        q.addUsed(chain.head, 513, chain.ringDescriptors);
        assertEquals(DESC_F_AVAIL | DESC_F_USED, usedFlags(0), "used with wrap counter 1");
        assertEquals(3, usedId(0));
        assertEquals(513, usedLen(0));

        // the next chain wraps around the end of the ring (entries 3, 0)
        offer(2, buf(DATA, 16, 0), buf(DATA + 16, 16, DESC_F_WRITE));
        assertEquals(Virtqueue.POPPED, q.pop(chain));
        assertEquals(2, chain.ringDescriptors);
        assertEquals(1 | 0x0000, q.vringBase() & 0xFFFF, "next avail 1, wrap counter now 0");
        q.addUsed(2, 0, 2);
        assertEquals(DESC_F_AVAIL | DESC_F_USED, usedFlags(3));
        assertEquals(1, q.vringBase() >>> 16, "used index 1 after the wrap, its counter 0");
        offer(3, buf(DATA, 8, 0));
        assertEquals(Virtqueue.POPPED, q.pop(chain));
        q.addUsed(3, 0, 1);
        assertEquals(0, usedFlags(1), "used with wrap counter 0: both bits clear");
        assertEquals(Virtqueue.EMPTY, q.pop(chain));
    }

    @Test
    void indirectTables() throws Exception {
        PackedVirtqueue q = queue(8, false, true);
        for (int i = 0; i < 3; i++) {
            long o = g.off(TABLE) + 16L * i;
            g.mem.set(LE_LONG, o, DATA + 100 * i);
            g.mem.set(LE_INT, o + 8, 10);
            g.mem.set(LE_SHORT, o + 14, (short) (i == 0 ? 0 : DESC_F_WRITE)); // no NEXT in tables
        }
        offer(5, buf(TABLE, 48, DESC_F_INDIRECT));
        assertEquals(Virtqueue.POPPED, q.pop(chain));
        assertEquals(3, chain.count);
        assertEquals(1, chain.ringDescriptors);
        g.mem.set(LE_SHORT, g.off(TABLE) + 16 + 14, (short) DESC_F_INDIRECT);
        offer(5, buf(TABLE, 48, DESC_F_INDIRECT));
        assertEquals(Virtqueue.MALFORMED, q.pop(chain));
        assertEquals(DescriptorChain.E_NESTED_INDIRECT, chain.error);
        offer(5, buf(TABLE, 40, DESC_F_INDIRECT));
        assertEquals(Virtqueue.MALFORMED, q.pop(chain));
        assertEquals(DescriptorChain.E_INDIRECT_SIZE, chain.error);
        offer(6, buf(TABLE, 48, DESC_F_INDIRECT), buf(DATA, 1, DESC_F_WRITE));
        assertEquals(Virtqueue.MALFORMED, q.pop(chain));
        assertEquals(DescriptorChain.E_INDIRECT_WITH_NEXT, chain.error);
        assertEquals(2, chain.ringDescriptors, "the whole chain is consumed");
        offer(6, buf(DATA, 1, 0), buf(TABLE, 48, DESC_F_INDIRECT));
        assertEquals(Virtqueue.MALFORMED, q.pop(chain));
        assertEquals(DescriptorChain.E_INDIRECT_IN_CHAIN, chain.error);
        PackedVirtqueue plain = PackedVirtqueue.map(g.memory, 8, RING - GPA + UADDR, DRIVER - GPA + UADDR,
                DEVICE - GPA + UADDR, q.vringBase(), false, false);
        offer(5, buf(TABLE, 48, DESC_F_INDIRECT));
        assertEquals(Virtqueue.MALFORMED, plain.pop(chain));
        assertEquals(DescriptorChain.E_INDIRECT_NOT_NEGOTIATED, chain.error);
    }

    @Test
    void brokenBuffersFailTheirRequestAndTheQueueGoesOn() throws Exception {
        PackedVirtqueue q = queue(16, false, true);
        offer(1, buf(DATA, 16, 0), buf(GPA + MEM - 4, 8, DESC_F_WRITE), buf(DATA, 1, DESC_F_WRITE));
        assertEquals(Virtqueue.MALFORMED, q.pop(chain));
        assertEquals(DescriptorChain.E_ADDRESS, chain.error);
        assertEquals(1, chain.head);
        assertEquals(3, chain.ringDescriptors, "skipped to the chain's end");
        offer(1, buf(-8L, 16, 0));
        assertEquals(Virtqueue.MALFORMED, q.pop(chain));
        assertEquals(DescriptorChain.E_ADDRESS, chain.error);
        offer(1, buf(DATA, 0, 0));
        assertEquals(Virtqueue.MALFORMED, q.pop(chain));
        assertEquals(DescriptorChain.E_ZERO_LENGTH, chain.error);
        offer(1, buf(DATA, 16, DESC_F_WRITE), buf(DATA, 16, 0));
        assertEquals(Virtqueue.MALFORMED, q.pop(chain));
        assertEquals(DescriptorChain.E_DIRECTION, chain.error);
        offer(16, buf(DATA, 16, 0));
        assertEquals(Virtqueue.MALFORMED, q.pop(chain));
        assertEquals(DescriptorChain.E_BUFFER_ID, chain.error);
        offer(9, buf(DATA, 16, 0));
        assertEquals(Virtqueue.POPPED, q.pop(chain));
        assertEquals(9, chain.head);
    }

    @Test
    void aChainThatNeverEndsBreaksTheQueue() throws Exception {
        PackedVirtqueue q = queue(4, false, false);
        offer(0, buf(DATA, 1, 0), buf(DATA, 1, 0), buf(DATA, 1, 0), buf(DATA, 1, 0));
        assertEquals(Virtqueue.POPPED, q.pop(chain), "a chain as long as the ring is fine");
        // now every descriptor says NEXT
        for (int i = 0; i < 4; i++) {
            g.mem.set(LE_SHORT, g.off(RING) + 16L * i + 14, (short) (DESC_F_NEXT | DESC_F_USED)); // wrap 0 available
        }
        assertEquals(Virtqueue.BROKEN, q.pop(chain));
        assertTrue(q.isBroken());
        assertFalse(q.hasAvailable());
    }

    @Test
    void notifications() throws Exception {
        PackedVirtqueue q = queue(8, false, false);
        offer(0, buf(DATA, 1, 0));
        q.pop(chain);
        q.addUsed(0, 0, 1);
        assertTrue(q.needsNotify(), "ENABLE (0) by default");
        g.mem.set(LE_SHORT, g.off(DRIVER) + 2, (short) PackedVirtqueue.EVENT_FLAG_DISABLE);
        assertFalse(q.needsNotify());
        assertFalse(q.setNotification(false));
        assertEquals(PackedVirtqueue.EVENT_FLAG_DISABLE, g.mem.get(LE_SHORT, g.off(DEVICE) + 2));
        assertFalse(q.setNotification(true));
        assertEquals(PackedVirtqueue.EVENT_FLAG_ENABLE, g.mem.get(LE_SHORT, g.off(DEVICE) + 2));
        offer(1, buf(DATA, 1, 0));
        assertTrue(q.setNotification(true), "a buffer is waiting");

        PackedVirtqueue e = queue(8, true, false);
        next = 0;
        wrap = true;
        g.mem.asSlice(g.off(RING), 16 * 8).fill((byte) 0);
        g.mem.set(LE_SHORT, g.off(DRIVER) + 2, (short) PackedVirtqueue.EVENT_FLAG_DESC);
        g.mem.set(LE_SHORT, g.off(DRIVER), (short) (0x8000 | 2)); // notify when descriptor 2 (wrap 1) is used
        for (int i = 0; i < 4; i++) {
            offer(i, buf(DATA, 1, 0));
            e.pop(chain);
        }
        e.addUsed(0, 0, 1);
        assertTrue(e.needsNotify(), "the first signal is always sent");
        e.addUsed(1, 0, 1);
        assertFalse(e.needsNotify(), "used index 2: descriptor 2 not yet used");
        e.addUsed(2, 0, 1);
        assertTrue(e.needsNotify(), "descriptor 2 used");
        e.addUsed(3, 0, 1);
        assertFalse(e.needsNotify());
        assertFalse(e.setNotification(true));
        assertEquals(PackedVirtqueue.EVENT_FLAG_DESC, g.mem.get(LE_SHORT, g.off(DEVICE) + 2));
        assertEquals(0x8000 | 4, g.mem.get(LE_SHORT, g.off(DEVICE)) & 0xFFFF, "kick me at descriptor 4, wrap 1");
    }

    @Test
    void baseAndAreaChecks() throws Exception {
        PackedVirtqueue q = queue(8, false, false);
        assertEquals(FRESH, q.vringBase());
        PackedVirtqueue resumed = PackedVirtqueue.map(g.memory, 8, RING - GPA + UADDR, DRIVER - GPA + UADDR,
                DEVICE - GPA + UADDR, 5 | 3 << 16 | 0x80000000, false, false);
        assertEquals(5 | 3 << 16 | 0x80000000, resumed.vringBase());
        assertThrows(VhostUserException.class, () -> PackedVirtqueue.map(g.memory, 8, RING - GPA + UADDR,
                DRIVER - GPA + UADDR, DEVICE - GPA + UADDR, 8, false, false), "avail index past the ring");
        assertThrows(VhostUserException.class, () -> PackedVirtqueue.map(g.memory, 8, RING - GPA + UADDR + 8,
                DRIVER - GPA + UADDR, DEVICE - GPA + UADDR, FRESH, false, false), "misaligned ring");
        assertThrows(VhostUserException.class, () -> PackedVirtqueue.map(g.memory, 8, UADDR + MEM - 64,
                DRIVER - GPA + UADDR, DEVICE - GPA + UADDR, FRESH, false, false), "ring outside memory");
        assertThrows(VhostUserException.class, () -> PackedVirtqueue.map(g.memory, 0, RING - GPA + UADDR,
                DRIVER - GPA + UADDR, DEVICE - GPA + UADDR, FRESH, false, false));
        PackedVirtqueue odd = PackedVirtqueue.map(g.memory, 100, RING - GPA + UADDR, DRIVER - GPA + UADDR + 0x800,
                DEVICE - GPA + UADDR + 0x800, FRESH, false, false);
        assertEquals(100, odd.size(), "packed rings need not be a power of two");
    }
}
