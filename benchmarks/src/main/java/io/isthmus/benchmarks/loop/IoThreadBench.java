package io.isthmus.benchmarks.loop;

import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.Posix;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost per io_uring operation through the IoThread: NOPs and 4 KiB reads of a file in the page cache, at batch 1
 * (one operation in flight: submit, wait, complete) and batch 32 (32 prepared per loop turn, one
 * io_uring_enter for all). The whole measured loop runs on the IoThread, driven by completions, as exports use
 * it; the benchmark thread only starts a run of {@link #OPS} operations and waits for its end, so the
 * cross-thread hand-off is amortized over them. benchmarks/native/uring_bench.c does the same in C over
 * liburing; benchmarks/loop-bench prints both side by side.
 *
 * <p>Besides JMH's wall time per operation, {@link LoopCpu} reports the IoThread's own CPU time per operation
 * (its thread CPU clock around each run), which the C program also reports for its thread: on a shared
 * machine, time the thread spent waiting for a core shows in wall time but not there.
 *
 * <p>The fork uses the daemon's JVM flags (bin/lib.sh: Serial GC, small heap), so the loop is measured as it
 * runs in Isthmus.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xms16m", "-Xmx512m"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class IoThreadBench {
    /** Operations per benchmark call: enough that the start/stop hand-off between threads is noise. */
    static final int OPS = 1 << 17;
    static final int FILE_PAGES = 256;

    @Param({"1", "32"})
    public int batch;

    private IoThread loop;
    private Arena arena;
    private Path dir;
    private int fd = -1;
    private Driver nops, reads;

    /** Runs {@link #OPS} operations in batches on the IoThread; allocation-free once constructed. */
    static final class Driver implements Runnable, Completion {
        final IoThread loop;
        final boolean read;
        final int batch;
        final int fd;
        final long buffers; // batch x 4 KiB, contiguous
        int batchesLeft;
        int outstanding;
        int failures;
        long offset;
        long cpuStart;
        long cpuNanos; // IoThread CPU time of the last run
        private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        volatile boolean done;
        volatile Thread waiter;

        Driver(IoThread loop, boolean read, int batch, int fd, MemorySegment buffers) {
            this.loop = loop;
            this.read = read;
            this.batch = batch;
            this.fd = fd;
            this.buffers = buffers.address();
        }

        @Override
        public void run() {
            cpuStart = threads.getCurrentThreadCpuTime();
            batchesLeft = OPS / batch;
            submitBatch();
        }

        private void submitBatch() {
            batchesLeft--;
            outstanding = batch;
            for (int i = 0; i < batch; i++) {
                if (read) {
                    loop.read(fd, buffers + 4096L * i, 4096, offset, this, i);
                    offset = (offset + 4096) % (FILE_PAGES * 4096L);
                } else {
                    loop.nop(this, i);
                }
            }
        }

        @Override
        public void complete(int res, int flags, long tag) {
            if (read ? res != 4096 : res != 0) {
                failures++;
            }
            if (--outstanding == 0) {
                if (batchesLeft > 0) {
                    submitBatch();
                } else {
                    cpuNanos = threads.getCurrentThreadCpuTime() - cpuStart;
                    done = true;
                    LockSupport.unpark(waiter);
                }
            }
        }

        void runOnce() {
            done = false;
            waiter = Thread.currentThread();
            loop.execute(this);
            while (!done) {
                LockSupport.park(this);
            }
            if (failures != 0) {
                throw new IllegalStateException(failures + " operations failed");
            }
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("isthmus-bench-");
        Path file = dir.resolve("data");
        Files.write(file, new byte[FILE_PAGES * 4096]);
        Files.readAllBytes(file); // into the page cache
        fd = Posix.open(file.toString(), Fcntl.O_RDONLY | Fcntl.O_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("open " + file + ": " + fd);
        }
        loop = IoThread.start("bench-loop", 64);
        arena = Arena.ofShared();
        MemorySegment buffers = arena.allocate(4096L * batch, 4096);
        nops = new Driver(loop, false, batch, fd, buffers);
        reads = new Driver(loop, true, batch, fd, buffers);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        loop.close();
        arena.close();
        Posix.close(fd);
        Files.deleteIfExists(dir.resolve("data"));
        Files.deleteIfExists(dir);
    }

    /** The IoThread's CPU time and operation count per iteration (loop-bench divides one by the other). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class LoopCpu {
        public long loopCpuNanos;
        public long loopOps;

        @Setup(Level.Iteration)
        public void reset() {
            loopCpuNanos = 0;
            loopOps = 0;
        }
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void nop(LoopCpu cpu) {
        nops.runOnce();
        cpu.loopCpuNanos += nops.cpuNanos;
        cpu.loopOps += OPS;
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void read4k(LoopCpu cpu) {
        reads.runOnce();
        cpu.loopCpuNanos += reads.cpuNanos;
        cpu.loopOps += OPS;
    }
}
