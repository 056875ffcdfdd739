package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.VhostUser.LE_INT;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_LONG;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One vhost-user message, decoded from and encoded to its wire form (little-endian): the 12-byte header
 * ({@code request u32, flags u32, size u32}) and the payload that the request type (or, for a reply, the request
 * it answers) defines. Decoding is strict: every request has exactly one payload shape and size, so a truncated,
 * padded or oversized payload is a {@link VhostUserException}, never a read past the bytes received.
 *
 * <p>The object is reused: one per session, filled by {@link #decodeHeader} and {@link #decodePayload}, or set by
 * the caller before {@link #encode}. Thread use: the session's thread only. Memory: the segments given to decode
 * and encode belong to the caller; nothing native is kept.
 */
public final class VhostUserMessage {
    public static final int HEADER_SIZE = 12;

    // ---- payload shapes
    public static final int P_NONE = 0, P_U64 = 1, P_VRING_STATE = 2, P_VRING_ADDR = 3, P_MEMORY = 4,
            P_MEM_REG = 5, P_CONFIG = 6, P_INFLIGHT = 7, P_UNSUPPORTED = -1;
    public static final int U64_SIZE = 8, VRING_STATE_SIZE = 8, VRING_ADDR_SIZE = 40, MEM_REG_SIZE = 40,
            CONFIG_HEADER_SIZE = 12, INFLIGHT_SIZE = 24, MEMORY_HEADER_SIZE = 8;
    /** The largest payload of any request this codec knows (a full GET/SET_CONFIG). */
    public static final int MAX_PAYLOAD_SIZE = CONFIG_HEADER_SIZE + VhostUser.MAX_CONFIG_SIZE;
    public static final int MAX_MESSAGE_SIZE = HEADER_SIZE + MAX_PAYLOAD_SIZE;

    // ---- header
    public int request;
    public int flags;
    /** Payload bytes (u32 on the wire; {@link #decodeHeader} refuses anything above {@link #MAX_PAYLOAD_SIZE}). */
    public int size;

    // ---- P_U64
    public long u64;
    // ---- P_VRING_STATE (index, num) and P_VRING_ADDR (index, flags, desc, used, avail, log)
    public int vringIndex;
    public int vringNum;
    public int addrFlags;
    public long descAddr, usedAddr, availAddr, logAddr;
    // ---- P_MEMORY (regionCount regions) and P_MEM_REG (regions[0])
    public final MemoryRegionDescriptor[] regions = new MemoryRegionDescriptor[VhostUser.MEMORY_BASELINE_NREGIONS];
    public int regionCount;
    // ---- P_CONFIG
    public int configOffset, configSize, configFlags;
    /** A GET_CONFIG reply with an empty payload: the back end refused the read (libvhost-user's answer). */
    public boolean configRefused;
    /** Config space bytes [0, configSize). */
    public final MemorySegment config = MemorySegment.ofArray(new byte[VhostUser.MAX_CONFIG_SIZE]);
    // ---- P_INFLIGHT
    public long inflightMmapSize, inflightMmapOffset;
    public int inflightNumQueues, inflightQueueSize;

    /** The payload shape of a request sent by the front end. */
    public static int requestPayload(int request) {
        return switch (request) {
            case VhostUser.GET_FEATURES, VhostUser.SET_OWNER, VhostUser.RESET_OWNER, VhostUser.GET_PROTOCOL_FEATURES,
                 VhostUser.GET_QUEUE_NUM, VhostUser.SET_BACKEND_REQ_FD, VhostUser.GET_MAX_MEM_SLOTS,
                 VhostUser.RESET_DEVICE -> P_NONE;
            case VhostUser.SET_FEATURES, VhostUser.SET_PROTOCOL_FEATURES, VhostUser.SET_VRING_KICK,
                 VhostUser.SET_VRING_CALL, VhostUser.SET_VRING_ERR -> P_U64;
            case VhostUser.SET_VRING_NUM, VhostUser.SET_VRING_BASE, VhostUser.GET_VRING_BASE,
                 VhostUser.SET_VRING_ENABLE -> P_VRING_STATE;
            case VhostUser.SET_VRING_ADDR -> P_VRING_ADDR;
            case VhostUser.SET_MEM_TABLE -> P_MEMORY;
            case VhostUser.ADD_MEM_REG, VhostUser.REM_MEM_REG -> P_MEM_REG;
            case VhostUser.GET_CONFIG, VhostUser.SET_CONFIG -> P_CONFIG;
            case VhostUser.GET_INFLIGHT_FD, VhostUser.SET_INFLIGHT_FD -> P_INFLIGHT;
            default -> P_UNSUPPORTED;
        };
    }

    /** The payload shape of the back end's reply to a request (a REPLY_ACK is a u64). */
    public static int replyPayload(int request) {
        return switch (request) {
            case VhostUser.GET_VRING_BASE -> P_VRING_STATE;
            case VhostUser.GET_CONFIG -> P_CONFIG;
            case VhostUser.GET_INFLIGHT_FD -> P_INFLIGHT;
            default -> P_U64; // GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, GET_MAX_MEM_SLOTS, acks
        };
    }

    /** True for the requests that are answered by a reply of their own (not by a REPLY_ACK). */
    public static boolean hasReply(int request) {
        return switch (request) {
            case VhostUser.GET_FEATURES, VhostUser.GET_PROTOCOL_FEATURES, VhostUser.GET_QUEUE_NUM,
                 VhostUser.GET_MAX_MEM_SLOTS, VhostUser.GET_VRING_BASE, VhostUser.GET_CONFIG,
                 VhostUser.GET_INFLIGHT_FD -> true;
            default -> false;
        };
    }

    public boolean isReply() {
        return (flags & VhostUser.FLAG_REPLY) != 0;
    }

    public boolean needsReply() {
        return (flags & VhostUser.FLAG_NEED_REPLY) != 0;
    }

    /**
     * Decodes the header at {@code at} ({@link #HEADER_SIZE} bytes must be there) and returns the payload size
     * that follows. Refuses a version other than 1 and a size larger than any payload.
     */
    public int decodeHeader(MemorySegment s, long at) throws VhostUserException {
        request = s.get(LE_INT, at);
        flags = s.get(LE_INT, at + 4);
        int sz = s.get(LE_INT, at + 8);
        if ((flags & VhostUser.VERSION_MASK) != VhostUser.VERSION) {
            throw new VhostUserException("vhost-user message with version " + (flags & VhostUser.VERSION_MASK)
                    + " (expected 1)");
        }
        if (sz < 0 || sz > MAX_PAYLOAD_SIZE) {
            throw new VhostUserException(VhostUser.requestName(request) + ": payload size "
                    + Integer.toUnsignedString(sz) + " exceeds " + MAX_PAYLOAD_SIZE);
        }
        size = sz;
        return sz;
    }

    /**
     * Decodes the payload of the request (or reply, if the header says so) whose header was decoded last, from
     * {@link #size} bytes at {@code at}. The segment must hold them: the transport reads exactly {@code size}.
     */
    public void decodePayload(MemorySegment s, long at) throws VhostUserException {
        if (at < 0 || s.byteSize() - at < size) {
            throw new VhostUserException(VhostUser.requestName(request) + ": truncated payload");
        }
        int shape = isReply() ? replyPayload(request) : requestPayload(request);
        switch (shape) {
            case P_NONE -> expectSize(0);
            case P_U64 -> {
                expectSize(U64_SIZE);
                u64 = s.get(LE_LONG, at);
            }
            case P_VRING_STATE -> {
                expectSize(VRING_STATE_SIZE);
                vringIndex = s.get(LE_INT, at);
                vringNum = s.get(LE_INT, at + 4);
            }
            case P_VRING_ADDR -> {
                expectSize(VRING_ADDR_SIZE);
                vringIndex = s.get(LE_INT, at);
                addrFlags = s.get(LE_INT, at + 4);
                descAddr = s.get(LE_LONG, at + 8);
                usedAddr = s.get(LE_LONG, at + 16);
                availAddr = s.get(LE_LONG, at + 24);
                logAddr = s.get(LE_LONG, at + 32);
            }
            case P_MEMORY -> {
                if (size < MEMORY_HEADER_SIZE) {
                    throw sizeError("at least " + MEMORY_HEADER_SIZE);
                }
                int n = s.get(LE_INT, at);
                if (n < 0 || n > VhostUser.MEMORY_BASELINE_NREGIONS) {
                    throw new VhostUserException("SET_MEM_TABLE: " + Integer.toUnsignedString(n)
                            + " regions (at most " + VhostUser.MEMORY_BASELINE_NREGIONS + ")");
                }
                expectSize(MEMORY_HEADER_SIZE + n * MemoryRegionDescriptor.SIZE);
                for (int i = 0; i < n; i++) {
                    regions[i] = region(s, at + MEMORY_HEADER_SIZE + (long) i * MemoryRegionDescriptor.SIZE);
                }
                regionCount = n;
            }
            case P_MEM_REG -> {
                expectSize(MEM_REG_SIZE);
                regions[0] = region(s, at + 8); // u64 padding first
                regionCount = 1;
            }
            case P_CONFIG -> {
                configRefused = size == 0 && isReply(); // a refused GET_CONFIG is answered with an empty payload
                if (configRefused) {
                    configOffset = configSize = configFlags = 0;
                    return;
                }
                if (size < CONFIG_HEADER_SIZE) {
                    throw sizeError("at least " + CONFIG_HEADER_SIZE);
                }
                configOffset = s.get(LE_INT, at);
                configSize = s.get(LE_INT, at + 4);
                configFlags = s.get(LE_INT, at + 8);
                if (configSize < 0 || configSize > VhostUser.MAX_CONFIG_SIZE) {
                    throw new VhostUserException(VhostUser.requestName(request) + ": config size "
                            + Integer.toUnsignedString(configSize) + " exceeds " + VhostUser.MAX_CONFIG_SIZE);
                }
                expectSize(CONFIG_HEADER_SIZE + configSize);
                MemorySegment.copy(s, at + CONFIG_HEADER_SIZE, config, 0, configSize);
            }
            case P_INFLIGHT -> {
                expectSize(INFLIGHT_SIZE);
                inflightMmapSize = s.get(LE_LONG, at);
                inflightMmapOffset = s.get(LE_LONG, at + 8);
                inflightNumQueues = s.get(LE_SHORT, at + 16) & 0xFFFF;
                inflightQueueSize = s.get(LE_SHORT, at + 18) & 0xFFFF;
            }
            default -> throw new VhostUserException("unsupported vhost-user " + VhostUser.requestName(request));
        }
    }

    /** Decodes a whole message (header and payload) from {@code length} bytes at offset 0 of {@code s}. */
    public void decode(MemorySegment s, long length) throws VhostUserException {
        if (length < HEADER_SIZE || s.byteSize() < length) {
            throw new VhostUserException("truncated vhost-user header (" + length + " bytes)");
        }
        int payload = decodeHeader(s, 0);
        if (length - HEADER_SIZE != payload) {
            throw new VhostUserException(VhostUser.requestName(request) + ": header says " + payload
                    + " payload bytes, " + (length - HEADER_SIZE) + " received");
        }
        decodePayload(s.asSlice(0, length), HEADER_SIZE);
    }

    /**
     * Encodes this message (header from {@link #request} and {@link #flags}, payload shape from the request and
     * the REPLY flag) at {@code at}; sets {@link #size} and returns the total bytes written. {@code out} must have
     * room for {@link #MAX_MESSAGE_SIZE} bytes.
     */
    public int encode(MemorySegment out, long at) {
        int shape = isReply() ? replyPayload(request) : requestPayload(request);
        long p = at + HEADER_SIZE;
        int sz;
        switch (shape) {
            case P_U64 -> {
                out.set(LE_LONG, p, u64);
                sz = U64_SIZE;
            }
            case P_VRING_STATE -> {
                out.set(LE_INT, p, vringIndex);
                out.set(LE_INT, p + 4, vringNum);
                sz = VRING_STATE_SIZE;
            }
            case P_VRING_ADDR -> {
                out.set(LE_INT, p, vringIndex);
                out.set(LE_INT, p + 4, addrFlags);
                out.set(LE_LONG, p + 8, descAddr);
                out.set(LE_LONG, p + 16, usedAddr);
                out.set(LE_LONG, p + 24, availAddr);
                out.set(LE_LONG, p + 32, logAddr);
                sz = VRING_ADDR_SIZE;
            }
            case P_MEMORY -> {
                out.set(LE_INT, p, regionCount);
                out.set(LE_INT, p + 4, 0);
                for (int i = 0; i < regionCount; i++) {
                    putRegion(out, p + MEMORY_HEADER_SIZE + (long) i * MemoryRegionDescriptor.SIZE, regions[i]);
                }
                sz = MEMORY_HEADER_SIZE + regionCount * MemoryRegionDescriptor.SIZE;
            }
            case P_MEM_REG -> {
                out.set(LE_LONG, p, 0);
                putRegion(out, p + 8, regions[0]);
                sz = MEM_REG_SIZE;
            }
            case P_CONFIG -> {
                if (configRefused && isReply()) {
                    sz = 0;
                    break;
                }
                out.set(LE_INT, p, configOffset);
                out.set(LE_INT, p + 4, configSize);
                out.set(LE_INT, p + 8, configFlags);
                MemorySegment.copy(config, 0, out, p + CONFIG_HEADER_SIZE, configSize);
                sz = CONFIG_HEADER_SIZE + configSize;
            }
            case P_INFLIGHT -> {
                out.set(LE_LONG, p, inflightMmapSize);
                out.set(LE_LONG, p + 8, inflightMmapOffset);
                out.set(LE_SHORT, p + 16, (short) inflightNumQueues);
                out.set(LE_SHORT, p + 18, (short) inflightQueueSize);
                out.set(LE_INT, p + 20, 0);
                sz = INFLIGHT_SIZE;
            }
            default -> sz = 0;
        }
        size = sz;
        out.set(LE_INT, at, request);
        out.set(LE_INT, at + 4, flags);
        out.set(LE_INT, at + 8, sz);
        return HEADER_SIZE + sz;
    }

    /** Encodes a payload-less message (or a refused GET_CONFIG's reply, as {@link #configRefused} does). */
    public static int encodeEmpty(MemorySegment out, long at, int request, int flags) {
        out.set(LE_INT, at, request);
        out.set(LE_INT, at + 4, flags);
        out.set(LE_INT, at + 8, 0);
        return HEADER_SIZE;
    }

    private static MemoryRegionDescriptor region(MemorySegment s, long at) {
        return new MemoryRegionDescriptor(s.get(LE_LONG, at), s.get(LE_LONG, at + 8), s.get(LE_LONG, at + 16),
                s.get(LE_LONG, at + 24));
    }

    private static void putRegion(MemorySegment out, long at, MemoryRegionDescriptor r) {
        out.set(LE_LONG, at, r.guestPhysAddr());
        out.set(LE_LONG, at + 8, r.size());
        out.set(LE_LONG, at + 16, r.userAddr());
        out.set(LE_LONG, at + 24, r.mmapOffset());
    }

    private void expectSize(int expected) throws VhostUserException {
        if (size != expected) {
            throw sizeError(Integer.toString(expected));
        }
    }

    private VhostUserException sizeError(String expected) {
        return new VhostUserException(VhostUser.requestName(request) + (isReply() ? " reply" : "")
                + ": payload size " + size + ", expected " + expected);
    }

    /** A heap copy of the config bytes, for tests and logs. */
    public byte[] configBytes() {
        return config.asSlice(0, configSize).toArray(ValueLayout.JAVA_BYTE);
    }
}
