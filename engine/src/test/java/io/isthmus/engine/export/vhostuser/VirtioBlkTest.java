package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.SplitVirtqueue.DESC_F_NEXT;
import static io.isthmus.engine.export.vhostuser.SplitVirtqueue.DESC_F_WRITE;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_INT;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_LONG;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.block.BlockRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class VirtioBlkTest {
    static final long HDR = 0x10000, DATA = 0x20000, STATUS = 0x30000, SEG = 0x31000;
    static final long CAPACITY = 2048; // sectors: 1 MiB

    TestGuest g;
    SplitVirtqueue q;
    final DescriptorChain chain = new DescriptorChain(130);
    final VirtioBlkRequest req = new VirtioBlkRequest();

    @BeforeEach
    void setUp() throws Exception {
        g = TestGuest.create(0, 1 << 20, 0x7f0000000000L);
        g.ring(64, 0);
        q = g.queue(false, false);
    }

    @AfterEach
    void tearDown() {
        g.close();
    }

    void header(int type, long sector) {
        g.mem.set(LE_INT, HDR, type);
        g.mem.set(LE_INT, HDR + 4, 0);
        g.mem.set(LE_LONG, HDR + 8, sector);
    }

    /** header, then data descriptors of the given lengths (writable for IN), then the status byte. */
    int submit(int type, long sector, boolean dataWritable, int... dataLens) {
        header(type, sector);
        int d = 0;
        g.desc(d, HDR, 16, DESC_F_NEXT, d + 1);
        d++;
        long at = DATA;
        for (int len : dataLens) {
            g.desc(d, at, len, DESC_F_NEXT | (dataWritable ? DESC_F_WRITE : 0), d + 1);
            at += len;
            d++;
        }
        g.desc(d, STATUS, 1, DESC_F_WRITE, 0);
        g.mem.set(ValueLayout.JAVA_BYTE, STATUS, (byte) 0x55);
        g.offer(0);
        assertEquals(SplitVirtqueue.POPPED, q.pop(chain), () -> DescriptorChain.errorName(chain.error));
        return req.parse(chain, CAPACITY, 512, true);
    }

    int discard(int type, long sector, int num, int flags, int segments) {
        header(type, sector);
        for (int i = 0; i < segments; i++) {
            g.mem.set(LE_LONG, SEG + 16L * i, sector);
            g.mem.set(LE_INT, SEG + 16L * i + 8, num);
            g.mem.set(LE_INT, SEG + 16L * i + 12, flags);
        }
        g.desc(0, HDR, 16, DESC_F_NEXT, 1);
        g.desc(1, SEG, 16 * segments, DESC_F_NEXT, 2);
        g.desc(2, STATUS, 1, DESC_F_WRITE, 0);
        g.offer(0);
        assertEquals(SplitVirtqueue.POPPED, q.pop(chain));
        return req.parse(chain, CAPACITY, 512, true);
    }

    byte statusWritten() {
        assertEquals(req.usedLength, req.finish());
        return g.mem.get(ValueLayout.JAVA_BYTE, STATUS);
    }

    @Test
    void readsAndWritesBecomeBlockRequests() {
        assertEquals(VirtioBlkRequest.SUBMIT, submit(VirtioBlk.T_IN, 8, true, 4096, 512));
        assertEquals(BlockRequest.READ, req.op);
        assertEquals(8 * 512, req.offset);
        assertEquals(4608, req.length);
        assertEquals(4609, req.usedLength, "the whole writable area, as QEMU");
        BlockRequest br = new BlockRequest(Arena.ofAuto(), 4);
        br.iovCount = req.dataToIovecs(br.iovecs, br.iovCapacity());
        assertEquals(2, br.iovCount);
        assertEquals(g.memory.hostAddress(DATA, 4096), br.iovBase(0));
        assertEquals(512, br.iovLen(1));
        assertEquals(4608, br.iovTotal());
        req.status = VirtioBlkRequest.statusOf(0);
        assertEquals(VirtioBlk.S_OK, statusWritten());

        assertEquals(VirtioBlkRequest.SUBMIT, submit(VirtioBlk.T_OUT | VirtioBlk.T_BARRIER, 0, false, 1024));
        assertEquals(BlockRequest.WRITE, req.op);
        assertEquals(1024, req.length);
        assertEquals(1, req.dataToIovecs(br.iovecs, 4));
        assertEquals(g.memory.hostAddress(DATA, 1024), br.iovBase(0));
        req.status = VirtioBlkRequest.statusOf(-5);
        assertEquals(VirtioBlk.S_IOERR, statusWritten());
        assertEquals(1, req.usedLength);

        assertEquals(VirtioBlkRequest.SUBMIT, submit(VirtioBlk.T_FLUSH, 0, false));
        assertEquals(BlockRequest.FLUSH, req.op);
    }

    @Test
    void headerAndDataMayShareDescriptors() {
        // one readable descriptor holding header and data, one writable holding data and status
        header(VirtioBlk.T_OUT, 2);
        g.desc(0, HDR, 16 + 512, DESC_F_NEXT, 1);
        g.desc(1, STATUS, 1, DESC_F_WRITE, 0);
        g.offer(0);
        q.pop(chain);
        assertEquals(VirtioBlkRequest.SUBMIT, req.parse(chain, CAPACITY, 512, true));
        assertEquals(512, req.length);
        MemorySegment iov = Arena.ofAuto().allocate(32);
        assertEquals(1, req.dataToIovecs(iov, 2));
        assertEquals(g.memory.hostAddress(HDR + 16, 512), iov.get(ValueLayout.JAVA_LONG, 0));
        // a header split over two descriptors
        g.mem.set(LE_INT, HDR, VirtioBlk.T_IN);
        g.mem.set(LE_LONG, HDR + 0x100 + 0, 4L); // sector, in the second piece
        g.desc(0, HDR, 8, DESC_F_NEXT, 1);
        g.desc(1, HDR + 0x100, 8, DESC_F_NEXT, 2);
        g.desc(2, DATA, 513, DESC_F_WRITE, 0);
        g.offer(0);
        q.pop(chain);
        assertEquals(VirtioBlkRequest.SUBMIT, req.parse(chain, CAPACITY, 512, true));
        assertEquals(4 * 512, req.offset);
        assertEquals(512, req.length);
        req.status = VirtioBlk.S_OK;
        assertEquals(513, req.finish());
        assertEquals(0, g.mem.get(ValueLayout.JAVA_BYTE, DATA + 512), "the status is the last writable byte");
    }

    @Test
    void qemusRangeChecks() {
        assertEquals(VirtioBlkRequest.COMPLETE, submit(VirtioBlk.T_IN, 0, true, 500));
        assertEquals(VirtioBlk.S_IOERR, req.status, "not a multiple of 512");
        assertEquals(VirtioBlk.S_IOERR, statusWritten());
        assertEquals(VirtioBlkRequest.COMPLETE, submit(VirtioBlk.T_IN, CAPACITY - 1, true, 1024));
        assertEquals(VirtioBlk.S_IOERR, req.status, "past the capacity");
        assertEquals(VirtioBlkRequest.SUBMIT, submit(VirtioBlk.T_IN, CAPACITY - 2, true, 1024));
        assertEquals(VirtioBlkRequest.COMPLETE, submit(VirtioBlk.T_IN, -1L, true, 512));
        assertEquals(VirtioBlk.S_IOERR, req.status, "sector 2^64-1");
        assertEquals(VirtioBlkRequest.COMPLETE, submit(VirtioBlk.T_IN, 1L << 55, true, 512));
        assertEquals(VirtioBlk.S_IOERR, req.status);
        header(VirtioBlk.T_IN, 1);
        q.pop(chain); // nothing: reuse the last chain with a 4096-byte block size
        assertEquals(VirtioBlkRequest.COMPLETE, req.parse(chain, CAPACITY, 4096, true));
        assertEquals(VirtioBlk.S_IOERR, req.status, "not aligned to the logical block size");
        header(VirtioBlk.T_IN, 8);
        assertEquals(VirtioBlkRequest.SUBMIT, req.parse(chain, CAPACITY, 4096, true));
        assertEquals(VirtioBlkRequest.COMPLETE, submit(VirtioBlk.T_IN, 0, true));
        assertEquals(VirtioBlk.S_OK, req.status, "an empty read is done at once");
        assertTrue(VirtioBlkRequest.rangeOk(0, VirtioBlk.REQUEST_MAX_SECTORS << 9, 1L << 40, 512));
        assertFalse(VirtioBlkRequest.rangeOk(0, (VirtioBlk.REQUEST_MAX_SECTORS + 1) << 9, 1L << 40, 512));
    }

    @Test
    void readOnlyExportsRefuseWrites() {
        submit(VirtioBlk.T_OUT, 0, false, 512);
        assertEquals(VirtioBlkRequest.COMPLETE, req.parse(chain, CAPACITY, 512, false));
        assertEquals(VirtioBlk.S_IOERR, req.status);
        discard(VirtioBlk.T_DISCARD, 0, 8, 0, 1);
        assertEquals(VirtioBlkRequest.COMPLETE, req.parse(chain, CAPACITY, 512, false));
        assertEquals(VirtioBlk.S_IOERR, req.status);
        submit(VirtioBlk.T_IN, 0, true, 512);
        assertEquals(VirtioBlkRequest.SUBMIT, req.parse(chain, CAPACITY, 512, false));
    }

    @Test
    void getIdAnswersTheSerial() {
        assertEquals(VirtioBlkRequest.COMPLETE, submit(VirtioBlk.T_GET_ID, 0, true, 20));
        assertEquals(VirtioBlk.S_OK, statusWritten());
        byte[] id = g.mem.asSlice(DATA, 20).toArray(ValueLayout.JAVA_BYTE);
        assertEquals("vhost_user_blk\0\0\0\0\0\0", new String(id, StandardCharsets.US_ASCII));
        g.mem.asSlice(DATA, 20).fill((byte) 'x');
        submit(VirtioBlk.T_GET_ID, 0, true, 4);
        assertEquals("vhosxxxx", new String(g.mem.asSlice(DATA, 8).toArray(ValueLayout.JAVA_BYTE),
                StandardCharsets.US_ASCII), "never past the buffer");
    }

    @Test
    void discardAndWriteZeroesChecks() {
        assertEquals(VirtioBlkRequest.SUBMIT, discard(VirtioBlk.T_DISCARD, 8, 16, 0, 1));
        assertEquals(BlockRequest.DISCARD, req.op);
        assertEquals(4096, req.offset);
        assertEquals(8192, req.length);
        assertEquals(VirtioBlkRequest.SUBMIT, discard(VirtioBlk.T_WRITE_ZEROES, 8, 16, 1, 1));
        assertEquals(BlockRequest.WRITE_ZEROES, req.op);
        assertEquals(BlockRequest.MAY_UNMAP, req.flags);
        assertEquals(VirtioBlkRequest.SUBMIT, discard(VirtioBlk.T_WRITE_ZEROES, 8, 16, 0, 1));
        assertEquals(0, req.flags);

        assertEquals(VirtioBlkRequest.COMPLETE, discard(VirtioBlk.T_DISCARD, 8, 16, 0, 2));
        assertEquals(VirtioBlk.S_UNSUPP, req.status, "more than one segment");
        discard(VirtioBlk.T_WRITE_ZEROES, 0, -1, 0, 1);
        assertEquals(VirtioBlk.S_IOERR, req.status, "num_sectors 0xffffffff");
        discard(VirtioBlk.T_DISCARD, 0, 32769, 0, 1);
        assertEquals(VirtioBlk.S_IOERR, req.status, "over max_discard_sectors");
        discard(VirtioBlk.T_DISCARD, CAPACITY, 1, 0, 1);
        assertEquals(VirtioBlk.S_IOERR, req.status, "past the capacity");
        discard(VirtioBlk.T_WRITE_ZEROES, 0, 8, 2, 1);
        assertEquals(VirtioBlk.S_UNSUPP, req.status, "reserved flag");
        discard(VirtioBlk.T_DISCARD, 0, 8, 1, 1);
        assertEquals(VirtioBlk.S_UNSUPP, req.status, "UNMAP on a discard");
        discard(VirtioBlk.T_DISCARD, CAPACITY + 1, 8, 2, 1);
        assertEquals(VirtioBlk.S_IOERR, req.status, "range before flags, as QEMU");
        discard(VirtioBlk.T_DISCARD, 8, 0, 0, 1);
        assertEquals(VirtioBlk.S_OK, req.status, "nothing to discard");
        // a short segment
        header(VirtioBlk.T_DISCARD, 0);
        g.desc(0, HDR, 16 + 8, DESC_F_NEXT, 1);
        g.desc(1, STATUS, 1, DESC_F_WRITE, 0);
        g.offer(0);
        q.pop(chain);
        assertEquals(VirtioBlkRequest.COMPLETE, req.parse(chain, CAPACITY, 512, true));
        assertEquals(VirtioBlk.S_IOERR, req.status);
    }

    @Test
    void unknownTypesAreUnsupported() {
        for (int t : new int[] {VirtioBlk.T_SCSI_CMD, VirtioBlk.T_GET_LIFETIME, VirtioBlk.T_SECURE_ERASE, 3, 99,
                0x7fffffff}) {
            assertEquals(VirtioBlkRequest.COMPLETE, submit(t, 0, true, 512));
            assertEquals(VirtioBlk.S_UNSUPP, statusWritten());
        }
    }

    @Test
    void malformedRequestsAreAnsweredNotDropped() {
        // no writable byte at all: an empty used entry
        header(VirtioBlk.T_IN, 0);
        g.desc(0, HDR, 16, 0, 0);
        g.offer(0);
        q.pop(chain);
        assertEquals(VirtioBlkRequest.COMPLETE, req.parse(chain, CAPACITY, 512, true));
        assertFalse(req.hasStatus);
        assertEquals(0, req.finish());
        // a short header: IOERR in the status byte
        g.desc(0, HDR, 8, DESC_F_NEXT, 1);
        g.desc(1, STATUS, 1, DESC_F_WRITE, 0);
        g.offer(0);
        q.pop(chain);
        assertEquals(VirtioBlkRequest.COMPLETE, req.parse(chain, CAPACITY, 512, true));
        assertEquals(VirtioBlk.S_IOERR, statusWritten());
        // no readable descriptor (header in the wrong direction)
        g.desc(0, HDR, 16, DESC_F_WRITE | DESC_F_NEXT, 1);
        g.desc(1, STATUS, 1, DESC_F_WRITE, 0);
        g.offer(0);
        q.pop(chain);
        assertEquals(VirtioBlkRequest.COMPLETE, req.parse(chain, CAPACITY, 512, true));
        assertEquals(VirtioBlk.S_IOERR, statusWritten());
    }

    @Test
    void configSpaceAsQemuFillsIt() {
        VirtioBlkConfig c = new VirtioBlkConfig((10L << 30) + 700, 4096, 4);
        MemorySegment s = MemorySegment.ofArray(c.toArray());
        assertEquals(96, s.byteSize());
        assertEquals((10L << 30) / 512 + 1, s.get(LE_LONG, 0), "capacity rounded down to sectors");
        assertEquals(0, s.get(LE_INT, 8), "size_max");
        assertEquals(126, s.get(LE_INT, 12), "seg_max");
        assertEquals(0, s.get(LE_INT, 16), "geometry");
        assertEquals(4096, s.get(LE_INT, 20), "blk_size");
        assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 24), "physical_block_exp");
        assertEquals(1, s.get(LE_SHORT, 26), "min_io_size");
        assertEquals(1, s.get(LE_INT, 28), "opt_io_size");
        assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 32), "wce");
        assertEquals(4, s.get(LE_SHORT, 34), "num_queues");
        assertEquals(32768, s.get(LE_INT, 36), "max_discard_sectors");
        assertEquals(1, s.get(LE_INT, 40), "max_discard_seg");
        assertEquals(8, s.get(LE_INT, 44), "discard_sector_alignment");
        assertEquals(32768, s.get(LE_INT, 48), "max_write_zeroes_sectors");
        assertEquals(1, s.get(LE_INT, 52), "max_write_zeroes_seg");
        assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 56), "write_zeroes_may_unmap");
        c.setCapacity(1 << 20);
        assertEquals(2048, c.capacitySectors());
        MemorySegment one = MemorySegment.ofArray(new byte[] {1});
        assertEquals(1, c.write(VirtioBlkConfig.WCE, one, 1, VhostUser.CONFIG_TYPE_FRONTEND));
        assertEquals(1, c.wce());
        assertEquals(-22, c.write(VirtioBlkConfig.WCE, one, 1, VhostUser.CONFIG_TYPE_MIGRATION));
        assertEquals(-22, c.write(0, one, 1, VhostUser.CONFIG_TYPE_FRONTEND));
        assertEquals(-22, c.read(90, MemorySegment.ofArray(new byte[8]), 8));
        assertEquals(0, c.read(88, MemorySegment.ofArray(new byte[8]), 8));

        long f = VirtioBlk.features(false, false);
        assertTrue((f & 1L << VirtioBlk.F_RO) != 0);
        assertEquals(0, f & 1L << VhostUser.F_RING_PACKED);
        assertEquals(0, f & 1L << VirtioBlk.F_GEOMETRY);
        assertEquals(0, VirtioBlk.features(true, false) & 1L << VirtioBlk.F_RO);
    }
}
