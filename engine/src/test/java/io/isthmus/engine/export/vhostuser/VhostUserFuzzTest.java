package io.isthmus.engine.export.vhostuser;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.isthmus.bindings.Posix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Drives the vhost-user message decoder and the session state machine with arbitrary bytes and fds: nothing may
 * throw except the session-ending {@link VhostUserException}, and every fd and mapping is released when the
 * session closes. Under plain JUnit the committed seeds in VhostUserFuzzTestInputs/ are replayed; with
 * JAZZER_FUZZ=1 Jazzer fuzzes. A deterministic random walk over protocol-shaped messages runs as a plain test too.
 */
class VhostUserFuzzTest {
    static final int[] REQUESTS = {
        VhostUser.GET_FEATURES, VhostUser.SET_FEATURES, VhostUser.SET_OWNER, VhostUser.RESET_OWNER,
        VhostUser.SET_MEM_TABLE, VhostUser.SET_VRING_NUM, VhostUser.SET_VRING_ADDR, VhostUser.SET_VRING_BASE,
        VhostUser.GET_VRING_BASE, VhostUser.SET_VRING_KICK, VhostUser.SET_VRING_CALL, VhostUser.SET_VRING_ERR,
        VhostUser.GET_PROTOCOL_FEATURES, VhostUser.SET_PROTOCOL_FEATURES, VhostUser.GET_QUEUE_NUM,
        VhostUser.SET_VRING_ENABLE, VhostUser.SET_BACKEND_REQ_FD, VhostUser.GET_CONFIG, VhostUser.SET_CONFIG,
        VhostUser.GET_INFLIGHT_FD, VhostUser.SET_INFLIGHT_FD, VhostUser.GET_MAX_MEM_SLOTS, VhostUser.ADD_MEM_REG,
        VhostUser.REM_MEM_REG, VhostUser.RESET_DEVICE, VhostUser.NONE, VhostUser.SET_LOG_BASE, 99,
    };

    @FuzzTest(maxDuration = "30s")
    void decoderNeverThrows(FuzzedDataProvider data) {
        decode(data.consumeRemainingAsBytes());
    }

    @FuzzTest(maxDuration = "30s")
    void sessionNeverThrows(FuzzedDataProvider data) {
        runSession(new ByteInput(data.consumeRemainingAsBytes()));
    }

    static void decode(byte[] input) {
        MemorySegment s = MemorySegment.ofArray(input);
        VhostUserMessage m = new VhostUserMessage();
        try {
            m.decode(s, input.length);
        } catch (VhostUserException expected) {
            return;
        }
        // a message that decodes encodes back to the same size
        MemorySegment out = MemorySegment.ofArray(new byte[VhostUserMessage.MAX_MESSAGE_SIZE]);
        if (m.encode(out, 0) != input.length && m.request != VhostUser.SET_MEM_TABLE) {
            throw new AssertionError("re-encoded size differs for " + VhostUser.requestName(m.request));
        }
    }

    /** One session: messages built from the input, each with 0..2 fds (memfds or eventfds), until one is refused. */
    static java.util.List<String> runSession(ByteInput data) {
        FakeVhostUser.Device dev = new FakeVhostUser.Device();
        FakeVhostUser.Channel ch = new FakeVhostUser.Channel();
        VhostUserHandler h = new VhostUserHandler(dev, Arena.ofAuto());
        MemorySegment buf = Arena.ofAuto().allocate(12 + 300);
        try {
            for (int i = 0; i < 64 && data.remaining() > 0; i++) {
                int request = data.bool() ? REQUESTS[data.range(0, REQUESTS.length - 1)]
                        : data.i32();
                int flags = data.bool() ? VhostUser.VERSION | (data.bool()
                        ? VhostUser.FLAG_NEED_REPLY : 0) : data.i32();
                int size = data.bool() ? usualSize(request, data) : data.range(0, 300);
                byte[] payload = data.bytes(size);
                buf.set(VhostUser.LE_INT, 0, request);
                buf.set(VhostUser.LE_INT, 4, flags);
                buf.set(VhostUser.LE_INT, 8, size);
                MemorySegment.copy(payload, 0, buf, ValueLayout.JAVA_BYTE, 12, payload.length);
                int nfds = data.range(0, 2);
                int[] fds = new int[nfds];
                for (int k = 0; k < nfds; k++) {
                    fds[k] = data.bool() ? TestGuest.memfd(data.range(1, 1 << 20))
                            : Posix.eventfd(0, 0);
                }
                ch.fds(fds);
                try {
                    int r = h.handle(buf, 12L + payload.length, ch);
                    if (r == VhostUserHandler.DEFERRED) {
                        h.queueStopped(h.vring(0).index, 0, ch);
                    }
                } catch (VhostUserException endOfSession) {
                    dev.events.add("end: " + endOfSession.getMessage());
                    return dev.events;
                } finally {
                    ch.closeUntaken();
                }
            }
            return dev.events;
        } finally {
            h.stopAll();
            h.close();
            if (ch.received >= 0) {
                Posix.close(ch.received);
            }
        }
    }

    private static int usualSize(int request, ByteInput data) {
        return switch (VhostUserMessage.requestPayload(request)) {
            case VhostUserMessage.P_U64, VhostUserMessage.P_VRING_STATE -> 8;
            case VhostUserMessage.P_VRING_ADDR, VhostUserMessage.P_MEM_REG -> 40;
            case VhostUserMessage.P_MEMORY -> 8 + 32 * data.range(0, 2);
            case VhostUserMessage.P_CONFIG -> 12 + data.range(0, 96);
            case VhostUserMessage.P_INFLIGHT -> 24;
            default -> 0;
        };
    }

    @Test
    void theSessionSeedReachesARunningQueueAndStopsIt() throws Exception {
        byte[] seed;
        try (var in = getClass().getResourceAsStream("VhostUserFuzzTestInputs/sessionNeverThrows/qemu_like_session")) {
            seed = in.readAllBytes();
        }
        java.util.List<String> events = runSession(new ByteInput(seed));
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of("memory 1", "start 0 kick true call true",
                "memory 2", "memory 1", "stop 0"), events);
    }

    @Test
    void randomProtocolShapedInputs() {
        Random rnd = new Random(11);
        for (int i = 0; i < 500; i++) {
            byte[] b = new byte[rnd.nextInt(300)];
            rnd.nextBytes(b);
            if (b.length >= 12) {
                MemorySegment s = MemorySegment.ofArray(b);
                s.set(VhostUser.LE_INT, 0, REQUESTS[rnd.nextInt(REQUESTS.length)]);
                s.set(VhostUser.LE_INT, 4, VhostUser.VERSION);
                if (rnd.nextBoolean()) {
                    s.set(VhostUser.LE_INT, 8, b.length - 12);
                }
            }
            decode(b);
            byte[] session = new byte[200 + rnd.nextInt(800)];
            rnd.nextBytes(session);
            runSession(new ByteInput(session));
        }
    }
}
