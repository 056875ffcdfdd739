package io.isthmus.engine.tls;

import io.isthmus.engine.EngineException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Locating credential files in a credentials directory the way QEMU's {@code qcrypto_tls_creds_get_path} does:
 * {@code DIR/NAME}, stat'ed; a required file that cannot be stat'ed, or an optional one that fails for any reason
 * other than not existing, is an error with QEMU's text ({@code Unable to access credentials PATH: strerror}).
 * Pure Java; any thread.
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
        try {
            Files.readAttributes(Path.of(path), BasicFileAttributes.class);
            return path;
        } catch (NoSuchFileException e) {
            if (!required) {
                return null;
            }
            throw new EngineException("Unable to access credentials " + path + ": No such file or directory");
        } catch (AccessDeniedException e) {
            throw new EngineException("Unable to access credentials " + path + ": Permission denied");
        } catch (FileSystemException e) {
            String reason = e.getReason() != null ? e.getReason() : "Input/output error";
            if (!required && reason.equals("No such file or directory")) {
                return null;
            }
            throw new EngineException("Unable to access credentials " + path + ": " + reason);
        } catch (IOException | java.nio.file.InvalidPathException e) {
            throw new EngineException("Unable to access credentials " + path + ": Invalid argument");
        }
    }
}
