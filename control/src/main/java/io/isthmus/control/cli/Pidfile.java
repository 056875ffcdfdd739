package io.isthmus.control.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * {@code --pidfile}: QEMU's qemu_write_pidfile(). The file is opened (created 0600), locked with a
 * POSIX write lock (fcntl F_SETLK, what FileChannel.tryLock uses, so QSD and Isthmus exclude each
 * other), checked to still exist at that path, truncated and given the pid. The lock is held
 * for the daemon's life; the file is removed at exit.
 */
public final class Pidfile implements AutoCloseable {
    /** qemu_write_pidfile() creates the file S_IRUSR | S_IWUSR (then minus the umask). */
    private static final FileAttribute<Set<PosixFilePermission>> MODE_0600 = PosixFilePermissions.asFileAttribute(
            Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
    private final Path path;
    private final FileChannel channel;
    private final FileLock lock;

    private Pidfile(Path path, FileChannel channel, FileLock lock) {
        this.path = path;
        this.channel = channel;
        this.lock = lock;
    }

    /** Writes the pid file; throws with QEMU's text (after {@code cannot create PID file: }). */
    public static Pidfile write(String file) throws IOException {
        // absolute: a daemonized process changes to / before it removes the file at exit
        Path path = Path.of(file).toAbsolutePath();
        while (true) {
            FileChannel ch;
            try {
                ch = FileChannel.open(path, Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE), MODE_0600);
            } catch (NoSuchFileException e) {
                throw new IOException("Could not create '" + file + "': No such file or directory");
            } catch (AccessDeniedException e) {
                throw new IOException("Could not create '" + file + "': Permission denied");
            }
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                ch.close();
                throw new IOException("Cannot lock pid file: Resource temporarily unavailable");
            }
            if (!Files.exists(path)) {
                ch.close(); // removed between open and lock by an exiting owner: try again
                continue;
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            return new Pidfile(path, ch, lock);
        }
    }

    /** Removes the file and releases the lock (daemon exit). */
    @Override
    public void close() {
        try {
            Files.deleteIfExists(path);
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // exiting anyway
        }
    }
}
