package io.isthmus.control.e2e;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * How many pages of a file are in the page cache, dirty, and under writeback: Linux's cachestat(2)
 * (6.5+), called through glibc's syscall(2). Used to observe durability from outside the daemon: Isthmus
 * flushes through io_uring (IORING_OP_FSYNC), which strace cannot see, but after a flush returns the
 * file's pages are clean. Any thread; the memory is a confined arena per call; -errno as negative values.
 */
final class PageCacheState {
    private static final long SYS_OPEN = 2;    // x86_64
    private static final long SYS_CLOSE = 3;
    private static final long SYS_CACHESTAT = 451;
    private static final MethodHandle SYSCALL;

    static {
        Linker linker = Linker.nativeLinker();
        SYSCALL = linker.downcallHandle(linker.defaultLookup().find("syscall").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
                Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
    }

    record Stat(long cached, long dirty, long writeback) {
    }

    static boolean supported() {
        return "amd64".equals(System.getProperty("os.arch")) || "x86_64".equals(System.getProperty("os.arch"));
    }

    /** The page-cache state of [offset, offset+length) of the file; throws if cachestat is unavailable. */
    static Stat of(Path file, long offset, long length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment errno = a.allocate(Linker.Option.captureStateLayout());
            MemorySegment path = a.allocateFrom(file.toString());
            long fd = (long) SYSCALL.invokeExact(errno, SYS_OPEN, path.address(), 0L, 0L, 0L);
            if (fd < 0) {
                throw new IllegalStateException("open " + file + " failed");
            }
            try {
                MemorySegment range = a.allocate(16, 8);
                range.set(ValueLayout.JAVA_LONG, 0, offset);
                range.set(ValueLayout.JAVA_LONG, 8, length);
                MemorySegment cs = a.allocate(40, 8);
                long r = (long) SYSCALL.invokeExact(errno, SYS_CACHESTAT, fd, range.address(), cs.address(), 0L);
                if (r < 0) {
                    throw new UnsupportedOperationException("cachestat(2) failed (kernel older than 6.5?)");
                }
                return new Stat(cs.get(ValueLayout.JAVA_LONG, 0), cs.get(ValueLayout.JAVA_LONG, 8),
                        cs.get(ValueLayout.JAVA_LONG, 16));
            } finally {
                long ignored = (long) SYSCALL.invokeExact(errno, SYS_CLOSE, fd, 0L, 0L, 0L);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
