package io.isthmus.control.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.isthmus.control.QmpError;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The TCP forms of {@code --chardev socket}: ipv4/ipv6 and a taken port, with QSD 7.2's texts. */
class SocketChardevTest {
    private static String refusal(Map<String, String> opts) {
        return assertThrows(QmpError.class, () -> SocketChardev.open("c", opts, s -> { })).getMessage();
    }

    @Test
    void ipv4AndIpv6AreHonoured() {
        assertEquals("address resolution failed for ::1:0: Address family for hostname not supported",
                refusal(Map.of("server", "on", "wait", "off", "host", "::1", "port", "0", "ipv4", "on")));
        assertEquals("address resolution failed for 127.0.0.1:0: Address family for hostname not supported",
                refusal(Map.of("server", "on", "wait", "off", "host", "127.0.0.1", "port", "0", "ipv6", "on")));
        assertEquals("Cannot disable IPv4 and IPv6 at same time", refusal(Map.of("server", "on", "wait", "off",
                "host", "127.0.0.1", "port", "0", "ipv4", "off", "ipv6", "off")));
    }

    @Test
    void aTakenPortIsReportedAsQemuDoes() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            assertEquals("Failed to find an available port: Address already in use", refusal(Map.of("server", "on",
                    "wait", "off", "host", "127.0.0.1", "port", String.valueOf(taken.getLocalPort()))));
        }
    }
}
