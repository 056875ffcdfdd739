package io.isthmus.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Shim over {@link Libc}: each method calls the errno-capturing handle with this thread's capture buffer and
 * returns the result in the project's convention, {@code >= 0} on success or {@code -errno}. No policy here.
 *
 * <p>Any thread may call. Segments passed in must be native and stay alive for the call.
 */
public final class Posix {
    private Posix() {}

    private static int ret(long r) {
        return r < 0 ? -Errno.last() : (int) r;
    }

    private static long retLong(long r) {
        return r < 0 ? -Errno.last() : r;
    }

    /** mmap; returns the mapping address, or -errno (a negative long). */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        try {
            MemorySegment r = (MemorySegment) Libc.mmap_ERRNO.invokeExact(Errno.buffer(),
                    MemorySegment.ofAddress(addr), length, prot, flags, fd, offset);
            return r.address() == Libc.MAP_FAILED ? -Errno.last() : r.address();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int munmap(long addr, long length) {
        try {
            return ret((int) Libc.munmap_ERRNO.invokeExact(Errno.buffer(), MemorySegment.ofAddress(addr), length));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int close(int fd) {
        try {
            return ret((int) Libc.close_ERRNO.invokeExact(Errno.buffer(), fd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long read(int fd, MemorySegment buf, long count) {
        try {
            return retLong((long) Libc.read_ERRNO.invokeExact(Errno.buffer(), fd, buf, count));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long write(int fd, MemorySegment buf, long count) {
        try {
            return retLong((long) Libc.write_ERRNO.invokeExact(Errno.buffer(), fd, buf, count));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long pread(int fd, MemorySegment buf, long count, long offset) {
        try {
            return retLong((long) Libc.pread_ERRNO.invokeExact(Errno.buffer(), fd, buf, count, offset));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long pwrite(int fd, MemorySegment buf, long count, long offset) {
        try {
            return retLong((long) Libc.pwrite_ERRNO.invokeExact(Errno.buffer(), fd, buf, count, offset));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int dup2(int oldfd, int newfd) {
        try {
            return ret((int) Libc.dup2_ERRNO.invokeExact(Errno.buffer(), oldfd, newfd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int setsid() {
        try {
            return ret((int) Libc.setsid_ERRNO.invokeExact(Errno.buffer()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int getpid() {
        try {
            return (int) Libc.getpid.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** open(2) with a path string; the C string lives in a confined arena for the call only. */
    public static int open(String path, int flags, int mode) {
        try (Arena a = Arena.ofConfined()) {
            return ret((int) Libc.open_ERRNO.invokeExact(Errno.buffer(), a.allocateFrom(path), flags, mode));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int eventfd(int initval, int flags) {
        try {
            return ret((int) Libc.eventfd_ERRNO.invokeExact(Errno.buffer(), initval, flags));
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
