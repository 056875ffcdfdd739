package io.isthmus.control.commands.qom;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Reads a whole file the way QEMU does with g_file_get_contents(), and words failures as GLib does
 * ({@code Failed to open file “NAME”: No such file or directory}), since QEMU puts that text into its
 * own error messages.
 */
public final class GlibFiles {
    private GlibFiles() {
    }

    /** Thrown with GLib's message. */
    public static final class ReadError extends Exception {
        public ReadError(String message) {
            super(message, null, false, false);
        }
    }

    public static byte[] read(String filename) throws ReadError {
        Path p = Path.of(filename);
        try {
            if (Files.isDirectory(p)) {
                throw new ReadError("Failed to read from file “" + filename + "”: Is a directory");
            }
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new ReadError("Failed to open file “" + filename + "”: " + strerror(e));
        }
    }

    /** The C library's text for the errno behind a Java I/O exception. */
    public static String strerror(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof NotDirectoryException) {
            return "Not a directory";
        }
        String m = e.getMessage();
        if (m != null) {
            int i = m.lastIndexOf(": ");
            if (i >= 0 && i + 2 < m.length()) {
                return m.substring(i + 2);
            }
        }
        return m == null ? "Input/output error" : m;
    }
}
