package io.isthmus.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The errno shim over the libc bindings ({@link Unistd}, {@link Fcntl}, {@link SysMman}, {@link SysSocket}, ...):
 * each method calls one errno-capturing handle with this thread's capture buffer and returns the project's
 * convention, {@code >= 0} on success or {@code -errno}. No policy here, one method per function.
 *
 * <p>Any thread may call. Segments passed in must be native and stay alive for the call. Methods taking a
 * path {@code String} copy it into a confined arena for the call (control-plane use, not the data path); the
 * others allocate nothing.
 */
public final class Posix {
    private Posix() {}

    private static int ret(int r) {
        return r < 0 ? -Errno.last() : r;
    }

    private static long ret(long r) {
        return r < 0 ? -Errno.last() : r;
    }

    // ---- unistd.h

    public static int close(int fd) {
        try {
            return ret((int) Unistd.close_ERRNO().invokeExact(Errno.buffer(), fd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long read(int fd, MemorySegment buf, long count) {
        try {
            return ret((long) Unistd.read_ERRNO().invokeExact(Errno.buffer(), fd, buf, count));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long write(int fd, MemorySegment buf, long count) {
        try {
            return ret((long) Unistd.write_ERRNO().invokeExact(Errno.buffer(), fd, buf, count));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long pread(int fd, MemorySegment buf, long count, long offset) {
        try {
            return ret((long) Unistd.pread_ERRNO().invokeExact(Errno.buffer(), fd, buf, count, offset));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long pwrite(int fd, MemorySegment buf, long count, long offset) {
        try {
            return ret((long) Unistd.pwrite_ERRNO().invokeExact(Errno.buffer(), fd, buf, count, offset));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** lseek; with SEEK_DATA/SEEK_HOLE, -ENXIO means "no data/hole at or after offset". */
    public static long lseek(int fd, long offset, int whence) {
        try {
            return ret((long) Unistd.lseek_ERRNO().invokeExact(Errno.buffer(), fd, offset, whence));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int fsync(int fd) {
        try {
            return ret((int) Unistd.fsync_ERRNO().invokeExact(Errno.buffer(), fd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int fdatasync(int fd) {
        try {
            return ret((int) Unistd.fdatasync_ERRNO().invokeExact(Errno.buffer(), fd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int ftruncate(int fd, long length) {
        try {
            return ret((int) Unistd.ftruncate_ERRNO().invokeExact(Errno.buffer(), fd, length));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int dup(int fd) {
        try {
            return ret((int) Unistd.dup_ERRNO().invokeExact(Errno.buffer(), fd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int dup2(int oldfd, int newfd) {
        try {
            return ret((int) Unistd.dup2_ERRNO().invokeExact(Errno.buffer(), oldfd, newfd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** pipe2: {@code fds} is a native int[2] that receives {read end, write end}. */
    public static int pipe2(MemorySegment fds, int flags) {
        try {
            return ret((int) Unistd.pipe2_ERRNO().invokeExact(Errno.buffer(), fds, flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int unlink(String path) {
        try (Arena a = Arena.ofConfined()) {
            return ret((int) Unistd.unlink_ERRNO().invokeExact(Errno.buffer(), a.allocateFrom(path)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int access(String path, int mode) {
        try (Arena a = Arena.ofConfined()) {
            return ret((int) Unistd.access_ERRNO().invokeExact(Errno.buffer(), a.allocateFrom(path), mode));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int chdir(String path) {
        try (Arena a = Arena.ofConfined()) {
            return ret((int) Unistd.chdir_ERRNO().invokeExact(Errno.buffer(), a.allocateFrom(path)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int setsid() {
        try {
            return ret((int) Unistd.setsid_ERRNO().invokeExact(Errno.buffer()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int getpid() {
        try {
            return (int) Unistd.getpid().invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int getuid() {
        try {
            return (int) Unistd.getuid().invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int getgid() {
        try {
            return (int) Unistd.getgid().invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- sys/uio.h

    public static long preadv(int fd, MemorySegment iov, int iovcnt, long offset) {
        try {
            return ret((long) SysUio.preadv_ERRNO().invokeExact(Errno.buffer(), fd, iov, iovcnt, offset));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long pwritev(int fd, MemorySegment iov, int iovcnt, long offset) {
        try {
            return ret((long) SysUio.pwritev_ERRNO().invokeExact(Errno.buffer(), fd, iov, iovcnt, offset));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- fcntl.h

    /** open(2); the path string lives in a confined arena for the call only. */
    public static int open(String path, int flags, int mode) {
        try (Arena a = Arena.ofConfined()) {
            return ret((int) Fcntl.open_ERRNO().invokeExact(Errno.buffer(), a.allocateFrom(path), flags, mode));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int openat(int dirfd, String path, int flags, int mode) {
        try (Arena a = Arena.ofConfined()) {
            return ret((int) Fcntl.openat_ERRNO().invokeExact(Errno.buffer(), dirfd, a.allocateFrom(path), flags,
                    mode));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** fcntl with an int argument (F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_DUPFD_CLOEXEC...). */
    public static int fcntl(int fd, int cmd, int arg) {
        try {
            return ret((int) Fcntl.fcntl_int_ERRNO().invokeExact(Errno.buffer(), fd, cmd, arg));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** fcntl with a {@code struct flock *} (F_GETLK, F_SETLK, F_OFD_GETLK, F_OFD_SETLK...). */
    public static int fcntlLock(int fd, int cmd, MemorySegment flock) {
        try {
            return ret((int) Fcntl.fcntl_ptr_ERRNO().invokeExact(Errno.buffer(), fd, cmd, flock));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int fallocate(int fd, int mode, long offset, long length) {
        try {
            return ret((int) Fcntl.fallocate_ERRNO().invokeExact(Errno.buffer(), fd, mode, offset, length));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- sys/mman.h

    /** mmap; returns the mapping address, or -errno (a negative long). */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        try {
            MemorySegment r = (MemorySegment) SysMman.mmap_ERRNO().invokeExact(Errno.buffer(),
                    MemorySegment.ofAddress(addr), length, prot, flags, fd, offset);
            return r.address() == SysMman.MAP_FAILED ? -Errno.last() : r.address();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int munmap(long addr, long length) {
        try {
            return ret((int) SysMman.munmap_ERRNO().invokeExact(Errno.buffer(), MemorySegment.ofAddress(addr), length));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int madvise(long addr, long length, int advice) {
        try {
            return ret((int) SysMman.madvise_ERRNO().invokeExact(Errno.buffer(), MemorySegment.ofAddress(addr),
                    length, advice));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int memfdCreate(String name, int flags) {
        try (Arena a = Arena.ofConfined()) {
            return ret((int) SysMman.memfd_create_ERRNO().invokeExact(Errno.buffer(), a.allocateFrom(name), flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- sys/eventfd.h

    public static int eventfd(int initval, int flags) {
        try {
            return ret((int) SysEventfd.eventfd_ERRNO().invokeExact(Errno.buffer(), initval, flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- sys/stat.h

    /** fstat into a native {@link SysStat#stat} segment. */
    public static int fstat(int fd, MemorySegment statbuf) {
        try {
            return ret((int) SysStat.fstat_ERRNO().invokeExact(Errno.buffer(), fd, statbuf));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int stat(String path, MemorySegment statbuf) {
        try (Arena a = Arena.ofConfined()) {
            return ret((int) SysStat.stat_ERRNO().invokeExact(Errno.buffer(), a.allocateFrom(path), statbuf));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- sys/ioctl.h

    /** ioctl with a pointer argument (BLKGETSIZE64 writes a uint64_t, BLKDISCARD reads uint64_t[2], ...). */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        try {
            return ret((int) SysIoctl.ioctl_ptr_ERRNO().invokeExact(Errno.buffer(), fd, request, arg));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** ioctl with an int argument. */
    public static int ioctlInt(int fd, long request, int arg) {
        try {
            return ret((int) SysIoctl.ioctl_int_ERRNO().invokeExact(Errno.buffer(), fd, request, arg));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- sys/socket.h

    public static int socket(int domain, int type, int protocol) {
        try {
            return ret((int) SysSocket.socket_ERRNO().invokeExact(Errno.buffer(), domain, type, protocol));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** socketpair: {@code sv} is a native int[2]. */
    public static int socketpair(int domain, int type, int protocol, MemorySegment sv) {
        try {
            return ret((int) SysSocket.socketpair_ERRNO().invokeExact(Errno.buffer(), domain, type, protocol, sv));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int bind(int fd, MemorySegment addr, int addrlen) {
        try {
            return ret((int) SysSocket.bind_ERRNO().invokeExact(Errno.buffer(), fd, addr, addrlen));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int listen(int fd, int backlog) {
        try {
            return ret((int) SysSocket.listen_ERRNO().invokeExact(Errno.buffer(), fd, backlog));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** accept4; {@code addr}/{@code addrlen} may be {@link MemorySegment#NULL}. */
    public static int accept4(int fd, MemorySegment addr, MemorySegment addrlen, int flags) {
        try {
            return ret((int) SysSocket.accept4_ERRNO().invokeExact(Errno.buffer(), fd, addr, addrlen, flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int connect(int fd, MemorySegment addr, int addrlen) {
        try {
            return ret((int) SysSocket.connect_ERRNO().invokeExact(Errno.buffer(), fd, addr, addrlen));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int shutdown(int fd, int how) {
        try {
            return ret((int) SysSocket.shutdown_ERRNO().invokeExact(Errno.buffer(), fd, how));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int setsockopt(int fd, int level, int name, MemorySegment value, int len) {
        try {
            return ret((int) SysSocket.setsockopt_ERRNO().invokeExact(Errno.buffer(), fd, level, name, value, len));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** getsockopt; {@code len} is a native socklen_t (int) holding the buffer size, updated to the option's. */
    public static int getsockopt(int fd, int level, int name, MemorySegment value, MemorySegment len) {
        try {
            return ret((int) SysSocket.getsockopt_ERRNO().invokeExact(Errno.buffer(), fd, level, name, value, len));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int getsockname(int fd, MemorySegment addr, MemorySegment addrlen) {
        try {
            return ret((int) SysSocket.getsockname_ERRNO().invokeExact(Errno.buffer(), fd, addr, addrlen));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int getpeername(int fd, MemorySegment addr, MemorySegment addrlen) {
        try {
            return ret((int) SysSocket.getpeername_ERRNO().invokeExact(Errno.buffer(), fd, addr, addrlen));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long send(int fd, MemorySegment buf, long len, int flags) {
        try {
            return ret((long) SysSocket.send_ERRNO().invokeExact(Errno.buffer(), fd, buf, len, flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long recv(int fd, MemorySegment buf, long len, int flags) {
        try {
            return ret((long) SysSocket.recv_ERRNO().invokeExact(Errno.buffer(), fd, buf, len, flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long sendmsg(int fd, MemorySegment msghdr, int flags) {
        try {
            return ret((long) SysSocket.sendmsg_ERRNO().invokeExact(Errno.buffer(), fd, msghdr, flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long recvmsg(int fd, MemorySegment msghdr, int flags) {
        try {
            return ret((long) SysSocket.recvmsg_ERRNO().invokeExact(Errno.buffer(), fd, msghdr, flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- poll.h, signal.h, time.h

    public static int poll(MemorySegment fds, long nfds, int timeoutMillis) {
        try {
            return ret((int) Poll.poll_ERRNO().invokeExact(Errno.buffer(), fds, nfds, timeoutMillis));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int kill(int pid, int sig) {
        try {
            return ret((int) Signal.kill_ERRNO().invokeExact(Errno.buffer(), pid, sig));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int clockGettime(int clock, MemorySegment timespec) {
        try {
            return ret((int) Time.clock_gettime_ERRNO().invokeExact(Errno.buffer(), clock, timespec));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}
