package io.isthmus.engine.export.fuse;

import static io.isthmus.engine.export.fuse.FuseProtocol.*;
import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Drives the /dev/fuse request decoder (and what reads a decoded request without the kernel: the INIT
 * negotiation and the SETATTR rules) with arbitrary bytes: nothing may throw, and whatever the decoder accepts must
 * lie inside the bytes read and inside the negotiated limits. Under plain JUnit the committed seeds in
 * FuseDecoderFuzzTestInputs/ are replayed; with JAZZER_FUZZ=1 Jazzer fuzzes. A deterministic random walk over
 * protocol-shaped input runs as a plain test too.
 */
class FuseDecoderFuzzTest {
    private static final int MAX_IO = 1 << 20;
    private static final FuseFile FILE = new FuseFile(new FuseTestNode(1 << 20, 1 << 20).access(),
            FuseNodeControl.FIXED, new FuseExportConfig(true, false, false, MAX_IO, 1, 0, 0));

    @FuzzTest(maxDuration = "30s")
    void decoderNeverThrows(FuzzedDataProvider data) {
        int maxIo = data.consumeInt(0, 1 << 24);
        boolean fixLength = data.consumeBoolean();
        runOne(data.consumeRemainingAsBytes(), maxIo, fixLength);
    }

    static void runOne(byte[] input, int maxIo, boolean fixLength) {
        MemorySegment s = Arena.ofAuto().allocate(Math.max(1, input.length + 64));
        MemorySegment.copy(input, 0, s, ValueLayout.JAVA_BYTE, 0, input.length);
        if (fixLength && input.length >= 4) {
            s.set(U32, 0, input.length); // get past the framing check more often
        }
        FuseRequest r = new FuseRequest();
        int rc = r.decode(s, 0, input.length, maxIo);
        if (rc == FuseRequest.HALT) {
            return;
        }
        assertTrue(input.length >= IN_HEADER_SIZE);
        assertEquals(input.length, Integer.toUnsignedLong(r.len));
        if (rc < 0) {
            assertEquals(-22, rc);
            return;
        }
        assertEquals(0, rc);
        switch (r.opcode) {
            case WRITE -> {
                assertTrue(r.size >= 0 && r.size <= maxIo);
                assertTrue(r.dataOffset + r.size <= input.length);
                assertTrue(r.offset >= 0);
            }
            case READ -> assertTrue(r.size >= 0 && r.size <= maxIo && r.offset >= 0);
            case FALLOCATE -> assertTrue(r.offset >= 0 && r.length > 0 && r.offset + r.length > 0);
            case INIT -> {
                MemorySegment out = Arena.ofAuto().allocate(256);
                int n = FuseInit.reply(r, out, 16, MAX_IO);
                assertTrue(n == INIT_OUT_SIZE || n == -71);
            }
            case SETATTR -> {
                int c = FILE.checkSetattr(r);
                assertTrue(c == 0 || c == -1 || c == -13 || c == -22 || c == -30 || c == -95, "errno " + c);
            }
            default -> { }
        }
    }

    @Test
    void randomProtocolShapedInputs() {
        Random rnd = new Random(11);
        int[] ops = {INIT, LOOKUP, FORGET, GETATTR, SETATTR, OPEN, READ, WRITE, STATFS, RELEASE, FSYNC, FLUSH,
                INTERRUPT, DESTROY, BATCH_FORGET, FALLOCATE, LSEEK, READDIR, 0, 9999};
        for (int i = 0; i < 4000; i++) {
            int op = ops[rnd.nextInt(ops.length)];
            byte[] body = new byte[rnd.nextInt(8) == 0 ? rnd.nextInt(5000) : rnd.nextInt(100)];
            rnd.nextBytes(body);
            if (op == WRITE && body.length >= 40 && rnd.nextBoolean()) {
                java.nio.ByteBuffer.wrap(body).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(16, body.length - 40);
            }
            if (op == BATCH_FORGET && body.length >= 8 && rnd.nextBoolean()) {
                java.nio.ByteBuffer.wrap(body).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0, (body.length - 8) / 16);
            }
            byte[] req = FuseWire.req(op, rnd.nextLong(), body);
            if (rnd.nextInt(4) == 0) {
                java.nio.ByteBuffer.wrap(req).order(java.nio.ByteOrder.LITTLE_ENDIAN).putShort(36,
                        (short) rnd.nextInt(4)); // extension length
            }
            if (rnd.nextInt(10) == 0) {
                req = java.util.Arrays.copyOf(req, rnd.nextInt(req.length + 1)); // a short read
            }
            runOne(req, rnd.nextInt(3) == 0 ? rnd.nextInt(1 << 21) : MAX_IO, false);
        }
    }
}
