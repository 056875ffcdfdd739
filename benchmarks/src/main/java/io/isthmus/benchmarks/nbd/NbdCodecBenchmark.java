package io.isthmus.benchmarks.nbd;

import io.isthmus.engine.export.nbd.Nbd;
import io.isthmus.engine.export.nbd.NbdReplies;
import io.isthmus.engine.export.nbd.NbdRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * NBD transmission codecs on the hot path: decoding a batch of 32 request headers from a receive buffer (with
 * QEMU's checks) and encoding the matching reply headers. Run with {@code -prof gc} to confirm zero allocation
 * per request: {@code java -jar benchmarks/target/benchmarks.jar NbdCodecBenchmark -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class NbdCodecBenchmark {
    static final int BATCH = 32;
    MemorySegment recv;
    MemorySegment extRecv;
    MemorySegment out;
    final NbdRequest req = new NbdRequest();

    @Setup
    public void setUp() {
        Arena a = Arena.ofAuto();
        recv = a.allocate(Nbd.REQUEST_SIZE * BATCH, 8);
        extRecv = a.allocate(Nbd.EXTENDED_REQUEST_SIZE * BATCH, 8);
        out = a.allocate(64L * BATCH, 8);
        for (int i = 0; i < BATCH; i++) {
            long at = (long) i * Nbd.REQUEST_SIZE;
            recv.set(Nbd.BE_INT, at, Nbd.REQUEST_MAGIC);
            recv.set(Nbd.BE_SHORT, at + 4, (short) 0);
            recv.set(Nbd.BE_SHORT, at + 6, (short) Nbd.CMD_READ);
            recv.set(Nbd.BE_LONG, at + 8, i);
            recv.set(Nbd.BE_LONG, at + 16, i * 4096L);
            recv.set(Nbd.BE_INT, at + 24, 4096);
            long e = (long) i * Nbd.EXTENDED_REQUEST_SIZE;
            extRecv.set(Nbd.BE_INT, e, Nbd.EXTENDED_REQUEST_MAGIC);
            extRecv.set(Nbd.BE_SHORT, e + 6, (short) Nbd.CMD_READ);
            extRecv.set(Nbd.BE_LONG, e + 8, i);
            extRecv.set(Nbd.BE_LONG, e + 16, i * 4096L);
            extRecv.set(Nbd.BE_LONG, e + 24, 4096);
        }
    }

    @Benchmark
    public long decodeAndCheckBatch() {
        long sum = 0;
        long at = 0;
        for (int i = 0; i < BATCH; i++) {
            at += req.decode(recv, at, recv.byteSize() - at, false);
            sum += req.check(req.length, 1L << 30, Nbd.FLAG_HAS_FLAGS, true, false) + req.cookie;
        }
        return sum;
    }

    @Benchmark
    public long decodeExtendedBatch() {
        long sum = 0;
        long at = 0;
        for (int i = 0; i < BATCH; i++) {
            at += req.decode(extRecv, at, extRecv.byteSize() - at, true);
            sum += req.offset;
        }
        return sum;
    }

    @Benchmark
    public long encodeDataChunkBatch() {
        long at = 0;
        for (int i = 0; i < BATCH; i++) {
            at += NbdReplies.dataChunk(out, at, false, true, i, i * 4096L, i * 4096L, 4096);
        }
        return at;
    }

    @Benchmark
    public long encodeSimpleReplyBatch() {
        long at = 0;
        for (int i = 0; i < BATCH; i++) {
            at += NbdReplies.simple(out, at, 0, i);
        }
        return at;
    }
}
