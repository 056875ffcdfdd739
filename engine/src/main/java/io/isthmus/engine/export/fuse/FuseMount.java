package io.isthmus.engine.export.fuse;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.FuseLowlevel;
import io.isthmus.bindings.FuseOpt;
import io.isthmus.bindings.NativeLibraries;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysStat;
import io.isthmus.engine.EngineException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A FUSE mount on a regular file, made by libfuse3 (only for mounting: requests are read by {@link FuseServer}).
 * {@link #mount} follows QEMU's checks and texts: one export per mountpoint string (checked before anything
 * touches the path, so that a stat does not hang on our own mount), the mountpoint must exist and be a regular
 * file, {@code allow-other=auto} tries with allow_other and falls back without. Mount options as QEMU 11:
 * {@code rw|ro,nosuid,nodev,noatime,max_read=N,default_permissions[,allow_other]}.
 *
 * <p>Auto-unmount: a daemon killed with SIGKILL must not leave a dead (ENOTCONN) mount that makes the next export on
 * the path fail. libfuse's own {@code auto_unmount} does not achieve that for a daemon serving through io_uring
 * (see {@link FuseUnmountWatcher}, which does it instead). Without auto_unmount libfuse mounts with mount(2) as root
 * and through fusermount3 otherwise, as QSD.
 *
 * <p>Thread use: mount, cloneFd and close from the control thread; {@link #abort} from any. Memory: the session is
 * libfuse's, destroyed by close. Errors are {@link EngineException}s with QEMU's text.
 */
public final class FuseMount implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FuseMount.class.getName());
    private static final Set<String> ACTIVE = ConcurrentHashMap.newKeySet();

    /** The QAPI FuseExportAllowOther. */
    public enum AllowOther { OFF, ON, AUTO }

    /**
     * How to mount. {@code fsname} (null: libfuse's default, /dev/fuse, as QSD) names the mount's source;
     * {@code autoUnmount} starts a {@link FuseUnmountWatcher}.
     */
    public record Options(boolean writable, AllowOther allowOther, int maxRead, String fsname, boolean autoUnmount) {
        public static Options of(boolean writable, AllowOther allowOther) {
            return new Options(writable, allowOther, FuseExportConfig.DEFAULT_MAX_IO, null, true);
        }
    }

    private final String mountpoint;
    private final boolean allowOther;
    private MemorySegment session;
    private final int fd;
    private final String connection;
    private final FuseUnmountWatcher watcher;
    private boolean closed;

    private FuseMount(String mountpoint, boolean allowOther, MemorySegment session, int fd, String connection,
            FuseUnmountWatcher watcher) {
        this.mountpoint = mountpoint;
        this.allowOther = allowOther;
        this.session = session;
        this.fd = fd;
        this.connection = connection;
        this.watcher = watcher;
    }

    /** Whether libfuse3 could be loaded (the FUSE export needs it). */
    public static boolean available() {
        return NativeLibraries.hasLibfuse3();
    }

    public static FuseMount mount(String mountpoint, Options o) {
        if (!available()) {
            throw new EngineException("FUSE export is not available: libfuse3 is not installed");
        }
        if (!ACTIVE.add(mountpoint)) {
            throw new EngineException("There already is a FUSE export on '" + mountpoint + "'");
        }
        try {
            checkRegularFile(mountpoint);
            FuseMount m;
            if (o.allowOther() == AllowOther.AUTO) {
                m = tryMount(mountpoint, o, true, true);
                if (m == null) {
                    m = tryMount(mountpoint, o, false, false);
                }
            } else {
                m = tryMount(mountpoint, o, o.allowOther() == AllowOther.ON, false);
            }
            return m;
        } catch (RuntimeException e) {
            ACTIVE.remove(mountpoint);
            throw e;
        }
    }

    static void checkRegularFile(String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(SysStat.stat);
            int r = Posix.stat(path, st);
            if (r < 0) {
                throw new EngineException("Failed to stat '" + path + "': " + Errno.message(r));
            }
            int mode = st.get(JAVA_INT, SysStat.stat.byteOffset(PathElement.groupElement("st_mode")));
            if ((mode & SysStat.S_IFMT) != SysStat.S_IFREG) {
                throw new EngineException("'" + path + "' is not a regular file");
            }
        }
    }

    /** The -o string handed to libfuse. */
    static String mountOptions(Options o, boolean allowOther) {
        StringBuilder b = new StringBuilder(o.writable() ? "rw" : "ro");
        b.append(",nosuid,nodev,noatime,max_read=").append(o.maxRead()).append(",default_permissions");
        if (allowOther) {
            b.append(",allow_other");
        }
        if (o.fsname() != null && !o.fsname().isEmpty() && o.fsname().chars().noneMatch(c -> c == ',' || c == '\\')) {
            b.append(",fsname=").append(o.fsname());
        }
        return b.toString();
    }

    /** Returns the mount, or null when {@code quiet} and it failed (allow-other=auto's first attempt). */
    private static FuseMount tryMount(String mountpoint, Options o, boolean allowOther, boolean quiet) {
        MemorySegment se;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment argv = a.allocate(ADDRESS, 4);
            argv.setAtIndex(ADDRESS, 0, a.allocateFrom(""));
            argv.setAtIndex(ADDRESS, 1, a.allocateFrom("-o"));
            argv.setAtIndex(ADDRESS, 2, a.allocateFrom(mountOptions(o, allowOther)));
            argv.setAtIndex(ADDRESS, 3, MemorySegment.NULL);
            MemorySegment args = a.allocate(FuseOpt.fuse_args);
            args.set(JAVA_INT, 0, 3);
            args.set(ADDRESS, 8, argv);
            args.set(JAVA_INT, 16, 0);
            // no operations: libfuse only mounts, the requests are read by the FuseServer
            MemorySegment ops = a.allocate(FuseLowlevel.fuse_lowlevel_ops);
            se = (MemorySegment) FuseLowlevel.fuse_session_new.invokeExact(args, ops,
                    FuseLowlevel.fuse_lowlevel_ops.byteSize(), MemorySegment.NULL);
            if (se.address() == 0) {
                if (quiet) {
                    return null;
                }
                throw new EngineException("Failed to set up FUSE session");
            }
            int r = (int) FuseLowlevel.fuse_session_mount.invokeExact(se, a.allocateFrom(mountpoint));
            if (r != 0) {
                FuseLowlevel.fuse_session_destroy.invokeExact(se);
                if (quiet) {
                    return null;
                }
                throw new EngineException("Failed to mount FUSE session to export");
            }
            int fd = (int) FuseLowlevel.fuse_session_fd.invokeExact(se);
            String abs = mountinfoPath(mountpoint);
            return new FuseMount(mountpoint, allowOther, se, fd, findConnection(abs),
                    o.autoUnmount() && abs != null ? FuseUnmountWatcher.start(abs) : null);
        } catch (EngineException e) {
            throw e;
        } catch (Throwable t) {
            throw new EngineException("Failed to mount FUSE session to export", t);
        }
    }

    /**
     * The mount's connection number in /sys/fs/fuse/connections (the minor of its anonymous device), found in
     * /proc/self/mountinfo rather than by stat, which would send a request nobody serves yet; null if not found.
     */
    static String findConnection(String abs) {
        if (abs == null) {
            return null;
        }
        try {
            String found = null;
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                if (f.length < 10 || !unescape(f[4]).equals(abs)) {
                    continue;
                }
                int dash = List.of(f).indexOf("-");
                if (dash < 0 || dash + 1 >= f.length || !f[dash + 1].startsWith("fuse")) {
                    continue;
                }
                String dev = f[2];
                found = dev.substring(dev.indexOf(':') + 1); // the last (topmost) mount wins
            }
            return found;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The mountpoint as /proc/self/mountinfo names it: absolute, the parent's symlinks resolved; or null. */
    static String mountinfoPath(String mountpoint) {
        try {
            Path p = Path.of(mountpoint).toAbsolutePath().normalize();
            Path parent = p.getParent();
            return (parent == null ? p : parent.toRealPath().resolve(p.getFileName())).toString();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    public String mountpoint() {
        return mountpoint;
    }

    /** Whether the mount has allow_other (after allow-other=auto's choice). */
    public boolean allowOther() {
        return allowOther;
    }

    /** The session's /dev/fuse fd (libfuse's: closed by {@link #close}). */
    public int fd() {
        return fd;
    }

    /** The connection number under /sys/fs/fuse/connections, or null. */
    public String connection() {
        return connection;
    }

    /** A new /dev/fuse fd attached to this mount's connection (FUSE_DEV_IOC_CLONE); the caller closes it. */
    public int cloneFd() {
        int c = Posix.open("/dev/fuse", Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        if (c < 0) {
            throw new EngineException("Failed to open /dev/fuse: " + Errno.message(c));
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment arg = a.allocate(JAVA_INT);
            arg.set(JAVA_INT, 0, fd);
            int r = Posix.ioctl(c, FuseProtocol.DEV_IOC_CLONE, arg);
            if (r < 0) {
                Posix.close(c);
                throw new EngineException("Failed to clone the FUSE device fd: " + Errno.message(r));
            }
        }
        return c;
    }

    /**
     * Aborts the connection (fusectl's abort file): every waiting and future request of the mount fails with
     * ENOTCONN at once instead of hanging. Best effort: nothing happens when fusectl is not mounted.
     */
    public void abort() {
        if (connection == null) {
            return;
        }
        try {
            Files.writeString(Path.of("/sys/fs/fuse/connections", connection, "abort"), "1");
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot abort FUSE connection " + connection + ": " + e);
        }
    }

    /**
     * Drops this process's reference to the session's /dev/fuse file without giving up the fd number libfuse will
     * close (it now holds /dev/null): once the clones are closed and no io_uring read holds the device any more,
     * the connection is aborted and every caller gets an error instead of hanging. For a halted export, where
     * fusectl is not mounted. Any thread; after the server's queues have stopped.
     */
    public synchronized void sever() {
        if (closed) {
            return;
        }
        int nul = Posix.open("/dev/null", Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        if (nul < 0) {
            return;
        }
        if (Posix.dup2(nul, fd) >= 0) {
            Posix.fcntl(fd, Fcntl.F_SETFD, Fcntl.FD_CLOEXEC);
        }
        Posix.close(nul);
    }

    /** Unmounts (lazily: open files then fail with ENOTCONN) and destroys the session. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            FuseLowlevel.fuse_session_unmount.invokeExact(session);
            FuseLowlevel.fuse_session_destroy.invokeExact(session);
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "unmounting " + mountpoint + " failed", t);
        } finally {
            session = MemorySegment.NULL;
            ACTIVE.remove(mountpoint);
            if (watcher != null) {
                watcher.release();
            }
        }
    }
}
