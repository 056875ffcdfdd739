package io.isthmus.engine.tls;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.Posix;
import io.isthmus.engine.EngineException;

/**
 * Locating credential files in a credentials directory the way QEMU's {@code qcrypto_tls_creds_get_path} does:
 * {@code DIR/NAME}, stat'ed; a required file that cannot be stat'ed, or an optional one that fails for any reason
 * other than not existing, is an error with QEMU's text ({@code Unable to access credentials PATH: strerror}).
 * Any thread; the check is an {@code open(O_PATH)} through the bindings (returns >= 0 or -errno).
 */
final class CredentialFiles {
    private CredentialFiles() {}

    static final String CA_CERT = "ca-cert.pem", CA_CRL = "ca-crl.pem", SERVER_CERT = "server-cert.pem",
            SERVER_KEY = "server-key.pem", CLIENT_CERT = "client-cert.pem", CLIENT_KEY = "client-key.pem",
            DH_PARAMS = "dh-params.pem", PSK_FILE = "keys.psk";

    /**
     * The path of {@code name} in {@code dir}; null if {@code dir} is null and the file is optional, or if the
     * optional file does not exist.
     */
    static String path(String dir, String name, boolean required) {
        if (dir == null) {
            if (required) {
                throw new EngineException("Missing 'dir' property value");
            }
            return null;
        }
        String path = dir + "/" + name;
        // open(O_PATH) resolves the path like stat(2) and fails with the same errno (ENOENT, ENOTDIR, EACCES,
        // ELOOP...), without needing read permission on the file itself.
        int fd = Posix.open(path, Fcntl.O_PATH | Fcntl.O_CLOEXEC, 0);
        if (fd >= 0) {
            Posix.close(fd);
            return path;
        }
        if (fd == -Errno.ENOENT && !required) {
            return null;
        }
        throw new EngineException("Unable to access credentials " + path + ": " + Errno.message(fd));
    }
}
