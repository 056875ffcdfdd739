package io.isthmus.engine.tls;

import io.isthmus.bindings.Gnutls;
import io.isthmus.engine.EngineException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code tls-creds-psk}: pre-shared keys from {@code DIR/keys.psk}, lines {@code username:hexkey} (the format
 * {@code psktool} writes). A server hands the file to GnuTLS, which looks the client's username up at each
 * handshake (so edits to the file apply to new connections, as in QEMU); a client picks its {@code username}
 * (default "qemu") from the file at load time.
 *
 * <p>Threading and memory as {@link TlsCredentials}.
 */
public final class PskCredentials extends TlsCredentials {
    static final String PSK_PRIORITY_SUFFIX = ":+ECDHE-PSK:+DHE-PSK:+PSK";

    private final String username;
    private MemorySegment cred;

    private PskCredentials(TlsEndpoint endpoint, String dir, boolean verifyPeer, String priority, String username) {
        super(endpoint, dir, verifyPeer, priority);
        this.username = username;
    }

    /**
     * Loads PSK credentials as QEMU's {@code tls-creds-psk} does.
     *
     * @param username the {@code username} property (client only; must be null for a server), or null
     * @throws EngineException with QEMU's text
     */
    public static PskCredentials load(TlsEndpoint endpoint, String dir, boolean verifyPeer, String priority,
                                      String username) {
        if (endpoint == TlsEndpoint.SERVER) {
            if (username != null) {
                throw new EngineException("username should not be set when endpoint=server");
            }
            String dhFile = CredentialFiles.path(dir, CredentialFiles.DH_PARAMS, false);
            String pskFile = CredentialFiles.path(dir, CredentialFiles.PSK_FILE, true);
            PskCredentials c = new PskCredentials(endpoint, dir, verifyPeer, priority, null);
            c.cred = Gt.allocate(Gnutls.gnutls_psk_allocate_server_credentials(), "Cannot allocate credentials");
            try (Arena a = Arena.ofConfined()) {
                c.dhParams = loadDhParams(dhFile);
                int r = (int) Gnutls.gnutls_psk_set_server_credentials_file().invokeExact(c.cred,
                        a.allocateFrom(pskFile));
                if (r < 0) {
                    throw new EngineException("Cannot set PSK server credentials: " + Gt.strerror(r));
                }
                if (c.dhParams.equals(MemorySegment.NULL)) {
                    r = (int) Gnutls.gnutls_psk_set_server_known_dh_params().invokeExact(c.cred,
                            Gnutls.GNUTLS_SEC_PARAM_MEDIUM);
                    if (r < 0) {
                        throw new EngineException("Unable to initialize DH parameters: " + Gt.strerror(r));
                    }
                } else {
                    Gnutls.gnutls_psk_set_server_dh_params().invokeExact(c.cred, c.dhParams);
                }
                return c;
            } catch (Throwable t) {
                c.release();
                if (t instanceof EngineException e) {
                    throw e;
                }
                throw Gt.rethrow(t);
            }
        }
        String pskFile = CredentialFiles.path(dir, CredentialFiles.PSK_FILE, true);
        String user = username != null ? username : "qemu";
        String hexKey = lookupKey(pskFile, user);
        PskCredentials c = new PskCredentials(endpoint, dir, verifyPeer, priority, user);
        c.cred = Gt.allocate(Gnutls.gnutls_psk_allocate_client_credentials(), "Cannot allocate credentials");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment key = datum(a, hexKey.getBytes(StandardCharsets.UTF_8));
            int r = (int) Gnutls.gnutls_psk_set_client_credentials().invokeExact(c.cred, a.allocateFrom(user), key,
                    Gnutls.GNUTLS_PSK_KEY_HEX);
            if (r < 0) {
                throw new EngineException("Cannot set PSK client credentials: " + Gt.strerror(r));
            }
            return c;
        } catch (Throwable t) {
            c.release();
            if (t instanceof EngineException e) {
                throw e;
            }
            throw Gt.rethrow(t);
        }
    }

    /** The hex key of {@code username} in a keys.psk file (QEMU's lookup: the first line "username:..."). */
    static String lookupKey(String pskFile, String username) {
        String content;
        try {
            content = Files.readString(Path.of(pskFile), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new EngineException("Cannot read PSK file " + pskFile + ": Failed to open file \u201c" + pskFile
                    + "\u201d: " + ioReason(e));
        }
        String prefix = username + ":";
        for (String line : content.split("\n", -1)) {
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length());
            }
        }
        throw new EngineException("Username " + username + " not found in PSK file " + pskFile);
    }

    /** The client's username (client endpoint), or null for a server. */
    public String username() {
        return username;
    }

    @Override
    public String qomType() {
        return "tls-creds-psk";
    }

    @Override
    public String sessionPriority() {
        return (priority() != null ? priority() : DEFAULT_PRIORITY) + PSK_PRIORITY_SUFFIX;
    }

    @Override
    int credentialsType() {
        return Gnutls.GNUTLS_CRD_PSK;
    }

    @Override
    MemorySegment handle() {
        return cred;
    }

    @Override
    void free() {
        if (endpoint() == TlsEndpoint.SERVER) {
            Gt.free(Gnutls.gnutls_psk_free_server_credentials(), cred);
        } else {
            Gt.free(Gnutls.gnutls_psk_free_client_credentials(), cred);
        }
        cred = MemorySegment.NULL;
    }
}
