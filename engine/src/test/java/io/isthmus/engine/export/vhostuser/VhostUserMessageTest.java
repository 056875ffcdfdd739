package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.VhostUser.LE_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class VhostUserMessageTest {
    final MemorySegment buf = Arena.ofAuto().allocate(VhostUserMessage.MAX_MESSAGE_SIZE + 64);

    VhostUserMessage roundTrip(VhostUserMessage m) throws VhostUserException {
        int n = m.encode(buf, 0);
        VhostUserMessage d = new VhostUserMessage();
        d.decode(buf, n);
        assertEquals(m.request, d.request);
        assertEquals(m.flags, d.flags);
        assertEquals(n - VhostUserMessage.HEADER_SIZE, d.size);
        return d;
    }

    static VhostUserMessage msg(int request) {
        VhostUserMessage m = new VhostUserMessage();
        m.request = request;
        m.flags = VhostUser.VERSION;
        return m;
    }

    @Test
    void headerIsLittleEndian() throws Exception {
        VhostUserMessage m = msg(VhostUser.SET_FEATURES);
        m.flags |= VhostUser.FLAG_NEED_REPLY;
        m.u64 = 0x0102030405060708L;
        int n = m.encode(buf, 0);
        assertEquals(20, n);
        assertEquals("02000000" + "09000000" + "08000000" + "0807060504030201",
                HexFormat.of().formatHex(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE)));
        VhostUserMessage d = roundTrip(m);
        assertEquals(0x0102030405060708L, d.u64);
        assertTrue(d.needsReply());
    }

    @Test
    void everyPayloadShapeRoundTrips() throws Exception {
        VhostUserMessage s = msg(VhostUser.SET_VRING_BASE);
        s.vringIndex = 3;
        s.vringNum = 0x8001;
        VhostUserMessage d = roundTrip(s);
        assertEquals(3, d.vringIndex);
        assertEquals(0x8001, d.vringNum);

        VhostUserMessage a = msg(VhostUser.SET_VRING_ADDR);
        a.vringIndex = 1;
        a.addrFlags = 0;
        a.descAddr = 0x7f0000001000L;
        a.usedAddr = 0x7f0000003000L;
        a.availAddr = 0x7f0000002000L;
        a.logAddr = 0;
        d = roundTrip(a);
        assertEquals(0x7f0000001000L, d.descAddr);
        assertEquals(0x7f0000003000L, d.usedAddr);
        assertEquals(0x7f0000002000L, d.availAddr);

        VhostUserMessage t = msg(VhostUser.SET_MEM_TABLE);
        t.regionCount = 8;
        for (int i = 0; i < 8; i++) {
            t.regions[i] = new MemoryRegionDescriptor(i * 0x1000000L, 0x1000000L, 0x7f0000000000L + i * 0x1000000L, i);
        }
        assertEquals(12 + 8 + 8 * 32, t.encode(buf, 0));
        d = roundTrip(t);
        assertEquals(8, d.regionCount);
        assertEquals(t.regions[7], d.regions[7]);

        VhostUserMessage r = msg(VhostUser.ADD_MEM_REG);
        r.regions[0] = new MemoryRegionDescriptor(0x100000000L, 0x40000000L, 0x7f4000000000L, 0x1000);
        r.regionCount = 1;
        assertEquals(12 + 40, r.encode(buf, 0));
        assertEquals(r.regions[0], roundTrip(r).regions[0]);

        VhostUserMessage c = msg(VhostUser.SET_CONFIG);
        c.configOffset = 32;
        c.configSize = 1;
        c.config.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        d = roundTrip(c);
        assertEquals(32, d.configOffset);
        assertArrayEquals(new byte[] {1}, d.configBytes());

        VhostUserMessage i = msg(VhostUser.GET_INFLIGHT_FD);
        i.inflightNumQueues = 4;
        i.inflightQueueSize = 32768;
        assertEquals(12 + 24, i.encode(buf, 0));
        d = roundTrip(i);
        assertEquals(4, d.inflightNumQueues);
        assertEquals(32768, d.inflightQueueSize);

        VhostUserMessage reply = msg(VhostUser.GET_VRING_BASE);
        reply.flags |= VhostUser.FLAG_REPLY;
        reply.vringIndex = 1;
        reply.vringNum = 77;
        assertEquals(77, roundTrip(reply).vringNum);
        VhostUserMessage refused = msg(VhostUser.GET_CONFIG);
        refused.flags |= VhostUser.FLAG_REPLY;
        refused.configRefused = true;
        assertEquals(12, refused.encode(buf, 0), "a refused GET_CONFIG: no payload at all");
        assertTrue(roundTrip(refused).configRefused);
        refused.configRefused = false;
        refused.configSize = 0;
        assertEquals(24, refused.encode(buf, 0), "an empty read: the config header only");
        assertEquals(false, roundTrip(refused).configRefused);
        VhostUserMessage features = msg(VhostUser.GET_FEATURES);
        assertEquals(12, features.encode(buf, 0), "GET_FEATURES carries no payload");
        features.flags |= VhostUser.FLAG_REPLY;
        features.u64 = 1L << 32;
        assertEquals(20, features.encode(buf, 0), "its reply is a u64");
    }

    private void assertRefused(int request, int size) {
        buf.fill((byte) 0);
        buf.set(LE_INT, 0, request);
        buf.set(LE_INT, 4, VhostUser.VERSION);
        buf.set(LE_INT, 8, size);
        VhostUserMessage d = new VhostUserMessage();
        assertThrows(VhostUserException.class, () -> d.decode(buf, 12L + Math.max(0, size)),
                () -> VhostUser.requestName(request) + " with " + size + " payload bytes");
    }

    @Test
    void wrongPayloadSizesAreRefused() {
        int[][] cases = {
            {VhostUser.GET_FEATURES, 8}, {VhostUser.SET_FEATURES, 0}, {VhostUser.SET_FEATURES, 4},
            {VhostUser.SET_FEATURES, 16}, {VhostUser.SET_OWNER, 1}, {VhostUser.SET_VRING_NUM, 4},
            {VhostUser.SET_VRING_NUM, 12}, {VhostUser.SET_VRING_ADDR, 32}, {VhostUser.SET_VRING_ADDR, 48},
            {VhostUser.SET_VRING_KICK, 4}, {VhostUser.GET_VRING_BASE, 0}, {VhostUser.SET_MEM_TABLE, 0},
            {VhostUser.SET_MEM_TABLE, 4}, {VhostUser.SET_MEM_TABLE, 8 + 32}, {VhostUser.ADD_MEM_REG, 32},
            {VhostUser.REM_MEM_REG, 48}, {VhostUser.GET_CONFIG, 8}, {VhostUser.SET_INFLIGHT_FD, 20},
            {VhostUser.GET_QUEUE_NUM, 8}, {VhostUser.SET_BACKEND_REQ_FD, 8},
        };
        for (int[] c : cases) {
            assertRefused(c[0], c[1]);
        }
    }

    @Test
    void malformedMessagesAreRefused() throws Exception {
        VhostUserMessage d = new VhostUserMessage();
        assertThrows(VhostUserException.class, () -> d.decode(buf, 11), "truncated header");
        // a memory table that claims more regions than it carries, or more than 8
        buf.set(LE_INT, 0, VhostUser.SET_MEM_TABLE);
        buf.set(LE_INT, 4, VhostUser.VERSION);
        buf.set(LE_INT, 8, 8 + 32);
        buf.set(LE_INT, 12, 2);
        assertThrows(VhostUserException.class, () -> d.decode(buf, 12 + 40));
        buf.set(LE_INT, 8, 8 + 9 * 32);
        buf.set(LE_INT, 12, 9);
        assertThrows(VhostUserException.class, () -> d.decode(buf, 12 + 8 + 9 * 32), "9 regions");
        buf.set(LE_INT, 12, -1);
        assertThrows(VhostUserException.class, () -> d.decode(buf, 12 + 8 + 9 * 32), "2^32-1 regions");
        // config: size field larger than the payload, or than 256
        buf.set(LE_INT, 0, VhostUser.GET_CONFIG);
        buf.set(LE_INT, 8, 12 + 4);
        buf.set(LE_INT, 12, 0);
        buf.set(LE_INT, 16, 8);
        assertThrows(VhostUserException.class, () -> d.decode(buf, 12 + 16));
        buf.set(LE_INT, 16, 300);
        assertThrows(VhostUserException.class, () -> d.decode(buf, 12 + 16));
        buf.set(LE_INT, 16, -1);
        assertThrows(VhostUserException.class, () -> d.decode(buf, 12 + 16));
        // header size that disagrees with the bytes received, a huge size, a bad version, unknown requests
        buf.set(LE_INT, 0, VhostUser.SET_FEATURES);
        buf.set(LE_INT, 8, 8);
        assertThrows(VhostUserException.class, () -> d.decode(buf, 12 + 4), "truncated payload");
        assertThrows(VhostUserException.class, () -> d.decode(buf, 12 + 9), "extra bytes");
        buf.set(LE_INT, 8, -8);
        assertThrows(VhostUserException.class, () -> d.decodeHeader(buf, 0), "size 2^32-8");
        buf.set(LE_INT, 8, VhostUserMessage.MAX_PAYLOAD_SIZE + 1);
        assertThrows(VhostUserException.class, () -> d.decodeHeader(buf, 0));
        buf.set(LE_INT, 8, 8);
        buf.set(LE_INT, 4, 2);
        assertThrows(VhostUserException.class, () -> d.decodeHeader(buf, 0), "version 2");
        buf.set(LE_INT, 4, 0);
        assertThrows(VhostUserException.class, () -> d.decodeHeader(buf, 0), "version 0");
        for (int req : new int[] {VhostUser.NONE, VhostUser.SET_LOG_BASE, VhostUser.SEND_RARP, VhostUser.IOTLB_MSG,
                VhostUser.POSTCOPY_ADVISE, VhostUser.VRING_KICK, VhostUser.SET_STATUS, 41, 1000, -1}) {
            assertRefused(req, 8);
            assertRefused(req, 0);
        }
        assertThrows(VhostUserException.class, () -> d.decodePayload(MemorySegment.ofArray(new byte[4]), 0),
                "payload segment shorter than the header's size");
    }
}
