package io.isthmus.control;

/**
 * The program's name in messages, as QEMU's error_get_progname(): the basename of argv[0] as the caller
 * invoked it, which bin/isthmus passes as {@code -Disthmus.argv0="$0"} (installed as qemu-storage-daemon,
 * messages then read {@code qemu-storage-daemon: ...}); {@code isthmus} when started without the launcher.
 * Immutable; any thread.
 */
public final class ProgName {
    /** argv[0] whole (glibc's getopt messages use it so). */
    public static final String ARGV0 = argv0();
    /** Its basename. */
    public static final String NAME = ARGV0.substring(ARGV0.lastIndexOf('/') + 1);

    private ProgName() {
    }

    private static String argv0() {
        String a = System.getProperty("isthmus.argv0");
        return a == null || a.isEmpty() || a.endsWith("/") ? "isthmus" : a;
    }
}
