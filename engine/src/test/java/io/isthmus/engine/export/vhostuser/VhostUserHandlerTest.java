package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.FakeVhostUser.msg;
import static io.isthmus.engine.export.vhostuser.FakeVhostUser.send;
import static io.isthmus.engine.export.vhostuser.FakeVhostUser.state;
import static io.isthmus.engine.export.vhostuser.FakeVhostUser.u64;
import static io.isthmus.engine.export.vhostuser.VhostUser.bit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.Posix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class VhostUserHandlerTest {
    static final long MEM = 1 << 20;
    static final long UADDR = 0x7f0000000000L;

    FakeVhostUser.Device dev;
    FakeVhostUser.Channel ch;
    VhostUserHandler h;

    @BeforeEach
    void setUp() {
        dev = new FakeVhostUser.Device();
        ch = new FakeVhostUser.Channel();
        h = new VhostUserHandler(dev, Arena.ofAuto());
    }

    @AfterEach
    void tearDown() {
        h.stopAll();
        h.close();
        if (ch.received >= 0) {
            Posix.close(ch.received);
        }
    }

    static boolean isOpen(int fd) {
        return Posix.fcntl(fd, Fcntl.F_GETFD, 0) >= 0;
    }

    void negotiate(long protocol) throws Exception {
        send(h, ch, msg(VhostUser.GET_FEATURES));
        long offered = ch.last().u64;
        send(h, ch, msg(VhostUser.GET_PROTOCOL_FEATURES));
        send(h, ch, u64(VhostUser.SET_PROTOCOL_FEATURES, protocol));
        send(h, ch, msg(VhostUser.SET_OWNER));
        send(h, ch, u64(VhostUser.SET_FEATURES, offered & ~bit(VhostUser.F_RING_PACKED)));
    }

    int memTable(long size, long fileSize) throws Exception {
        VhostUserMessage t = msg(VhostUser.SET_MEM_TABLE);
        t.flags |= VhostUser.FLAG_NEED_REPLY;
        t.regionCount = 1;
        t.regions[0] = new MemoryRegionDescriptor(0, size, UADDR, 0);
        int fd = TestGuest.memfd(fileSize);
        ch.fds(fd);
        send(h, ch, t);
        return fd;
    }

    void setUpQueue(int q, int kick, int call) throws Exception {
        send(h, ch, state(VhostUser.SET_VRING_NUM, q, 16));
        send(h, ch, state(VhostUser.SET_VRING_BASE, q, 0));
        VhostUserMessage a = msg(VhostUser.SET_VRING_ADDR);
        a.vringIndex = q;
        a.descAddr = UADDR + q * 0x10000L;
        a.availAddr = a.descAddr + 0x1000;
        a.usedAddr = a.descAddr + 0x2000;
        send(h, ch, a);
        ch.fds(kick);
        send(h, ch, u64(VhostUser.SET_VRING_KICK, q));
        ch.fds(call);
        send(h, ch, u64(VhostUser.SET_VRING_CALL, q));
    }

    @Test
    void aQemuLikeSessionStartsAndStopsQueues() throws Exception {
        send(h, ch, msg(VhostUser.GET_FEATURES));
        long offered = ch.last().u64;
        assertTrue(ch.last().isReply());
        assertEquals(VirtioBlk.features(true, false) | bit(VhostUser.F_PROTOCOL_FEATURES), offered);
        send(h, ch, msg(VhostUser.GET_PROTOCOL_FEATURES));
        assertEquals(VhostUserHandler.PROTOCOL_FEATURES, ch.last().u64);
        long wanted = ch.last().u64 & ~bit(VhostUser.PROTOCOL_F_INFLIGHT_SHMFD); // QEMU 7.2's set
        send(h, ch, u64(VhostUser.SET_PROTOCOL_FEATURES, wanted));
        assertEquals(wanted, h.ackedProtocolFeatures());
        send(h, ch, msg(VhostUser.GET_QUEUE_NUM));
        assertEquals(2, ch.last().u64);
        send(h, ch, msg(VhostUser.GET_MAX_MEM_SLOTS));
        assertEquals(32, ch.last().u64);
        send(h, ch, msg(VhostUser.SET_OWNER));
        assertTrue(h.hasOwner());
        VhostUserMessage gc = msg(VhostUser.GET_CONFIG);
        gc.configSize = 60;
        send(h, ch, gc);
        assertEquals(60, ch.last().configSize);
        assertEquals(126, ch.last().config.get(VhostUser.LE_INT, VirtioBlkConfig.SEG_MAX));
        assertEquals(2048, ch.last().config.get(VhostUser.LE_LONG, VirtioBlkConfig.CAPACITY));

        VhostUserMessage sf = u64(VhostUser.SET_FEATURES, offered & ~bit(VirtioBlk.F_RO));
        sf.flags |= VhostUser.FLAG_NEED_REPLY;
        int before = ch.replies.size();
        send(h, ch, sf);
        assertEquals(before + 1, ch.replies.size(), "REPLY_ACK");
        assertEquals(0, ch.last().u64);
        assertEquals(VhostUser.SET_FEATURES, ch.last().request);
        assertEquals(sf.u64, dev.acked);

        int memfd = memTable(MEM, MEM);
        assertEquals(0, ch.last().u64, "mem table acked");
        assertFalse(isOpen(memfd), "the memory fd is closed once mapped");
        assertEquals(List.of("memory 1"), dev.events);

        int kick = Posix.eventfd(0, 0);
        int call = Posix.eventfd(0, 0);
        setUpQueue(0, kick, call);
        assertTrue(isOpen(kick), "the handler keeps the kick fd");
        assertEquals(List.of("memory 1"), dev.events, "PROTOCOL_FEATURES negotiated: rings start disabled");
        send(h, ch, state(VhostUser.SET_VRING_ENABLE, 0, 1));
        assertEquals("start 0 kick true call true", dev.events.getLast());
        assertTrue(h.vring(0).isRunning());
        assertNotNull(dev.queues[0]);

        int call2 = Posix.eventfd(0, 0);
        ch.fds(call2);
        send(h, ch, u64(VhostUser.SET_VRING_CALL, 0));
        assertEquals("call 0 true", dev.events.getLast());
        assertFalse(isOpen(call), "the replaced call fd is closed");

        send(h, ch, state(VhostUser.GET_VRING_BASE, 0, 0));
        assertEquals("stop 0", dev.events.getLast());
        assertEquals(VhostUser.GET_VRING_BASE, ch.last().request);
        assertEquals(0, ch.last().vringIndex);
        assertEquals(0, ch.last().vringNum);
        assertFalse(h.vring(0).isRunning());
        assertFalse(isOpen(kick), "GET_VRING_BASE closes kick and call, as libvhost-user");
        assertFalse(isOpen(call2));
    }

    @Test
    void withoutProtocolFeaturesRingsStartEnabled() throws Exception {
        send(h, ch, u64(VhostUser.SET_FEATURES, bit(VhostUser.F_VERSION_1)));
        memTable(MEM, MEM);
        setUpQueue(1, Posix.eventfd(0, 0), Posix.eventfd(0, 0));
        assertEquals(List.of("memory 1", "start 1 kick true call false", "call 1 true"), dev.events,
                "started by the kick; QEMU sends the call fd after it");
    }

    @Test
    void outOfRangeQueueIndexesEndTheSession() throws Exception {
        negotiate(VhostUserHandler.PROTOCOL_FEATURES);
        for (int req : new int[] {VhostUser.SET_VRING_NUM, VhostUser.SET_VRING_BASE, VhostUser.GET_VRING_BASE,
                VhostUser.SET_VRING_ENABLE}) {
            for (int index : new int[] {2, 255, 256, -1}) {
                assertThrows(VhostUserException.class, () -> send(h, ch, state(req, index, 1)),
                        () -> VhostUser.requestName(req) + " " + index);
            }
        }
        VhostUserMessage a = msg(VhostUser.SET_VRING_ADDR);
        a.vringIndex = 2;
        assertThrows(VhostUserException.class, () -> send(h, ch, a));
        for (int req : new int[] {VhostUser.SET_VRING_KICK, VhostUser.SET_VRING_CALL, VhostUser.SET_VRING_ERR}) {
            int fd = Posix.eventfd(0, 0);
            ch.fds(fd);
            assertThrows(VhostUserException.class, () -> send(h, ch, u64(req, 2)));
            assertFalse(isOpen(fd), "the transport closes what was refused");
            ch.fds(Posix.eventfd(0, 0));
            assertThrows(VhostUserException.class, () -> send(h, ch, u64(req, 1L << 9)), "unknown bits");
            assertThrows(VhostUserException.class, () -> send(h, ch, u64(req, 0x1FF)), "nofd, index 255");
        }
    }

    @Test
    void fdsWhereNoneBelongOrMissingEndTheSession() throws Exception {
        ch.fds(Posix.eventfd(0, 0));
        assertThrows(VhostUserException.class, () -> send(h, ch, msg(VhostUser.GET_FEATURES)));
        ch.fds(Posix.eventfd(0, 0));
        assertThrows(VhostUserException.class, () -> send(h, ch, state(VhostUser.SET_VRING_NUM, 0, 16)));
        assertThrows(VhostUserException.class, () -> send(h, ch, u64(VhostUser.SET_VRING_KICK, 0)), "no fd");
        ch.fds(Posix.eventfd(0, 0), Posix.eventfd(0, 0));
        assertThrows(VhostUserException.class, () -> send(h, ch, u64(VhostUser.SET_VRING_CALL, 0)), "two fds");
        ch.fds(Posix.eventfd(0, 0));
        assertThrows(VhostUserException.class,
                () -> send(h, ch, u64(VhostUser.SET_VRING_CALL, VhostUser.VRING_NOFD_MASK)), "nofd with an fd");
        VhostUserMessage t = msg(VhostUser.SET_MEM_TABLE);
        t.regionCount = 2;
        t.regions[0] = new MemoryRegionDescriptor(0, MEM, UADDR, 0);
        t.regions[1] = new MemoryRegionDescriptor(MEM, MEM, UADDR + MEM, 0);
        ch.fds(TestGuest.memfd(MEM));
        assertThrows(VhostUserException.class, () -> send(h, ch, t), "two regions, one fd");
        assertEquals(0, h.memory().regionCount());
        // and the right fds are accepted
        send(h, ch, u64(VhostUser.SET_VRING_CALL, VhostUser.VRING_NOFD_MASK));
        ch.fds(TestGuest.memfd(MEM), TestGuest.memfd(MEM));
        send(h, ch, t);
        assertEquals(2, h.memory().regionCount());
    }

    @Test
    void badRegionsAreRefusedAndNothingLeaks() throws Exception {
        negotiate(VhostUserHandler.PROTOCOL_FEATURES);
        VhostUserException e = assertThrows(VhostUserException.class, () -> memTable(2 * MEM, MEM));
        assertTrue(e.getMessage().contains("larger than its fd"), e.getMessage());
        assertEquals(0, h.memory().regionCount());

        VhostUserMessage t = msg(VhostUser.SET_MEM_TABLE);
        t.regionCount = 2;
        t.regions[0] = new MemoryRegionDescriptor(0, MEM, UADDR, 0);
        t.regions[1] = new MemoryRegionDescriptor(MEM / 2, MEM, UADDR + MEM, 0);
        int a = TestGuest.memfd(MEM), b = TestGuest.memfd(MEM);
        ch.fds(a, b);
        assertThrows(VhostUserException.class, () -> send(h, ch, t), "overlapping regions");
        assertFalse(isOpen(a) || isOpen(b));

        t.regions[1] = new MemoryRegionDescriptor(MEM, MEM, UADDR + MEM, 0);
        int c = TestGuest.memfd(MEM), d = TestGuest.memfd(MEM / 2);
        ch.fds(c, d);
        assertThrows(VhostUserException.class, () -> send(h, ch, t), "the second region's fd is too small");
        assertFalse(isOpen(c) || isOpen(d));
        assertEquals(0, h.memory().regionCount(), "the old table stays");
    }

    @Test
    void protocolViolationsEndTheSession() throws Exception {
        send(h, ch, msg(VhostUser.GET_FEATURES));
        long offered = ch.last().u64;
        assertThrows(VhostUserException.class, () -> send(h, ch, u64(VhostUser.SET_FEATURES, offered | 1L << 50)));
        assertThrows(VhostUserException.class,
                () -> send(h, ch, u64(VhostUser.SET_PROTOCOL_FEATURES, bit(VhostUser.PROTOCOL_F_LOG_SHMFD))));
        assertThrows(VhostUserException.class, () -> send(h, ch, state(VhostUser.SET_VRING_ENABLE, 0, 2)));
        assertThrows(VhostUserException.class, () -> send(h, ch, state(VhostUser.SET_VRING_NUM, 0, 0)));
        assertThrows(VhostUserException.class, () -> send(h, ch, state(VhostUser.SET_VRING_NUM, 0, 65536)));
        send(h, ch, state(VhostUser.SET_VRING_NUM, 0, 32768));
        VhostUserMessage r = msg(VhostUser.SET_OWNER);
        r.flags |= VhostUser.FLAG_REPLY;
        assertThrows(VhostUserException.class, () -> send(h, ch, r), "a reply sent to the back end");
        ch.fds(Posix.eventfd(0, 0));
        assertThrows(VhostUserException.class, () -> send(h, ch, msg(VhostUser.SET_BACKEND_REQ_FD)),
                "BACKEND_REQ not negotiated");
        VhostUserMessage log = msg(VhostUser.SET_VRING_ADDR);
        log.addrFlags = VhostUser.VRING_F_LOG;
        assertThrows(VhostUserException.class, () -> send(h, ch, log), "dirty logging was not offered");
        MemorySegment raw = Arena.ofAuto().allocate(64);
        raw.set(VhostUser.LE_INT, 0, VhostUser.SET_LOG_BASE);
        raw.set(VhostUser.LE_INT, 4, VhostUser.VERSION);
        raw.set(VhostUser.LE_INT, 8, 16);
        assertThrows(VhostUserException.class, () -> h.handle(raw, 28, ch), "unsupported request");
    }

    @Test
    void ringsOutsideMemoryAreRefused() throws Exception {
        negotiate(VhostUserHandler.PROTOCOL_FEATURES);
        memTable(MEM, MEM);
        send(h, ch, state(VhostUser.SET_VRING_NUM, 0, 256));
        VhostUserMessage a = msg(VhostUser.SET_VRING_ADDR);
        a.descAddr = UADDR + MEM - 4096; // 256 descriptors need 4096 bytes: fits
        a.availAddr = UADDR;
        a.usedAddr = UADDR + MEM - 8; // the used ring does not
        assertThrows(VhostUserException.class, () -> send(h, ch, a));
        a.usedAddr = 0x1000; // a guest address, not a user one
        assertThrows(VhostUserException.class, () -> send(h, ch, a));
        a.usedAddr = UADDR + 8192;
        send(h, ch, a);
    }

    @Test
    void packedRingsHaveSmallEventAreas() throws Exception {
        dev.packed = true;
        h.close();
        h = new VhostUserHandler(dev, Arena.ofAuto());
        send(h, ch, msg(VhostUser.GET_FEATURES));
        assertTrue((ch.last().u64 & bit(VhostUser.F_RING_PACKED)) != 0);
        send(h, ch, u64(VhostUser.SET_FEATURES, ch.last().u64 & ~bit(VhostUser.F_PROTOCOL_FEATURES)));
        memTable(MEM, MEM);
        send(h, ch, state(VhostUser.SET_VRING_NUM, 0, 100)); // packed rings need not be a power of two
        send(h, ch, state(VhostUser.SET_VRING_BASE, 0, 0x80008000));
        VhostUserMessage a = msg(VhostUser.SET_VRING_ADDR);
        a.descAddr = UADDR;
        a.availAddr = UADDR + MEM - 8; // the driver and device event areas are 4 bytes each
        a.usedAddr = UADDR + MEM - 4;
        send(h, ch, a);
        ch.fds(Posix.eventfd(0, 0));
        send(h, ch, u64(VhostUser.SET_VRING_KICK, 0));
        assertTrue(dev.queues[0] instanceof PackedVirtqueue);
        send(h, ch, state(VhostUser.GET_VRING_BASE, 0, 0));
        assertEquals(0x80008000, ch.last().vringNum);
    }

    @Test
    void replyAckReportsRefusals() throws Exception {
        negotiate(VhostUserHandler.PROTOCOL_FEATURES);
        VhostUserMessage sc = msg(VhostUser.SET_CONFIG);
        sc.flags |= VhostUser.FLAG_NEED_REPLY;
        sc.configOffset = VirtioBlkConfig.WCE;
        sc.configSize = 1;
        sc.config.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        send(h, ch, sc);
        assertEquals(0, ch.last().u64);
        assertEquals(1, dev.config.wce());
        sc.configOffset = 0;
        send(h, ch, sc);
        assertEquals(1, ch.last().u64, "only wce is writable");
        sc.configOffset = VirtioBlkConfig.WCE;
        sc.configFlags = VhostUser.CONFIG_TYPE_MIGRATION;
        send(h, ch, sc);
        assertEquals(1, ch.last().u64, "no migration writes");
        VhostUserMessage gc = msg(VhostUser.GET_CONFIG);
        gc.configOffset = 90;
        gc.configSize = 8;
        send(h, ch, gc);
        assertEquals(0, ch.last().size, "a config read past the space is answered with size 0, as libvhost-user");
        VhostUserMessage rem = msg(VhostUser.REM_MEM_REG);
        rem.flags |= VhostUser.FLAG_NEED_REPLY;
        rem.regions[0] = new MemoryRegionDescriptor(0, MEM, UADDR, 0);
        send(h, ch, rem);
        assertEquals(1, ch.last().u64, "no such region");
    }

    @Test
    void addAndRemoveMemoryRegions() throws Exception {
        negotiate(VhostUserHandler.PROTOCOL_FEATURES);
        for (int i = 0; i < 3; i++) {
            VhostUserMessage add = msg(VhostUser.ADD_MEM_REG);
            add.regions[0] = new MemoryRegionDescriptor(i * MEM, MEM, UADDR + i * MEM, 0);
            int fd = TestGuest.memfd(MEM);
            ch.fds(fd);
            send(h, ch, add);
            assertFalse(isOpen(fd));
        }
        assertEquals(3, h.memory().regionCount());
        VhostUserMessage overlap = msg(VhostUser.ADD_MEM_REG);
        overlap.regions[0] = new MemoryRegionDescriptor(MEM / 2, MEM, UADDR + 8 * MEM, 0);
        ch.fds(TestGuest.memfd(MEM));
        assertThrows(VhostUserException.class, () -> send(h, ch, overlap));
        GuestMemoryRegion middle = h.memory().region(1);
        VhostUserMessage rem = msg(VhostUser.REM_MEM_REG);
        rem.regions[0] = new MemoryRegionDescriptor(MEM, MEM, UADDR + MEM, 12345); // the offset is ignored
        send(h, ch, rem);
        assertEquals(2, h.memory().regionCount());
        assertFalse(middle.isMapped(), "a removed region is unmapped");
        assertEquals(GuestMemory.NOT_FOUND, h.memory().find(MEM, 1));
        assertEquals("memory 2", dev.events.getLast());
    }

    @Test
    void inflightRegions() throws Exception {
        negotiate(VhostUserHandler.PROTOCOL_FEATURES & ~bit(VhostUser.PROTOCOL_F_INFLIGHT_SHMFD));
        VhostUserMessage get = msg(VhostUser.GET_INFLIGHT_FD);
        get.inflightNumQueues = 2;
        get.inflightQueueSize = 128;
        assertThrows(VhostUserException.class, () -> send(h, ch, get), "not negotiated");
        send(h, ch, u64(VhostUser.SET_PROTOCOL_FEATURES, VhostUserHandler.PROTOCOL_FEATURES));
        send(h, ch, get);
        VhostUserMessage r = ch.last();
        assertEquals(2 * InflightRegion.queueRegionSize(128), r.inflightMmapSize);
        assertEquals(2 * (16 * 128 + 64), r.inflightMmapSize);
        assertEquals(1, ch.replyFdValid.getLast(), "the region's fd goes with the reply");
        assertNotNull(h.vring(1).inflight());
        // a reconnecting front end hands the region back
        VhostUserMessage set = msg(VhostUser.SET_INFLIGHT_FD);
        set.inflightMmapSize = r.inflightMmapSize;
        set.inflightNumQueues = 2;
        set.inflightQueueSize = 128;
        ch.fds(Posix.dup(ch.received));
        send(h, ch, set);
        assertEquals(2, h.inflight().numQueues);
        set.inflightMmapSize = r.inflightMmapSize * 2; // larger than the fd
        ch.fds(Posix.dup(ch.received));
        assertThrows(VhostUserException.class, () -> send(h, ch, set));
        set.inflightMmapSize = r.inflightMmapSize;
        set.inflightNumQueues = 3; // more queues than the device
        ch.fds(Posix.dup(ch.received));
        assertThrows(VhostUserException.class, () -> send(h, ch, set));
        get.inflightQueueSize = 0;
        assertThrows(VhostUserException.class, () -> send(h, ch, get));
    }

    @Test
    void aStartedSplitQueueTracksItsRequestsInTheInflightRegion() throws Exception {
        negotiate(VhostUserHandler.PROTOCOL_FEATURES);
        VhostUserMessage get = msg(VhostUser.GET_INFLIGHT_FD);
        get.inflightNumQueues = 2;
        get.inflightQueueSize = 16;
        send(h, ch, get);
        memTable(MEM, MEM);
        setUpQueue(0, Posix.eventfd(0, 0), Posix.eventfd(0, 0));
        send(h, ch, state(VhostUser.SET_VRING_ENABLE, 0, 1));
        assertTrue(dev.queues[0] instanceof SplitVirtqueue);
        assertEquals(SplitInflightLog.VERSION, h.inflight().queue(0).get(VhostUser.LE_SHORT, 8),
                "the queue initialised its part of the region");
        assertEquals(0, h.inflight().queue(1).get(VhostUser.LE_SHORT, 8), "queue 1 did not start");
    }

    @Test
    void aDeferredStopAnswersLater() throws Exception {
        negotiate(VhostUserHandler.PROTOCOL_FEATURES);
        memTable(MEM, MEM);
        setUpQueue(0, Posix.eventfd(0, 0), Posix.eventfd(0, 0));
        send(h, ch, state(VhostUser.SET_VRING_ENABLE, 0, 1));
        dev.defer = true;
        int replies = ch.replies.size();
        assertEquals(VhostUserHandler.DEFERRED, send(h, ch, state(VhostUser.GET_VRING_BASE, 0, 0)));
        assertEquals(replies, ch.replies.size());
        assertThrows(VhostUserException.class, () -> send(h, ch, msg(VhostUser.GET_FEATURES)),
                "no message while the answer is pending");
        h.queueStopped(0, 42, ch);
        assertEquals(VhostUser.GET_VRING_BASE, ch.last().request);
        assertEquals(42, ch.last().vringNum);
        assertEquals(42, h.vring(0).base());
        send(h, ch, msg(VhostUser.GET_FEATURES));
    }

    @Test
    void resetAndCloseReleaseEverything() throws Exception {
        negotiate(VhostUserHandler.PROTOCOL_FEATURES);
        memTable(MEM, MEM);
        int kick = Posix.eventfd(0, 0), call = Posix.eventfd(0, 0), err = Posix.eventfd(0, 0);
        setUpQueue(0, kick, call);
        ch.fds(err);
        send(h, ch, u64(VhostUser.SET_VRING_ERR, 0));
        send(h, ch, state(VhostUser.SET_VRING_ENABLE, 0, 1));
        int backend = Posix.eventfd(0, 0);
        ch.fds(backend);
        send(h, ch, msg(VhostUser.SET_BACKEND_REQ_FD));
        assertEquals(backend, h.backendRequestFd());
        MemorySegment cc = Arena.ofAuto().allocate(16);
        assertEquals(12, h.configChangeMessage(cc));
        assertEquals(VhostUser.BACKEND_CONFIG_CHANGE_MSG, cc.get(VhostUser.LE_INT, 0));
        assertEquals(VhostUser.VERSION | VhostUser.FLAG_NEED_REPLY, cc.get(VhostUser.LE_INT, 4));

        send(h, ch, msg(VhostUser.RESET_OWNER));
        assertEquals("stop 0", dev.events.getLast());
        assertFalse(isOpen(kick) || isOpen(call) || isOpen(err));
        assertEquals(0, h.ackedFeatures());
        GuestMemoryRegion r = h.memory().region(0);
        h.close();
        assertFalse(r.isMapped());
        assertFalse(isOpen(backend));
        assertNull(null);
        assertThrows(VhostUserException.class, () -> send(h, ch, msg(VhostUser.GET_FEATURES)));
        assertEquals(-Errno.EBADF, Posix.fcntl(backend, Fcntl.F_GETFD, 0));
    }
}
