package io.isthmus.engine.export.fuse;

import java.io.IOException;
import java.util.List;

/**
 * A small shell process that unmounts a FUSE mount the daemon left dead: it waits for EOF on its stdin (a pipe from
 * the daemon, closed by the kernel whatever way the daemon ends, SIGKILL included), then, while the path is still a
 * fuse mount, opens it: ENOTCONN means nobody serves it any more, and it unmounts it (fusermount3 -u -z); an
 * answered open means a live mount (a later export on the path) and it leaves; ECONNABORTED means the connection is
 * being torn down and it looks again (100 ms apart, 10 s at most).
 *
 * <p>Why not libfuse's auto_unmount: its fusermount3 watcher looks exactly once, as soon as the daemon's socket
 * closes. A daemon that reads /dev/fuse through io_uring still holds the device file in its ring's pending reads
 * then, and the kernel releases them (aborting the connection) only in the ring's deferred teardown, so the watcher
 * sees a connection not yet aborted, its open fails with ECONNABORTED, and it leaves a dead mount behind (seen on
 * 6.18 with libfuse 3.14).
 *
 * <p>Thread use: the control thread. The process is the mount's; {@link #release} after a clean unmount lets it
 * exit (it finds no mount).
 */
final class FuseUnmountWatcher {
    private static final System.Logger LOG = System.getLogger(FuseUnmountWatcher.class.getName());

    static final String SCRIPT = """
            cat >/dev/null 2>&1
            LC_ALL=C; export LC_ALL
            i=0
            while [ "$i" -lt 100 ]; do
              awk -v m="$2" '$5 == m { for (k = 7; k <= NF; k++) if ($k == "-") { f = ($(k + 1) ~ /^fuse/); break } }
                END { exit !f }' /proc/self/mountinfo || exit 0
              e=$( (: < "$1") 2>&1 )
              case "$e" in
                *"not connected"*) fusermount3 -u -z -q -- "$1" 2>/dev/null || umount -l -- "$1"; exit 0 ;;
                *"connection abort"*) ;;
                *) exit 0 ;;
              esac
              sleep 0.1
              i=$((i + 1))
            done
            """;

    private final Process process;

    private FuseUnmountWatcher(Process process) {
        this.process = process;
    }

    /** Starts the watcher for {@code path} (absolute, as /proc/self/mountinfo shows it), or returns null. */
    static FuseUnmountWatcher start(String path) {
        try {
            Process p = new ProcessBuilder(List.of("/bin/sh", "-c", SCRIPT, "isthmus-fuse-watch", path,
                    escape(path)))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            return new FuseUnmountWatcher(p);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot start the unmount watcher for " + path + ": " + e);
            return null;
        }
    }

    /** mountinfo's escaping of a path (space, tab, newline, backslash as octal). */
    static String escape(String path) {
        StringBuilder b = new StringBuilder();
        for (char c : path.toCharArray()) {
            if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
                b.append('\\').append(String.format("%03o", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** After a clean unmount: the watcher sees EOF, finds no mount and exits. */
    void release() {
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            process.destroy();
        }
    }

    Process process() {
        return process;
    }
}
