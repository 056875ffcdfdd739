package io.isthmus.benchmarks.block;

import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.Posix;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockNode;
import io.isthmus.engine.block.BlockOptions;
import io.isthmus.engine.block.BlockRequest;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
 * Per-request overhead of the block layer on top of the IoThread: 4 KiB reads of a page-cached file, issued
 * back to back on the IoThread (each completion submits the next, {@code depth} requests in flight), once
 * straight through {@link IoThread#read} and once through a {@code file} node ({@code raw} over {@code file} in
 * the third variant, {@code qcow2} over {@code file} in the fourth). The difference of the per-operation times is
 * what the block layer adds. Each invocation runs {@link #OPS} reads inside the IoThread, so the hand-off from the
 * JMH thread is amortised.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar BlockReadOverhead}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class BlockReadOverheadBench {
    static final int OPS = 20_000;
    static final long FILE_SIZE = 64L << 20;
    static final int BLOCK = 4096;

    @Param({"1", "32"})
    int depth;

    private Path file;
    private IoThread io;
    private Arena arena;
    private int fd;
    private BlockGraph graph;
    private BlockNode fileNode;
    private BlockNode rawNode;
    private Runner direct;
    private BlockNode nullNode;
    private BlockRequest nullReq;
    private MemorySegment nullBuf;
    private int nullDone;
    private Runner viaFile;
    private Runner viaRaw;
    private Path qcow2File;
    private Runner viaQcow2;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        file = Files.createTempFile("isthmus-bench", ".img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] chunk = new byte[1 << 20];
            java.util.Arrays.fill(chunk, (byte) 0x5a);
            for (long o = 0; o < FILE_SIZE; o += chunk.length) {
                f.write(chunk); // real data, in the page cache after this
            }
        }
        io = IoThread.start("bench-io");
        arena = Arena.ofShared();
        fd = Posix.open(file.toString(), Fcntl.O_RDONLY | Fcntl.O_CLOEXEC, 0);
        graph = new BlockGraph();
        BlockOptions fo = BlockOptions.of("file", "f");
        fo.filename = file.toString();
        fileNode = graph.add(fo);
        BlockOptions ro = BlockOptions.of("raw", "r");
        ro.fileRef = "f";
        rawNode = graph.add(ro);
        nullNode = graph.add(BlockOptions.of("null-co", "n"));
        nullReq = new BlockRequest(arena, 1);
        nullReq.callback = (r, res) -> nullDone++;
        nullBuf = arena.allocate(BLOCK, 4096);
        direct = new Runner(null);
        viaFile = new Runner(fileNode);
        viaRaw = new Runner(rawNode);
        // the same data as a fully allocated qcow2 image (64 KiB clusters), made by qemu-img
        qcow2File = Files.createTempFile("isthmus-bench", ".qcow2");
        Process p = new ProcessBuilder("qemu-img", "convert", "-f", "raw", "-O", "qcow2", file.toString(),
                qcow2File.toString()).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("qemu-img convert failed");
        }
        BlockOptions qf = BlockOptions.of("file", null);
        qf.filename = qcow2File.toString();
        BlockOptions qo = BlockOptions.of("qcow2", "q");
        qo.fileInline = qf;
        qo.readOnly = true;
        viaQcow2 = new Runner(graph.add(qo));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        io.close();
        graph.closeAll();
        Posix.close(fd);
        arena.close();
        Files.deleteIfExists(file);
        Files.deleteIfExists(qcow2File);
    }

    /** Runs OPS reads with {@code depth} in flight, on the IoThread, either raw ring reads or block requests. */
    private final class Runner {
        final BlockNode node;
        final MemorySegment[] bufs;
        final BlockRequest[] reqs;
        final Completion ringDone;
        int issued;
        int completed;
        long cursor;
        CompletableFuture<Void> done;

        Runner(BlockNode node) {
            this.node = node;
            bufs = new MemorySegment[32];
            reqs = new BlockRequest[32];
            for (int i = 0; i < 32; i++) {
                bufs[i] = arena.allocate(BLOCK, 4096);
                reqs[i] = new BlockRequest(arena, 1);
                reqs[i].tag = i;
                reqs[i].callback = (r, res) -> onDone((int) r.tag, res);
            }
            ringDone = (res, flags, tag) -> onDone((int) tag, res);
        }

        private long nextOffset() {
            long o = cursor;
            cursor += 7 * BLOCK; // strided, wraps inside the cached file
            if (cursor >= FILE_SIZE) {
                cursor -= FILE_SIZE;
            }
            return o;
        }

        private void issue(int slot) {
            issued++;
            long off = nextOffset();
            if (node == null) {
                io.read(fd, bufs[slot], off, ringDone, slot);
            } else {
                node.submit(reqs[slot].rw(BlockRequest.READ, off, bufs[slot], 0));
            }
        }

        private void onDone(int slot, int res) {
            if (res < 0) {
                done.completeExceptionally(new IllegalStateException("read failed: " + res));
                return;
            }
            completed++;
            if (issued < OPS) {
                issue(slot);
            } else if (completed == OPS) {
                done.complete(null);
            }
        }

        void run() throws Exception {
            done = new CompletableFuture<>();
            io.execute(() -> {
                issued = 0;
                completed = 0;
                for (int i = 0; i < depth; i++) {
                    issue(i);
                }
            });
            done.get(60, TimeUnit.SECONDS);
        }
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void ioThreadRead() throws Exception {
        direct.run();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void fileNodeRead() throws Exception {
        viaFile.run();
    }

    /**
     * The block layer alone: null-co completes inside submit, so this is the full path (checks, frame, in-flight
     * count, callback) with no I/O at all, run in a loop on the IoThread.
     */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public void nullCoSubmit() throws Exception {
        io.submit(() -> {
            int before = nullDone;
            for (int i = 0; i < OPS; i++) {
                nullNode.submit(nullReq.rw(BlockRequest.READ, (i & 1023) * (long) BLOCK, nullBuf, 0));
            }
            if (nullDone - before != OPS) {
                throw new IllegalStateException("lost completions");
            }
            return null;
        }).get(60, TimeUnit.SECONDS);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void rawOverFileRead() throws Exception {
        viaRaw.run();
    }

    /** {@code qcow2} over {@code file}: the cluster mapping (L2 cache lookup under the node's lock) on top. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public void qcow2OverFileRead() throws Exception {
        viaQcow2.run();
    }
}
