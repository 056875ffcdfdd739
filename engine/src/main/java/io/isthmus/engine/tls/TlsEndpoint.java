package io.isthmus.engine.tls;

/** Which side of a TLS session credentials are for: QAPI's {@code QCryptoTLSCredsEndpoint}. */
public enum TlsEndpoint {
    CLIENT("client"),
    SERVER("server");

    private final String qapiName;

    TlsEndpoint(String qapiName) {
        this.qapiName = qapiName;
    }

    /** The QAPI enum value ("client", "server"). */
    public String qapiName() {
        return qapiName;
    }

    /** The endpoint for a QAPI value, or null if it is not one. */
    public static TlsEndpoint ofQapi(String name) {
        for (TlsEndpoint e : values()) {
            if (e.qapiName.equals(name)) {
                return e;
            }
        }
        return null;
    }
}
