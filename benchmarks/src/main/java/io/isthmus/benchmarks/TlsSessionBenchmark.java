package io.isthmus.benchmarks;

import io.isthmus.engine.tls.PskCredentials;
import io.isthmus.engine.tls.TlsEndpoint;
import io.isthmus.engine.tls.TlsSession;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The TLS record path of {@link TlsSession} (GnuTLS through FFM) without sockets: a server session encrypts
 * {@code size} bytes, the ciphertext is moved into a client session, which decrypts it. Reports the time per
 * payload (so MB/s = size / time); the handshake benchmark measures a PSK (ECDHE-PSK) handshake. Run:
 * {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar TlsSessionBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class TlsSessionBenchmark {
    @Param({"4096", "1048576"})
    int size;

    Path dir;
    PskCredentials serverCreds, clientCreds;
    TlsSession server, client;
    Arena arena;
    MemorySegment plain, sink;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("isthmus-tls-bench-");
        Files.writeString(dir.resolve("keys.psk"), "bench:00112233445566778899aabbccddeeff\n");
        serverCreds = PskCredentials.load(TlsEndpoint.SERVER, dir.toString(), true, null, null);
        clientCreds = PskCredentials.load(TlsEndpoint.CLIENT, dir.toString(), true, null, "bench");
        arena = Arena.ofConfined();
        plain = arena.allocate(size);
        sink = arena.allocate(TlsSession.MAX_FRAGMENT);
        server = TlsSession.server(serverCreds, null);
        client = TlsSession.client(clientCreds, null);
        handshake(server, client);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        server.close();
        client.close();
        serverCreds.release();
        clientCreds.release();
        arena.close();
        Files.deleteIfExists(dir.resolve("keys.psk"));
        Files.deleteIfExists(dir);
    }

    static void handshake(TlsSession a, TlsSession b) {
        for (int i = 0; i < 100 && (a.state() == TlsSession.State.HANDSHAKING
                || b.state() == TlsSession.State.HANDSHAKING); i++) {
            a.handshake();
            move(a, b);
            b.handshake();
            move(b, a);
        }
        if (a.state() != TlsSession.State.ESTABLISHED || b.state() != TlsSession.State.ESTABLISHED) {
            throw new IllegalStateException("handshake: " + a.failure() + " / " + b.failure());
        }
    }

    static void move(TlsSession from, TlsSession to) {
        MemorySegment out = from.pendingOutput();
        if (out.byteSize() > 0) {
            from.outputSent(to.feed(out));
        }
    }

    /** Encrypt {@code size} bytes on the server, decrypt them on the client. */
    @Benchmark
    public long recordRoundTrip() {
        long written = 0, read = 0;
        while (read < size) {
            if (written < size) {
                written += server.write(plain.asSlice(written, size - written));
            }
            move(server, client);
            long r;
            while ((r = client.read(sink)) > 0) {
                read += r;
            }
        }
        return read;
    }

    /** A full ECDHE-PSK handshake between two new sessions. */
    @Benchmark
    public TlsSession.State pskHandshake() {
        try (TlsSession s = TlsSession.server(serverCreds, null); TlsSession c = TlsSession.client(clientCreds, null)) {
            handshake(s, c);
            return s.state();
        }
    }
}
