package io.isthmus.control.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code --chardev socket,fd=N}: a monitor on a socket the daemon inherits, run against
 * qemu-storage-daemon and Isthmus alike (a small Python helper creates the socket and execs the daemon
 * with it, as libvirt does). Each case compares the whole transcript, stderr and exit status.
 */
@Timeout(120)
class InheritedSocketTest {
    private static final long STEP_MS = 10_000;

    record Outcome(List<String> transcript, String stderr, int status) {
    }

    @Test
    void boundUnixSocketIsPutIntoListeningAndServesClientsInTurn() throws Exception {
        compare("unix-bound", dir -> UnixDomainSocketAddress.of(dir.resolve("inherited.sock")));
    }

    @Test
    void listeningTcpSocket() throws Exception {
        compare("tcp-listening", dir -> new InetSocketAddress("127.0.0.1", readPort(dir)));
    }

    @Test
    void connectedSocketIsOneClient() throws Exception {
        compare("connect", null);
    }

    @Test
    void unboundSocketCannotListen() throws Exception {
        compare("unix-unbound", null);
    }

    interface Address {
        SocketAddress of(Path dir) throws Exception;
    }

    private static void compare(String mode, Address address) throws Exception {
        assumeTrue(DiffSupport.integrationEnabled(), "integration tests disabled (isthmus.it=false)");
        assumeTrue(DaemonUnderTest.qsdAvailable(), "qemu-storage-daemon is not installed");
        assumeTrue(new File("/usr/bin/python3").canExecute(), "python3 is not installed");
        Outcome qsd = run(DaemonUnderTest.Kind.QSD, mode, address);
        Outcome isthmus = run(DaemonUnderTest.Kind.ISTHMUS, mode, address);
        assertEquals(qsd, isthmus, mode);
    }

    private static Outcome run(DaemonUnderTest.Kind kind, String mode, Address address) throws Exception {
        Path dir = Files.createTempDirectory("isthmus-fd-");
        Process p = null;
        ServerSocketChannel peer = null;
        try {
            List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3",
                    DiffSupport.dataDir().resolve("with-inherited-socket.py").toString(), mode, dir.toString(), "--"));
            cmd.addAll(DaemonUnderTest.command(kind));
            boolean client = mode.equals("connect");
            cmd.addAll(List.of("--chardev", "socket,id=m,fd={fd}" + (client ? "" : ",server=on"), "--monitor", "m"));
            if (client) {
                peer = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                peer.bind(UnixDomainSocketAddress.of(dir.resolve("peer.sock")));
            }
            Path err = dir.resolve("stderr.txt");
            p = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            List<String> transcript = new ArrayList<>();
            if (client) {
                try (QmpTestClient c = new QmpTestClient(peer.accept())) {
                    transcript.add(mask(c.readMessage(STEP_MS)));
                    c.send("{\"execute\": \"qmp_capabilities\"}{\"execute\": \"quit\"}");
                    transcript.addAll(c.readToEnd(STEP_MS));
                }
            } else if (address != null) {
                for (int i = 0; i < 2; i++) {
                    try (QmpTestClient c = new QmpTestClient(QmpTestClient.connect(address.of(dir)))) {
                        transcript.add(mask(c.readMessage(STEP_MS)));
                        c.send("{\"execute\": \"qmp_capabilities\", \"id\": " + i + "}");
                        transcript.add(c.readMessage(STEP_MS));
                        if (i == 1) {
                            c.send("{\"execute\": \"quit\"}");
                            transcript.addAll(c.readToEnd(STEP_MS));
                        }
                    }
                }
            }
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                transcript.add("<<still running>>");
                return new Outcome(transcript, "", -1);
            }
            String stderr = Files.readString(err, StandardCharsets.UTF_8)
                    .replace("qemu-storage-daemon", "isthmus").replace(dir.toString(), "DIR")
                    .replaceAll("fd=\\d+", "fd=N").replaceAll("127\\.0\\.0\\.1:\\d+", "127.0.0.1:PORT");
            return new Outcome(transcript, stderr, p.exitValue());
        } finally {
            if (p != null) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            if (peer != null) {
                peer.close();
            }
            DaemonUnderTest.deleteTree(dir);
        }
    }

    private static int readPort(Path dir) throws Exception {
        Path f = dir.resolve("port");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(f) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return Integer.parseInt(Files.readString(f).strip());
    }

    private static String mask(String greeting) {
        return greeting == null ? null : greeting.replaceAll("\"package\": \"[^\"]*\"", "\"package\": \"P\"");
    }
}
