package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.SplitVirtqueue.DESC_F_INDIRECT;
import static io.isthmus.engine.export.vhostuser.SplitVirtqueue.DESC_F_NEXT;
import static io.isthmus.engine.export.vhostuser.SplitVirtqueue.DESC_F_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SplitVirtqueueTest {
    static final long GPA = 0x40000000L;
    static final long UADDR = 0x7f0000000000L;
    static final long MEM = 1 << 20;
    static final long DATA = GPA + 0x10000; // buffers live from here on
    static final long TABLE = GPA + 0x80000; // indirect tables here

    TestGuest g;
    DescriptorChain chain = new DescriptorChain(128);

    @BeforeEach
    void setUp() throws Exception {
        g = TestGuest.create(GPA, MEM, UADDR);
        g.ring(16, GPA);
    }

    @AfterEach
    void tearDown() {
        g.close();
    }

    int popOne(SplitVirtqueue q, int head) {
        g.offer(head);
        return q.pop(chain);
    }

    void assertMalformed(SplitVirtqueue q, int head, int error) {
        assertEquals(SplitVirtqueue.MALFORMED, popOne(q, head));
        assertEquals(head, chain.head);
        assertEquals(error, chain.error, () -> DescriptorChain.errorName(chain.error));
        assertFalse(q.isBroken(), "one bad chain fails that request, not the queue");
    }

    @Test
    void walksAVirtioBlkShapedChain() throws Exception {
        SplitVirtqueue q = g.queue(false, false);
        assertEquals(SplitVirtqueue.EMPTY, q.pop(chain));
        g.desc(3, DATA, 16, DESC_F_NEXT, 7);
        g.desc(7, DATA + 4096, 4096, DESC_F_NEXT | DESC_F_WRITE, 0);
        g.desc(0, DATA + 8192, 1, DESC_F_WRITE, 0);
        assertEquals(SplitVirtqueue.POPPED, popOne(q, 3));
        assertEquals(3, chain.head);
        assertEquals(3, chain.count);
        assertEquals(1, chain.readable);
        assertEquals(2, chain.writable());
        assertEquals(16, chain.readableBytes);
        assertEquals(4097, chain.writableBytes);
        assertEquals(g.memory.hostAddress(DATA + 4096, 4096), chain.hostAddress(1));
        assertEquals(SplitVirtqueue.EMPTY, q.pop(chain));
        assertEquals(1, q.lastAvailIndex());

        q.push(3, 4097);
        assertEquals(1, g.usedIdx());
        assertEquals(3, g.usedId(0));
        assertEquals(4097, g.usedLen(0));
    }

    @Test
    void walksIndirectTables() throws Exception {
        SplitVirtqueue q = g.queue(false, true);
        g.descAt(TABLE, 0, DATA, 16, DESC_F_NEXT, 2);
        g.descAt(TABLE, 2, DATA + 512, 512, DESC_F_NEXT | DESC_F_WRITE, 1);
        g.descAt(TABLE, 1, DATA + 1024, 1, DESC_F_WRITE, 0);
        g.desc(5, TABLE, 3 * 16, DESC_F_INDIRECT, 0);
        assertEquals(SplitVirtqueue.POPPED, popOne(q, 5));
        assertEquals(3, chain.count);
        assertEquals(513, chain.writableBytes);

        SplitVirtqueue noIndirect = new TestGuestQueue(g).plain();
        g.desc(6, TABLE, 3 * 16, DESC_F_INDIRECT, 0);
        assertMalformed(noIndirect, 6, DescriptorChain.E_INDIRECT_NOT_NEGOTIATED);
    }

    /** A second queue over the same rings, without INDIRECT_DESC, continuing where the guest is. */
    record TestGuestQueue(TestGuest g) {
        SplitVirtqueue plain() throws VhostUserException {
            return SplitVirtqueue.map(g.memory, g.size, g.descGpa - g.gpa + g.uaddr, g.availGpa - g.gpa + g.uaddr,
                    g.usedGpa - g.gpa + g.uaddr, g.availIdx, false, false);
        }
    }

    @Test
    void brokenDescriptorsFailTheirRequestOnly() throws Exception {
        SplitVirtqueue q = g.queue(false, true);
        g.desc(1, GPA + MEM - 8, 16, 0, 0); // crosses the end of guest memory
        assertMalformed(q, 1, DescriptorChain.E_ADDRESS);
        g.desc(1, GPA - 16, 16, 0, 0); // before it
        assertMalformed(q, 1, DescriptorChain.E_ADDRESS);
        g.desc(1, -8L, 16, 0, 0); // address + length overflows 64 bits
        assertMalformed(q, 1, DescriptorChain.E_ADDRESS);
        g.desc(1, DATA, -1, 0, 0); // 4 GiB - 1 bytes
        assertMalformed(q, 1, DescriptorChain.E_ADDRESS);
        g.desc(1, DATA, 0, 0, 0);
        assertMalformed(q, 1, DescriptorChain.E_ZERO_LENGTH);
        g.desc(1, DATA, 16, DESC_F_NEXT, 16); // next == queue size
        assertMalformed(q, 1, DescriptorChain.E_NEXT_OUT_OF_RANGE);
        g.desc(1, DATA, 16, DESC_F_NEXT, 0xFFFF);
        assertMalformed(q, 1, DescriptorChain.E_NEXT_OUT_OF_RANGE);
        g.desc(1, DATA, 16, DESC_F_NEXT, 2); // a loop 1 -> 2 -> 1
        g.desc(2, DATA, 16, DESC_F_NEXT, 1);
        assertMalformed(q, 1, DescriptorChain.E_TOO_LONG);
        g.desc(1, DATA, 16, DESC_F_NEXT, 1); // a self loop
        assertMalformed(q, 1, DescriptorChain.E_TOO_LONG);
        g.desc(1, DATA, 16, DESC_F_WRITE | DESC_F_NEXT, 2); // writable then readable
        g.desc(2, DATA, 16, 0, 0);
        assertMalformed(q, 1, DescriptorChain.E_DIRECTION);
        g.desc(1, DATA, 16, DESC_F_NEXT, 2); // an indirect descriptor inside a chain
        g.desc(2, TABLE, 16, DESC_F_INDIRECT, 0);
        assertMalformed(q, 1, DescriptorChain.E_INDIRECT_IN_CHAIN);
        g.desc(1, TABLE, 16, DESC_F_INDIRECT | DESC_F_NEXT, 2);
        assertMalformed(q, 1, DescriptorChain.E_INDIRECT_WITH_NEXT);
        for (int len : new int[] {0, 8, 24, 17, -16}) {
            g.desc(1, TABLE, len, DESC_F_INDIRECT, 0);
            assertMalformed(q, 1, DescriptorChain.E_INDIRECT_SIZE);
        }
        g.desc(1, GPA + MEM - 16, 32, DESC_F_INDIRECT, 0); // the table leaves guest memory
        assertMalformed(q, 1, DescriptorChain.E_ADDRESS);
        g.descAt(TABLE, 0, TABLE + 64, 16, DESC_F_INDIRECT, 0); // nested indirect, first entry
        g.desc(1, TABLE, 32, DESC_F_INDIRECT, 0);
        assertMalformed(q, 1, DescriptorChain.E_NESTED_INDIRECT);
        g.descAt(TABLE, 0, DATA, 16, DESC_F_NEXT, 1); // nested indirect, second entry
        g.descAt(TABLE, 1, TABLE + 64, 16, DESC_F_INDIRECT, 0);
        assertMalformed(q, 1, DescriptorChain.E_NESTED_INDIRECT);
        g.descAt(TABLE, 1, DATA, 16, DESC_F_NEXT, 0); // a loop inside the table
        assertMalformed(q, 1, DescriptorChain.E_TOO_LONG);
        g.descAt(TABLE, 1, DATA, 16, DESC_F_NEXT, 2); // next past the table's end
        assertMalformed(q, 1, DescriptorChain.E_NEXT_OUT_OF_RANGE);
        g.descAt(TABLE, 1, GPA + MEM, 16, 0, 0); // a buffer outside memory inside the table
        assertMalformed(q, 1, DescriptorChain.E_ADDRESS);

        // after all of that the queue still serves good chains, and the bad heads were consumed in order
        g.desc(1, DATA, 16, 0, 0);
        assertEquals(SplitVirtqueue.POPPED, popOne(q, 1));
        assertEquals(g.availIdx, q.lastAvailIndex());
    }

    @Test
    void overLongChainsAndFullRequestsAreRefused() throws Exception {
        SplitVirtqueue q = g.queue(false, true);
        for (int i = 0; i < 16; i++) {
            g.desc(i, DATA + 16 * i, 16, i < 15 ? DESC_F_NEXT : 0, i + 1);
        }
        assertEquals(SplitVirtqueue.POPPED, popOne(q, 0), "a chain as long as the queue is fine");
        assertEquals(16, chain.count);
        DescriptorChain small = new DescriptorChain(4);
        g.offer(0);
        assertEquals(SplitVirtqueue.MALFORMED, q.pop(small));
        assertEquals(DescriptorChain.E_TOO_MANY_SEGMENTS, small.error);
        // an indirect table of 17 entries in a 16-entry queue is within limits (Linux sizes tables by segments)
        for (int i = 0; i < 17; i++) {
            g.descAt(TABLE, i, DATA, 8, i < 16 ? DESC_F_NEXT : 0, i + 1);
        }
        g.desc(2, TABLE, 17 * 16, DESC_F_INDIRECT, 0);
        assertEquals(SplitVirtqueue.POPPED, popOne(q, 2));
        assertEquals(17, chain.count);
    }

    @Test
    void aJumpingAvailIndexBreaksTheQueue() throws Exception {
        SplitVirtqueue q = g.queue(false, false);
        g.desc(0, DATA, 16, 0, 0);
        assertEquals(SplitVirtqueue.POPPED, popOne(q, 0));
        g.setAvailIdx(1 + 17); // 17 new entries in a 16-entry queue
        assertEquals(SplitVirtqueue.BROKEN, q.pop(chain));
        assertTrue(q.isBroken());
        g.setAvailIdx(2); // even a sane index later: never re-run anything
        assertEquals(SplitVirtqueue.BROKEN, q.pop(chain));
        assertFalse(q.hasAvailable());

        SplitVirtqueue back = SplitVirtqueue.map(g.memory, 16, UADDR, g.availGpa - GPA + UADDR,
                g.usedGpa - GPA + UADDR, 5, false, false);
        g.setAvailIdx(4); // behind the base: moved backwards
        assertEquals(SplitVirtqueue.BROKEN, back.pop(chain));

        SplitVirtqueue head = SplitVirtqueue.map(g.memory, 16, UADDR, g.availGpa - GPA + UADDR,
                g.usedGpa - GPA + UADDR, 4, false, false);
        g.availIdx = 4;
        assertEquals(SplitVirtqueue.BROKEN, popOne(head, 16), "a head index out of range");
    }

    @Test
    void exactlyAFullQueueIsFine() throws Exception {
        SplitVirtqueue q = SplitVirtqueue.map(g.memory, 16, UADDR, g.availGpa - GPA + UADDR,
                g.usedGpa - GPA + UADDR, 0xFFF8, false, false);
        g.availIdx = 0xFFF8;
        for (int i = 0; i < 16; i++) {
            g.desc(i, DATA, 16, 0, 0);
            g.offer(i);
        }
        assertEquals(8, g.availIdx, "the index wrapped");
        for (int i = 0; i < 16; i++) {
            assertEquals(SplitVirtqueue.POPPED, q.pop(chain));
            assertEquals(i, chain.head);
        }
        assertEquals(SplitVirtqueue.EMPTY, q.pop(chain));
    }

    @Test
    void ringsMustBeInsideMemoryAlignedAndSized() {
        assertThrows(VhostUserException.class, () -> SplitVirtqueue.map(g.memory, 16, UADDR + MEM - 16, UADDR,
                UADDR + 4096, 0, false, false), "descriptor table leaves memory");
        assertThrows(VhostUserException.class, () -> SplitVirtqueue.map(g.memory, 16, GPA, GPA + 4096,
                GPA + 8192, 0, false, false), "guest addresses where user addresses belong");
        assertThrows(VhostUserException.class, () -> SplitVirtqueue.map(g.memory, 16, UADDR + 8, UADDR + 4096,
                UADDR + 8192, 0, false, false), "misaligned descriptor table");
        assertThrows(VhostUserException.class, () -> SplitVirtqueue.map(g.memory, 16, UADDR, UADDR + 4096,
                UADDR + 8194, 0, false, false), "misaligned used ring");
        assertThrows(VhostUserException.class, () -> SplitVirtqueue.map(g.memory, 24, UADDR, UADDR + 4096,
                UADDR + 8192, 0, false, false), "not a power of two");
        assertThrows(VhostUserException.class, () -> SplitVirtqueue.map(g.memory, 65536, UADDR, UADDR + 4096,
                UADDR + 8192, 0, false, false));
        assertThrows(VhostUserException.class, () -> SplitVirtqueue.map(g.memory, 0, UADDR, UADDR + 4096,
                UADDR + 8192, 0, false, false));
    }

    @Test
    void aQueueOf32768EntriesWorks() throws Exception {
        try (TestGuest big = TestGuest.create(0, 2 << 20, UADDR)) {
            big.ring(32768, 0);
            SplitVirtqueue q = big.queue(true, true);
            big.desc(32767, 0x180000, 512, 0, 0);
            big.offer(32767);
            assertEquals(SplitVirtqueue.POPPED, q.pop(chain));
            assertEquals(32767, chain.head);
        }
    }

    @Test
    void notificationsWithoutEventIdx() throws Exception {
        SplitVirtqueue q = g.queue(false, false);
        g.desc(0, DATA, 16, 0, 0);
        popOne(q, 0);
        q.push(0, 0);
        assertTrue(q.needsNotify());
        g.setAvailFlags(SplitVirtqueue.AVAIL_F_NO_INTERRUPT);
        q.push(0, 0);
        assertFalse(q.needsNotify(), "the driver asked for no interrupts");
        assertFalse(q.setNotification(false));
        assertEquals(SplitVirtqueue.USED_F_NO_NOTIFY, g.usedFlags());
        assertFalse(q.setNotification(true), "nothing new");
        assertEquals(0, g.usedFlags());
        g.offer(0);
        assertTrue(q.setNotification(true), "a buffer arrived: process it rather than sleep");
    }

    @Test
    void notificationsWithEventIdx() throws Exception {
        SplitVirtqueue q = g.queue(true, false);
        for (int i = 0; i < 4; i++) {
            g.desc(i, DATA, 16, 0, 0);
            g.offer(i);
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(SplitVirtqueue.POPPED, q.pop(chain));
            assertEquals(i + 1, g.availEvent(), "avail_event follows the pops");
        }
        g.setUsedEvent(2); // interrupt me when used idx passes 2
        q.addUsed(0, 0);
        q.publishUsed();
        assertTrue(q.needsNotify(), "the first signal is always sent");
        q.addUsed(1, 0);
        q.publishUsed();
        assertFalse(q.needsNotify(), "used idx 2 has not passed used_event 2");
        q.addUsed(2, 0);
        q.addUsed(3, 0);
        q.publishUsed();
        assertEquals(4, g.usedIdx());
        assertTrue(q.needsNotify(), "used idx moved from 2 to 4 past used_event 2");
        q.push(0, 0);
        assertFalse(q.needsNotify());
        g.offer(0);
        assertTrue(q.setNotification(true));
        assertEquals(5, g.availEvent());

        assertTrue(SplitVirtqueue.needEvent(0, 1, 0));
        assertFalse(SplitVirtqueue.needEvent(1, 1, 0));
        assertTrue(SplitVirtqueue.needEvent(0xFFFF, 1, 0xFFFE), "across the 16-bit wrap");
        assertFalse(SplitVirtqueue.needEvent(5, 3, 1));
    }

    @Test
    void chainCopiesAndIovecs() throws Exception {
        SplitVirtqueue q = g.queue(false, false);
        g.desc(0, DATA, 10, DESC_F_NEXT, 1);
        g.desc(1, DATA + 100, 10, DESC_F_NEXT | DESC_F_WRITE, 2);
        g.desc(2, DATA + 200, 10, DESC_F_WRITE, 0);
        for (int i = 0; i < 10; i++) {
            g.mem.set(ValueLayout.JAVA_BYTE, g.off(DATA) + i, (byte) i);
        }
        assertEquals(SplitVirtqueue.POPPED, popOne(q, 0));
        MemorySegment tmp = MemorySegment.ofArray(new byte[32]);
        assertEquals(6, chain.read(4, tmp, 0, 16));
        assertEquals(4, tmp.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(15, chain.write(5, MemorySegment.ofArray(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                14, 15, 16}), 0, 16));
        assertEquals(1, g.mem.get(ValueLayout.JAVA_BYTE, g.off(DATA + 105)));
        assertEquals(6, g.mem.get(ValueLayout.JAVA_BYTE, g.off(DATA + 200)));
        assertTrue(chain.writeByte(19, (byte) 99));
        assertEquals(99, g.mem.get(ValueLayout.JAVA_BYTE, g.off(DATA + 209)));
        assertFalse(chain.writeByte(20, (byte) 1));
        MemorySegment iov = Arena.ofAuto().allocate(16 * 4);
        assertEquals(2, chain.toIovecs(iov, 4, true, 3, 12));
        assertEquals(g.memory.hostAddress(DATA + 103, 7), iov.get(ValueLayout.JAVA_LONG, 0));
        assertEquals(7, iov.get(ValueLayout.JAVA_LONG, 8));
        assertEquals(g.memory.hostAddress(DATA + 200, 5), iov.get(ValueLayout.JAVA_LONG, 16));
        assertEquals(5, iov.get(ValueLayout.JAVA_LONG, 24));
        assertEquals(-1, chain.toIovecs(iov, 1, true, 3, 12), "more entries than allowed");
        assertEquals(-1, chain.toIovecs(iov, 4, true, 3, 18), "more bytes than the area");
    }

    @Test
    void inflightRequestsSurviveARestartAndRunAgainOldestFirst() throws Exception {
        int[] fd = new int[1];
        InflightRegion region = InflightRegion.create(1, 16, 1, fd);
        io.isthmus.bindings.Posix.close(fd[0]);
        try {
            SplitVirtqueue q = g.queue(false, false);
            q.attachInflight(new SplitInflightLog(region.queue(0), 16));
            assertEquals(SplitInflightLog.VERSION, region.queue(0).get(VhostUser.LE_SHORT, 8), "a fresh region");
            for (int i = 0; i < 5; i++) {
                g.desc(i, DATA + 16 * i, 16, 0, 0);
            }
            g.offer(3);
            g.offer(0);
            g.offer(2);
            g.offer(1);
            for (int h : new int[] {3, 0, 2, 1}) {
                assertEquals(SplitVirtqueue.POPPED, q.pop(chain));
                assertEquals(h, chain.head);
            }
            q.push(2, 0); // one completes; the back end dies with 3, 0, 1 in flight

            SplitVirtqueue restarted = SplitVirtqueue.map(g.memory, 16, UADDR, g.availGpa - GPA + UADDR,
                    g.usedGpa - GPA + UADDR, 1, false, false); // QEMU resumes at its used index
            SplitInflightLog log = new SplitInflightLog(region.queue(0), 16);
            restarted.attachInflight(log);
            assertEquals(4, restarted.lastAvailIndex(), "used index 1 + 3 in flight");
            for (int h : new int[] {3, 0, 1}) {
                assertEquals(SplitVirtqueue.POPPED, restarted.pop(chain), "resubmitted in the order taken");
                assertEquals(h, chain.head);
            }
            assertEquals(SplitVirtqueue.EMPTY, restarted.pop(chain), "nothing else: no request runs twice");
            g.offer(4);
            assertEquals(SplitVirtqueue.POPPED, restarted.pop(chain));
            assertEquals(4, chain.head);
            restarted.push(0, 0);
            assertFalse(log.inFlight(0));
            assertTrue(log.inFlight(3) && log.inFlight(1) && log.inFlight(4));

            // a crash after head 3's used index was published but before its mark was cleared
            restarted.push(3, 0);
            MemorySegment r = region.queue(0);
            r.set(ValueLayout.JAVA_BYTE, 16 + 16 * 3, (byte) 1);
            r.set(VhostUser.LE_SHORT, 14, (short) (g.usedIdx() - 1));
            r.set(VhostUser.LE_SHORT, 12, (short) 3);
            SplitVirtqueue again = SplitVirtqueue.map(g.memory, 16, UADDR, g.availGpa - GPA + UADDR,
                    g.usedGpa - GPA + UADDR, 0, false, false);
            SplitInflightLog log2 = new SplitInflightLog(r, 16);
            again.attachInflight(log2);
            assertFalse(log2.inFlight(3), "the ring's used index shows head 3 completed");
            assertEquals(2, log2.pendingResubmits());
            assertEquals(SplitVirtqueue.POPPED, again.pop(chain));
            assertEquals(1, chain.head);
            assertEquals(SplitVirtqueue.POPPED, again.pop(chain));
            assertEquals(4, chain.head);
            assertEquals(SplitVirtqueue.EMPTY, again.pop(chain));
        } finally {
            region.close();
        }
    }

    @Test
    void aHostileInflightRegionIsBounded() throws Exception {
        int[] fd = new int[1];
        InflightRegion region = InflightRegion.create(1, 16, 1, fd);
        io.isthmus.bindings.Posix.close(fd[0]);
        try {
            MemorySegment r = region.queue(0);
            r.set(VhostUser.LE_SHORT, 8, (short) SplitInflightLog.VERSION);
            r.set(VhostUser.LE_SHORT, 10, (short) 16);
            r.set(VhostUser.LE_SHORT, 12, (short) 0xFFFF); // last_batch_head out of range
            r.set(VhostUser.LE_SHORT, 14, (short) 77); // used_idx that disagrees with the ring
            for (int h = 0; h < 16; h++) {
                r.set(ValueLayout.JAVA_BYTE, 16 + 16L * h, (byte) 0xFF);
                r.set(VhostUser.LE_LONG, 16 + 16L * h + 8, -h);
            }
            SplitVirtqueue q = g.queue(false, false);
            SplitInflightLog log = new SplitInflightLog(r, 16);
            q.attachInflight(log);
            assertEquals(16, log.pendingResubmits());
            for (int i = 0; i < 16; i++) {
                g.desc(i, DATA, 16, 0, 0);
            }
            for (int i = 0; i < 16; i++) {
                assertEquals(SplitVirtqueue.POPPED, q.pop(chain)); // each head walked and checked as usual
            }
            assertEquals(SplitVirtqueue.BROKEN, q.pop(chain),
                    "16 claimed in flight but the guest published none: the queue is inconsistent, stop it");
            r.set(VhostUser.LE_SHORT, 10, (short) 8); // written for another queue size: started afresh
            SplitInflightLog fresh = new SplitInflightLog(r, 16);
            g.queue(false, false).attachInflight(fresh);
            assertEquals(0, fresh.pendingResubmits());
            assertThrows(VhostUserException.class, () -> new SplitInflightLog(r, 32), "a part too small");
        } finally {
            region.close();
        }
    }
}
