package io.isthmus.engine.export.nbd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Drives the handshake state machine and the request decoder/checks with arbitrary bytes: nothing may throw,
 * and the handshake must never buffer more than it is allowed to. Under plain JUnit the committed seeds in
 * NbdDecoderFuzzTestInputs/ are replayed; with JAZZER_FUZZ=1 Jazzer fuzzes. A deterministic random walk over
 * protocol-shaped input runs as a plain test too.
 */
class NbdDecoderFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void handshakeNeverThrows(FuzzedDataProvider data) {
        runHandshake(data.consumeBoolean(), data.consumeRemainingAsBytes(), 1 + (data.remainingBytes() % 7));
    }

    @FuzzTest(maxDuration = "30s")
    void requestsNeverThrow(FuzzedDataProvider data) {
        boolean ext = data.consumeBoolean();
        boolean structured = data.consumeBoolean();
        long size = data.consumeLong(0, 1L << 40);
        runRequests(data.consumeRemainingAsBytes(), ext, structured, size);
    }

    static void runHandshake(boolean tls, byte[] input, int step) {
        NbdHandshake h = new NbdHandshake(NbdHandshakeTest.TABLE, tls);
        for (int i = 0; i < input.length; ) {
            int n = Math.min(step, input.length - i);
            int taken = h.feed(input, i, n);
            assertTrue(taken > 0 || n == 0, "feed took nothing while the handshake wants input");
            i += taken;
            assertTrue(h.buffered() <= NbdHandshake.MAX_INPUT, "buffered " + h.buffered());
            assertTrue(h.bufferCapacity() <= NbdHandshake.MAX_INPUT, "capacity " + h.bufferCapacity());
            NbdHandshake.Action a = h.process();
            assertTrue(h.buffered() <= NbdHandshake.MAX_INPUT, "buffered " + h.buffered());
            h.takeOutput();
            if (a == NbdHandshake.Action.CLOSE || a == NbdHandshake.Action.TRANSMISSION) {
                return;
            }
            if (a == NbdHandshake.Action.START_TLS) {
                h.takeUnconsumed();
                h.tlsStarted();
            }
        }
    }

    static void runRequests(byte[] input, boolean ext, boolean structured, long size) {
        MemorySegment s = Arena.ofAuto().allocate(Math.max(1, input.length));
        MemorySegment.copy(input, 0, s, ValueLayout.JAVA_BYTE, 0, input.length);
        NbdRequest r = new NbdRequest();
        long at = 0;
        while (at < input.length) {
            int n = r.decode(s, at, input.length - at, ext);
            if (n <= 0) {
                return;
            }
            at += n;
            long payload = r.payloadLength(ext);
            if (payload < 0 || payload > Nbd.MAX_BUFFER_SIZE) {
                return; // the connection would reply and disconnect
            }
            r.check(r.length, size, NbdRequestTest.RW, structured, ext);
            at += Math.min(payload, input.length - at);
        }
    }

    @Test
    void randomProtocolShapedInputs() {
        Random rnd = new Random(7);
        int[] opts = {0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 99};
        for (int i = 0; i < 800; i++) {
            java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
            o.writeBytes(new byte[] {0, 0, 0, (byte) rnd.nextInt(4)});
            int k = rnd.nextInt(6);
            for (int j = 0; j < k; j++) {
                byte[] payload = new byte[rnd.nextInt(40)];
                rnd.nextBytes(payload);
                if (rnd.nextBoolean() && payload.length >= 4) {
                    payload[0] = payload[1] = payload[2] = 0; // a plausible small length
                }
                int len = rnd.nextInt(10) == 0 ? rnd.nextInt() : payload.length;
                o.writeBytes(java.nio.ByteBuffer.allocate(16).putLong(rnd.nextInt(20) == 0 ? 1 : Nbd.OPTS_MAGIC)
                        .putInt(opts[rnd.nextInt(opts.length)]).putInt(len).array());
                o.writeBytes(payload);
            }
            runHandshake(rnd.nextBoolean(), o.toByteArray(), 1 + rnd.nextInt(9));
            byte[] req = new byte[rnd.nextInt(200)];
            rnd.nextBytes(req);
            if (req.length >= 4) {
                java.nio.ByteBuffer.wrap(req).putInt(rnd.nextBoolean() ? Nbd.REQUEST_MAGIC : Nbd.EXTENDED_REQUEST_MAGIC);
            }
            runRequests(req, rnd.nextBoolean(), rnd.nextBoolean(), rnd.nextLong() & 0xFFFFFFFFFFL);
        }
    }
}
