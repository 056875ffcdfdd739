package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.VhostUser.bit;

import io.isthmus.bindings.Posix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The back-end side of one vhost-user session: takes decoded front-end messages in order and keeps the session
 * state (features, protocol features, owner, guest memory, the vrings, the back-end request fd, the inflight
 * region), replying where the protocol says so and acknowledging with REPLY_ACK when the front end asks
 * (NEED_REPLY). Queues start when they have a size, addresses, a kick fd and are enabled, and stop on
 * GET_VRING_BASE or SET_VRING_ENABLE 0: those two are handed to the {@link VhostUserDevice}.
 *
 * <p>Everything from the front end is checked before use: payload shapes ({@link VhostUserMessage}), fds (an fd
 * where none belongs, or none where one must be, ends the session), queue indexes, feature bits never offered,
 * memory regions (overlapping, overflowing, larger than their fd). A broken rule throws
 * {@link VhostUserException} and the transport ends the session; a refusal the protocol can express (a config
 * access out of range) is answered instead.
 *
 * <p>Thread use: the session's thread only (it may be an IoThread: nothing here blocks). Memory: the reply buffer
 * is allocated once in the arena given (the session's); guest memory and the inflight region are mapped here and
 * unmapped by {@link #close} or when replaced. Fds: see {@link VhostUserChannel}; vring fds are owned here.
 */
public final class VhostUserHandler {
    /** Protocol features offered: QSD 7.2's set for a block device, plus INFLIGHT_SHMFD. */
    public static final long PROTOCOL_FEATURES = bit(VhostUser.PROTOCOL_F_MQ) | bit(VhostUser.PROTOCOL_F_REPLY_ACK)
            | bit(VhostUser.PROTOCOL_F_BACKEND_REQ) | bit(VhostUser.PROTOCOL_F_CONFIG)
            | bit(VhostUser.PROTOCOL_F_CONFIGURE_MEM_SLOTS) | bit(VhostUser.PROTOCOL_F_INFLIGHT_SHMFD);

    // ---- handle() results
    /** The message was handled (and answered if it needed an answer). */
    public static final int DONE = 0;
    /**
     * The answer waits for the device ({@link VhostUserDevice#stopQueue} returned DEFER): read no further message
     * until {@link #queueStopped} has sent it.
     */
    public static final int DEFERRED = 1;

    private static final int R_OK = 0, R_FAIL = 1, R_REPLIED = 2, R_DEFER = 3;

    private final VhostUserDevice device;
    private final Vring[] vrings;
    private final long offeredFeatures;
    private final VhostUserMessage msg = new VhostUserMessage();
    private final VhostUserMessage reply = new VhostUserMessage();
    private final MemorySegment out;

    private long features;
    private long protocolFeatures;
    private boolean owner;
    private GuestMemory memory = GuestMemory.EMPTY;
    private int backendFd = -1;
    private InflightRegion inflight;
    /** Replaced inflight regions that running queues may still write: unmapped at {@link #close}. */
    private final java.util.List<InflightRegion> inflightRetired = new java.util.ArrayList<>();
    private int pendingIndex = -1;
    private boolean closed;

    public VhostUserHandler(VhostUserDevice device, Arena arena) {
        this.device = device;
        int n = device.numQueues();
        if (n <= 0 || n > 0xFF + 1) {
            throw new IllegalArgumentException("num-queues " + n);
        }
        vrings = new Vring[n];
        for (int i = 0; i < n; i++) {
            vrings[i] = new Vring(i);
        }
        offeredFeatures = device.features() | bit(VhostUser.F_PROTOCOL_FEATURES);
        out = arena.allocate(VhostUserMessage.MAX_MESSAGE_SIZE, 8);
    }

    // ---- state, for the device, the glue and tests

    public long offeredFeatures() {
        return offeredFeatures;
    }

    public long ackedFeatures() {
        return features;
    }

    public long ackedProtocolFeatures() {
        return protocolFeatures;
    }

    public boolean hasProtocolFeature(int bit) {
        return (protocolFeatures & bit(bit)) != 0;
    }

    public boolean hasOwner() {
        return owner;
    }

    public GuestMemory memory() {
        return memory;
    }

    public Vring vring(int i) {
        return vrings[i];
    }

    /** The back-end request channel's fd (SET_BACKEND_REQ_FD), or -1: config-change messages go there. */
    public int backendRequestFd() {
        return backendFd;
    }

    public InflightRegion inflight() {
        return inflight;
    }

    /**
     * Encodes VHOST_USER_BACKEND_CONFIG_CHANGE_MSG (sent on {@link #backendRequestFd} when the node's length
     * changes), asking for an ack when REPLY_ACK was negotiated, as libvhost-user does. Returns its length.
     */
    public int configChangeMessage(MemorySegment dst) {
        int flags = VhostUser.VERSION
                | (hasProtocolFeature(VhostUser.PROTOCOL_F_REPLY_ACK) ? VhostUser.FLAG_NEED_REPLY : 0);
        return VhostUserMessage.encodeEmpty(dst, 0, VhostUser.BACKEND_CONFIG_CHANGE_MSG, flags);
    }

    // ---- messages

    /**
     * Handles one message of {@code length} bytes (header and payload) at the start of {@code buf}, with the fds
     * {@code channel} holds. Returns {@link #DONE} or {@link #DEFERRED}; throws when the session must end.
     */
    public int handle(MemorySegment buf, long length, VhostUserChannel channel) throws VhostUserException {
        if (closed) {
            throw new VhostUserException("session closed");
        }
        if (pendingIndex >= 0) {
            throw new VhostUserException("message while GET_VRING_BASE is unanswered");
        }
        msg.decode(buf, length);
        if (msg.isReply()) {
            throw new VhostUserException(VhostUser.requestName(msg.request) + ": a reply sent to the back end");
        }
        checkFds(channel.fdCount());
        int r = dispatch(channel);
        if (r == R_DEFER) {
            return DEFERRED;
        }
        if (r != R_REPLIED && msg.needsReply()) {
            sendU64(channel, msg.request, r == R_OK ? 0 : 1);
        }
        return DONE;
    }

    private void checkFds(int n) throws VhostUserException {
        int min = 0, max = 0;
        switch (msg.request) {
            case VhostUser.SET_MEM_TABLE -> min = max = msg.regionCount;
            case VhostUser.ADD_MEM_REG, VhostUser.SET_BACKEND_REQ_FD, VhostUser.SET_INFLIGHT_FD -> min = max = 1;
            case VhostUser.REM_MEM_REG -> max = 1; // QEMU sends none; older front ends sent the region's fd
            case VhostUser.SET_VRING_KICK, VhostUser.SET_VRING_CALL, VhostUser.SET_VRING_ERR ->
                    min = max = (msg.u64 & VhostUser.VRING_NOFD_MASK) != 0 ? 0 : 1;
            default -> { }
        }
        if (n < min || n > max) {
            throw new VhostUserException(VhostUser.requestName(msg.request) + ": " + n + " fds received, expected "
                    + (min == max ? Integer.toString(min) : min + ".." + max));
        }
    }

    private int dispatch(VhostUserChannel ch) throws VhostUserException {
        switch (msg.request) {
            case VhostUser.GET_FEATURES -> {
                sendU64(ch, msg.request, offeredFeatures);
                return R_REPLIED;
            }
            case VhostUser.SET_FEATURES -> {
                if ((msg.u64 & ~offeredFeatures) != 0) {
                    throw new VhostUserException("SET_FEATURES: bits 0x" + Long.toHexString(msg.u64 & ~offeredFeatures)
                            + " were not offered");
                }
                features = msg.u64;
                device.featuresAcked(features);
                return R_OK;
            }
            case VhostUser.SET_OWNER -> {
                owner = true;
                return R_OK;
            }
            case VhostUser.RESET_OWNER, VhostUser.RESET_DEVICE -> {
                resetQueues();
                features = 0;
                return R_OK;
            }
            case VhostUser.GET_PROTOCOL_FEATURES -> {
                sendU64(ch, msg.request, PROTOCOL_FEATURES);
                return R_REPLIED;
            }
            case VhostUser.SET_PROTOCOL_FEATURES -> {
                if ((msg.u64 & ~PROTOCOL_FEATURES) != 0) {
                    throw new VhostUserException("SET_PROTOCOL_FEATURES: bits 0x"
                            + Long.toHexString(msg.u64 & ~PROTOCOL_FEATURES) + " were not offered");
                }
                protocolFeatures = msg.u64;
                return R_OK;
            }
            case VhostUser.GET_QUEUE_NUM -> {
                sendU64(ch, msg.request, vrings.length);
                return R_REPLIED;
            }
            case VhostUser.GET_MAX_MEM_SLOTS -> {
                sendU64(ch, msg.request, VhostUser.MAX_MEM_SLOTS);
                return R_REPLIED;
            }
            case VhostUser.SET_MEM_TABLE -> {
                setMemTable(ch);
                return R_OK;
            }
            case VhostUser.ADD_MEM_REG -> {
                addMemReg(ch);
                return R_OK;
            }
            case VhostUser.REM_MEM_REG -> {
                return remMemReg(ch);
            }
            case VhostUser.SET_VRING_NUM -> {
                Vring v = stoppedVring();
                if (msg.vringNum <= 0 || msg.vringNum > VhostUser.MAX_QUEUE_SIZE) {
                    throw new VhostUserException("SET_VRING_NUM: queue size " + Integer.toUnsignedString(msg.vringNum)
                            + " (1..32768)");
                }
                v.size = msg.vringNum;
                return R_OK;
            }
            case VhostUser.SET_VRING_ADDR -> {
                setVringAddr();
                return R_OK;
            }
            case VhostUser.SET_VRING_BASE -> {
                stoppedVring().base = msg.vringNum;
                return R_OK;
            }
            case VhostUser.GET_VRING_BASE -> {
                return getVringBase(ch);
            }
            case VhostUser.SET_VRING_KICK -> {
                setVringKick(ch);
                return R_OK;
            }
            case VhostUser.SET_VRING_CALL -> {
                Vring v = fileVring();
                int old = v.callFd;
                v.callFd = (msg.u64 & VhostUser.VRING_NOFD_MASK) != 0 ? -1 : ch.takeFd(0);
                if (v.running) {
                    device.callChanged(v.index, v.callFd);
                }
                closeFd(old);
                return R_OK;
            }
            case VhostUser.SET_VRING_ERR -> {
                Vring v = fileVring();
                int old = v.errFd;
                v.errFd = (msg.u64 & VhostUser.VRING_NOFD_MASK) != 0 ? -1 : ch.takeFd(0);
                closeFd(old);
                return R_OK;
            }
            case VhostUser.SET_VRING_ENABLE -> {
                Vring v = stateVring();
                if (msg.vringNum != 0 && msg.vringNum != 1) {
                    throw new VhostUserException("SET_VRING_ENABLE: " + Integer.toUnsignedString(msg.vringNum));
                }
                v.enabled = msg.vringNum == 1;
                if (v.enabled) {
                    maybeStart(v);
                } else {
                    stop(v);
                }
                return R_OK;
            }
            case VhostUser.SET_BACKEND_REQ_FD -> {
                if (!hasProtocolFeature(VhostUser.PROTOCOL_F_BACKEND_REQ)) {
                    throw new VhostUserException("SET_BACKEND_REQ_FD without the BACKEND_REQ protocol feature");
                }
                int old = backendFd;
                backendFd = ch.takeFd(0);
                closeFd(old);
                return R_OK;
            }
            case VhostUser.GET_CONFIG -> {
                getConfig(ch);
                return R_REPLIED;
            }
            case VhostUser.SET_CONFIG -> {
                if (!configRangeOk()) {
                    return R_FAIL;
                }
                return device.writeConfig(msg.configOffset, msg.config, msg.configSize, msg.configFlags) == 0
                        ? R_OK : R_FAIL;
            }
            case VhostUser.GET_INFLIGHT_FD -> {
                getInflightFd(ch);
                return R_REPLIED;
            }
            case VhostUser.SET_INFLIGHT_FD -> {
                requireInflight();
                InflightRegion r = InflightRegion.map(ch.takeFd(0), msg.inflightMmapSize, msg.inflightMmapOffset,
                        msg.inflightNumQueues, msg.inflightQueueSize, vrings.length);
                replaceInflight(r);
                return R_OK;
            }
            default -> throw new VhostUserException("unsupported vhost-user " + VhostUser.requestName(msg.request));
        }
    }

    // ---- memory

    private void setMemTable(VhostUserChannel ch) throws VhostUserException {
        int n = msg.regionCount;
        int[] fds = new int[n];
        for (int i = 0; i < n; i++) {
            fds[i] = ch.takeFd(i);
        }
        GuestMemoryRegion[] mapped = new GuestMemoryRegion[n];
        try {
            GuestMemory.checkDisjoint(msg.regions, n);
            for (int i = 0; i < n; i++) {
                int fd = fds[i];
                fds[i] = -1; // GuestMemoryRegion.map takes it, mapped or not
                mapped[i] = GuestMemoryRegion.map(fd, msg.regions[i]);
            }
            GuestMemory next = GuestMemory.of(mapped);
            GuestMemory old = memory;
            switchMemory(next);
            old.closeAll();
        } catch (VhostUserException e) {
            for (int i = 0; i < n; i++) {
                if (mapped[i] != null) {
                    mapped[i].close();
                }
                closeFd(fds[i]);
            }
            throw e;
        }
    }

    private void addMemReg(VhostUserChannel ch) throws VhostUserException {
        int fd = ch.takeFd(0);
        if (memory.regionCount() >= VhostUser.MAX_MEM_SLOTS) {
            closeFd(fd);
            throw new VhostUserException("ADD_MEM_REG: all " + VhostUser.MAX_MEM_SLOTS + " memory slots are in use");
        }
        MemoryRegionDescriptor[] all = new MemoryRegionDescriptor[memory.regionCount() + 1];
        for (int i = 0; i < memory.regionCount(); i++) {
            all[i] = memory.region(i).descriptor();
        }
        all[all.length - 1] = msg.regions[0];
        try {
            GuestMemory.checkDisjoint(all, all.length);
        } catch (VhostUserException e) {
            closeFd(fd);
            throw e;
        }
        GuestMemoryRegion r = GuestMemoryRegion.map(fd, msg.regions[0]);
        GuestMemory next;
        try {
            next = memory.with(r);
        } catch (VhostUserException e) {
            r.close();
            throw e;
        }
        switchMemory(next);
    }

    private int remMemReg(VhostUserChannel ch) {
        closeFd(ch.takeFd(0));
        for (int i = 0; i < memory.regionCount(); i++) {
            GuestMemoryRegion r = memory.region(i);
            if (r.matches(msg.regions[0])) {
                switchMemory(memory.without(i));
                r.close();
                return R_OK;
            }
        }
        return R_FAIL; // libvhost-user: "Specified region not found"
    }

    private void switchMemory(GuestMemory next) {
        memory = next;
        for (Vring v : vrings) {
            v.memory = next;
        }
        device.memoryChanged(next);
    }

    // ---- vrings

    private Vring stateVring() throws VhostUserException {
        if (msg.vringIndex < 0 || msg.vringIndex >= vrings.length) {
            throw new VhostUserException(VhostUser.requestName(msg.request) + ": queue index "
                    + Integer.toUnsignedString(msg.vringIndex) + " out of range (" + vrings.length + " queues)");
        }
        return vrings[msg.vringIndex];
    }

    private Vring stoppedVring() throws VhostUserException {
        Vring v = stateVring();
        if (v.running) {
            throw new VhostUserException(VhostUser.requestName(msg.request) + " on running queue " + v.index);
        }
        return v;
    }

    private Vring fileVring() throws VhostUserException {
        if ((msg.u64 & ~(VhostUser.VRING_IDX_MASK | VhostUser.VRING_NOFD_MASK)) != 0) {
            throw new VhostUserException(VhostUser.requestName(msg.request) + ": unknown bits in 0x"
                    + Long.toHexString(msg.u64));
        }
        int index = (int) (msg.u64 & VhostUser.VRING_IDX_MASK);
        if (index >= vrings.length) {
            throw new VhostUserException(VhostUser.requestName(msg.request) + ": queue index " + index
                    + " out of range (" + vrings.length + " queues)");
        }
        return vrings[index];
    }

    private void setVringAddr() throws VhostUserException {
        Vring v = stateVring();
        if ((msg.addrFlags & ~VhostUser.VRING_F_LOG) != 0
                || ((msg.addrFlags & VhostUser.VRING_F_LOG) != 0 && (features & bit(VhostUser.F_LOG_ALL)) == 0)) {
            throw new VhostUserException("SET_VRING_ADDR: flags 0x" + Integer.toHexString(msg.addrFlags));
        }
        if (v.running && (msg.descAddr != v.descUser || msg.availAddr != v.availUser || msg.usedAddr != v.usedUser)) {
            throw new VhostUserException("SET_VRING_ADDR moves the rings of running queue " + v.index);
        }
        if (v.size > 0 && memory.regionCount() > 0 && !ringsInMemory(msg.descAddr, msg.availAddr, msg.usedAddr,
                v.size)) {
            throw new VhostUserException("SET_VRING_ADDR: rings of queue " + v.index + " outside guest memory");
        }
        v.addrFlags = msg.addrFlags;
        v.descUser = msg.descAddr;
        v.availUser = msg.availAddr;
        v.usedUser = msg.usedAddr;
        v.logGuest = msg.logAddr;
        v.addressed = true;
    }

    private boolean ringsInMemory(long desc, long avail, long used, int size) {
        boolean packed = (features & bit(VhostUser.F_RING_PACKED)) != 0;
        return memory.sliceByUserAddress(desc, SplitVirtqueue.descTableBytes(size)) != null
                && memory.sliceByUserAddress(avail, packed ? PackedVirtqueue.EVENT_AREA_SIZE
                        : SplitVirtqueue.availRingBytes(size)) != null
                && memory.sliceByUserAddress(used, packed ? PackedVirtqueue.EVENT_AREA_SIZE
                        : SplitVirtqueue.usedRingBytes(size)) != null;
    }

    private int getVringBase(VhostUserChannel ch) throws VhostUserException {
        Vring v = stateVring();
        long base = stop(v);
        if (base == VhostUserDevice.DEFER) {
            pendingIndex = v.index;
            return R_DEFER;
        }
        answerVringBase(ch, v);
        return R_REPLIED;
    }

    private void answerVringBase(VhostUserChannel ch, Vring v) throws VhostUserException {
        // libvhost-user: the queue is stopped, and its kick and call fds are closed
        v.kicked = false;
        closeFd(v.kickFd);
        closeFd(v.callFd);
        v.kickFd = v.callFd = -1;
        reply.request = VhostUser.GET_VRING_BASE;
        reply.flags = VhostUser.VERSION | VhostUser.FLAG_REPLY;
        reply.vringIndex = v.index;
        reply.vringNum = v.base;
        ch.send(out, reply.encode(out, 0), -1);
    }

    /** A deferred {@link VhostUserDevice#stopQueue} finished: records the base and sends the waiting answer. */
    public void queueStopped(int index, int base, VhostUserChannel ch) throws VhostUserException {
        Vring v = vrings[index];
        v.base = base;
        if (pendingIndex == index) {
            pendingIndex = -1;
            answerVringBase(ch, v);
        }
    }

    private void setVringKick(VhostUserChannel ch) throws VhostUserException {
        Vring v = fileVring();
        if (v.running) {
            stop(v); // the device reads the old fd: restart it on the new one
        }
        closeFd(v.kickFd);
        v.kickFd = (msg.u64 & VhostUser.VRING_NOFD_MASK) != 0 ? -1 : ch.takeFd(0);
        v.kicked = v.kickFd >= 0;
        maybeStart(v);
    }

    private void maybeStart(Vring v) throws VhostUserException {
        boolean enabled = (features & bit(VhostUser.F_PROTOCOL_FEATURES)) == 0 || v.enabled;
        if (v.running || !v.kicked || !enabled || v.size == 0 || !v.addressed || memory.regionCount() == 0) {
            return;
        }
        v.features = features;
        v.memory = memory;
        v.inflight = inflight == null ? null : inflight.queue(v.index);
        device.startQueue(v);
        v.running = true;
    }

    /** Stops a running queue; returns its base, or DEFER. */
    private long stop(Vring v) {
        if (!v.running) {
            return v.base;
        }
        v.running = false;
        long b = device.stopQueue(v.index);
        if (b != VhostUserDevice.DEFER) {
            v.base = (int) b;
        }
        return b;
    }

    private void resetQueues() {
        for (Vring v : vrings) {
            stop(v);
            closeFd(v.kickFd);
            closeFd(v.callFd);
            closeFd(v.errFd);
            v.kickFd = v.callFd = v.errFd = -1;
            v.kicked = v.enabled = v.addressed = false;
            v.size = 0;
            v.base = 0;
        }
    }

    // ---- config and inflight

    private boolean configRangeOk() {
        return msg.configOffset >= 0 && msg.configSize >= 0 && msg.configOffset <= device.configSize()
                && msg.configSize <= device.configSize() - msg.configOffset;
    }

    private void getConfig(VhostUserChannel ch) throws VhostUserException {
        int flags = VhostUser.VERSION | VhostUser.FLAG_REPLY;
        if (!configRangeOk() || device.readConfig(msg.configOffset, reply.config, msg.configSize) != 0) {
            ch.send(out, VhostUserMessage.encodeEmpty(out, 0, VhostUser.GET_CONFIG, flags), -1); // size 0: refused
            return;
        }
        reply.request = VhostUser.GET_CONFIG;
        reply.flags = flags;
        reply.configRefused = false;
        reply.configOffset = msg.configOffset;
        reply.configSize = msg.configSize;
        reply.configFlags = msg.configFlags;
        ch.send(out, reply.encode(out, 0), -1);
    }

    private void requireInflight() throws VhostUserException {
        if (!hasProtocolFeature(VhostUser.PROTOCOL_F_INFLIGHT_SHMFD)) {
            throw new VhostUserException(VhostUser.requestName(msg.request)
                    + " without the INFLIGHT_SHMFD protocol feature");
        }
    }

    private void getInflightFd(VhostUserChannel ch) throws VhostUserException {
        requireInflight();
        int[] fd = new int[1];
        InflightRegion r = InflightRegion.create(msg.inflightNumQueues, msg.inflightQueueSize, vrings.length, fd);
        try {
            replaceInflight(r);
            reply.request = VhostUser.GET_INFLIGHT_FD;
            reply.flags = VhostUser.VERSION | VhostUser.FLAG_REPLY;
            reply.inflightMmapSize = r.byteSize();
            reply.inflightMmapOffset = 0;
            reply.inflightNumQueues = r.numQueues;
            reply.inflightQueueSize = r.queueSize;
            ch.send(out, reply.encode(out, 0), fd[0]);
        } finally {
            closeFd(fd[0]);
        }
    }

    private void replaceInflight(InflightRegion r) {
        InflightRegion old = inflight;
        inflight = r;
        for (Vring v : vrings) {
            if (!v.running) {
                v.inflight = r.queue(v.index);
            }
        }
        if (old != null && !anyRunning()) {
            old.close();
        } else if (old != null) {
            inflightRetired.add(old);
        }
    }

    private boolean anyRunning() {
        for (Vring v : vrings) {
            if (v.running) {
                return true;
            }
        }
        return false;
    }

    // ---- replies and teardown

    private void sendU64(VhostUserChannel ch, int request, long value) throws VhostUserException {
        reply.request = request;
        reply.flags = VhostUser.VERSION | VhostUser.FLAG_REPLY;
        reply.u64 = value;
        ch.send(out, reply.encode(out, 0), -1);
    }

    private static void closeFd(int fd) {
        if (fd >= 0) {
            Posix.close(fd);
        }
    }

    /**
     * Stops every running queue (the front end went away). Returns true if all stopped at once; false if the
     * device deferred some stop: {@link #close} must then wait until the device has let go of guest memory.
     */
    public boolean stopAll() {
        boolean sync = true;
        for (Vring v : vrings) {
            if (stop(v) == VhostUserDevice.DEFER) {
                sync = false;
            }
        }
        return sync;
    }

    /**
     * Ends the session: closes every fd held and unmaps guest memory and the inflight region. Queues must be
     * stopped (see {@link #stopAll}).
     */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        resetQueues();
        closeFd(backendFd);
        backendFd = -1;
        GuestMemory m = memory;
        memory = GuestMemory.EMPTY;
        m.closeAll();
        if (inflight != null) {
            inflight.close();
        }
        for (InflightRegion r : inflightRetired) {
            r.close();
        }
        inflightRetired.clear();
    }
}
