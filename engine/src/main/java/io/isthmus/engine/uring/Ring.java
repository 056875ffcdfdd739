package io.isthmus.engine.uring;

import static io.isthmus.bindings.LinuxIoUring.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.IoUringPrep;
import io.isthmus.bindings.SysMman;
import io.isthmus.bindings.Liburing;
import io.isthmus.bindings.NativeLibraries;
import io.isthmus.bindings.Posix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One io_uring: the rings mapped into this process and read and written from Java.
 *
 * <p>Thread use: a ring belongs to the thread that created it (with {@code IORING_SETUP_SINGLE_ISSUER} the
 * kernel enforces this); every method must be called on that thread. Memory: the SQ/CQ rings and the SQE
 * array are kernel mappings owned by this object, unmapped by {@link #close()}. Native calls return
 * {@code >= 0} or {@code -errno}.
 *
 * <p>Submission: {@link #nextSqe()} hands out the address of a free SQE; the caller fills it
 * ({@link io.isthmus.bindings.IoUringPrep}); {@link #enter(int, int)} publishes the new tail with a release
 * store and submits everything pending in one system call. Completion: {@link #cqReady()} reads the kernel's
 * tail with an acquire load; entries are read with {@link #cqeUserData(int)} etc. and released with
 * {@link #cqAdvance(int)} (or {@link #cqConsume()} per entry and {@link #cqPublish()} per batch).
 *
 * <p>The per-operation accesses (SQ/CQ indexes, CQEs) go through {@link IoUringPrep#MEMORY}, a constant
 * segment over the whole address space, at addresses computed here from the kernel's offsets: the JIT folds
 * its checks, where the mapping's own segment, a field, had its scope and bounds reloaded and checked on
 * every access. Every address is inside the mappings by construction (indexes are masked), and the mappings
 * live until {@link #close()}.
 */
public final class Ring implements AutoCloseable {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final MemorySegment MEM = IoUringPrep.MEMORY;

    private final int fd;
    private final int features;
    private final int setupFlags;
    private final int sqEntries;
    private final int sqMask;
    private final int cqEntries;
    private final int cqMask;
    private final MemorySegment rings;   // SQ and CQ rings (single mmap)
    private final long ringsSize;
    private final MemorySegment sqes;
    private final long sqesSize;
    private final long sqHead, sqTail, sqFlags, cqHead, cqTail, cqes; // absolute addresses in the mappings
    private final long sqesAddr;

    private int sqeTail;        // next SQE to hand out (local, not yet visible to the kernel)
    private int submittedTail;  // last tail published to the kernel
    private int cqHeadLocal;    // next completion to read
    private int cqHeadPublished; // last head handed back to the kernel
    private int sqHeadCached;   // last SQ head read from the kernel (it only moves forward)
    private boolean closed;

    private Ring(int fd, int setupFlags, MemorySegment params, MemorySegment rings, long ringsSize,
                 MemorySegment sqes, long sqesSize) {
        this.fd = fd;
        this.setupFlags = setupFlags;
        this.features = params.get(JAVA_INT, p("features"));
        this.sqEntries = params.get(JAVA_INT, p("sq_entries"));
        this.cqEntries = params.get(JAVA_INT, p("cq_entries"));
        this.rings = rings;
        this.ringsSize = ringsSize;
        this.sqes = sqes;
        this.sqesSize = sqesSize;
        long base = rings.address();
        this.sqesAddr = sqes.address();
        this.sqHead = base + params.get(JAVA_INT, p("sq_off", "head"));
        this.sqTail = base + params.get(JAVA_INT, p("sq_off", "tail"));
        this.sqFlags = base + params.get(JAVA_INT, p("sq_off", "flags"));
        this.cqHead = base + params.get(JAVA_INT, p("cq_off", "head"));
        this.cqTail = base + params.get(JAVA_INT, p("cq_off", "tail"));
        this.cqes = base + params.get(JAVA_INT, p("cq_off", "cqes"));
        this.sqMask = rings.get(JAVA_INT, params.get(JAVA_INT, p("sq_off", "ring_mask")));
        this.cqMask = rings.get(JAVA_INT, params.get(JAVA_INT, p("cq_off", "ring_mask")));
        long array = params.get(JAVA_INT, p("sq_off", "array"));
        for (int i = 0; i < sqEntries; i++) {
            rings.set(JAVA_INT, array + 4L * i, i); // identity: SQE i is slot i of the array
        }
        this.sqeTail = MEM.get(JAVA_INT, sqTail);
        this.submittedTail = sqeTail;
        this.cqHeadLocal = MEM.get(JAVA_INT, cqHead);
        this.cqHeadPublished = cqHeadLocal;
        this.sqHeadCached = MEM.get(JAVA_INT, sqHead);
    }

    private static long p(String... path) {
        PathElement[] els = new PathElement[path.length];
        for (int i = 0; i < path.length; i++) {
            els[i] = PathElement.groupElement(path[i]);
        }
        return io_uring_params.byteOffset(els);
    }

    /**
     * Creates a ring on the calling thread, which becomes its owner. Asks for single-issuer, deferred task
     * running where the kernel has them (6.1+), and falls back to plain flags otherwise.
     *
     * @throws IoUringUnavailableException naming the cause when the kernel refuses io_uring
     */
    public static Ring create(int entries, int cqEntries) {
        if (!NativeLibraries.hasLiburing()) {
            throw new IoUringUnavailableException(
                    "io_uring is not available: liburing.so.2 not found (install the liburing2 package)");
        }
        int[] flagChoices = {
                IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
                IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
                IORING_SETUP_CQSIZE,
        };
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(io_uring_params);
            int fd = -Errno.EINVAL;
            int flags = 0;
            for (int f : flagChoices) {
                params.fill((byte) 0);
                params.set(JAVA_INT, p("flags"), f);
                params.set(JAVA_INT, p("cq_entries"), cqEntries);
                fd = (int) Liburing.io_uring_setup().invokeExact(entries, params);
                flags = f;
                if (fd != -Errno.EINVAL) {
                    break;
                }
            }
            if (fd < 0) {
                throw new IoUringUnavailableException(unavailableReason(fd));
            }
            int feats = params.get(JAVA_INT, p("features"));
            if ((feats & IORING_FEAT_SINGLE_MMAP) == 0 || (feats & IORING_FEAT_NODROP) == 0) {
                Posix.close(fd);
                throw new IoUringUnavailableException(
                        "io_uring is not available: kernel too old (needs IORING_FEAT_SINGLE_MMAP and NODROP, Linux 5.5+)");
            }
            int sqN = params.get(JAVA_INT, p("sq_entries"));
            int cqN = params.get(JAVA_INT, p("cq_entries"));
            long sqSize = params.get(JAVA_INT, p("sq_off", "array")) + 4L * sqN;
            long cqSize = params.get(JAVA_INT, p("cq_off", "cqes")) + CQE_SIZE * cqN;
            long ringsSize = Math.max(sqSize, cqSize);
            long ringsAddr = Posix.mmap(0, ringsSize, SysMman.PROT_READ | SysMman.PROT_WRITE,
                    SysMman.MAP_SHARED | SysMman.MAP_POPULATE, fd, IORING_OFF_SQ_RING);
            if (ringsAddr < 0) {
                Posix.close(fd);
                throw new IoUringUnavailableException("io_uring is not available: mapping the rings failed: "
                        + Errno.message((int) -ringsAddr));
            }
            long sqesSize = SQE_SIZE * sqN;
            long sqesAddr = Posix.mmap(0, sqesSize, SysMman.PROT_READ | SysMman.PROT_WRITE,
                    SysMman.MAP_SHARED | SysMman.MAP_POPULATE, fd, IORING_OFF_SQES);
            if (sqesAddr < 0) {
                Posix.munmap(ringsAddr, ringsSize);
                Posix.close(fd);
                throw new IoUringUnavailableException("io_uring is not available: mapping the SQEs failed: "
                        + Errno.message((int) -sqesAddr));
            }
            return new Ring(fd, flags, params,
                    MemorySegment.ofAddress(ringsAddr).reinterpret(ringsSize), ringsSize,
                    MemorySegment.ofAddress(sqesAddr).reinterpret(sqesSize), sqesSize);
        } catch (IoUringUnavailableException e) {
            throw e;
        } catch (Throwable t) {
            throw new IoUringUnavailableException("io_uring is not available: " + t);
        }
    }

    static String unavailableReason(int err) {
        return unavailableReason(err, readSmall("/proc/sys/kernel/io_uring_disabled"),
                statusField("Seccomp"));
    }

    /**
     * The one-line cause of an io_uring_setup failure. {@code disabledSysctl} is the content of
     * /proc/sys/kernel/io_uring_disabled (null when the kernel has no such knob), {@code seccomp} the Seccomp
     * mode from /proc/self/status (null if unknown): they tell a policy refusal from a missing feature.
     */
    static String unavailableReason(int err, String disabledSysctl, String seccomp) {
        String base = "io_uring is not available: io_uring_setup failed: " + Errno.message(err);
        boolean sysctl = disabledSysctl != null && !disabledSysctl.isBlank() && !disabledSysctl.trim().equals("0");
        boolean filtered = seccomp != null && seccomp.trim().equals("2");
        return switch (-err) {
            case Errno.EPERM -> sysctl
                    ? base + " (disabled by the sysctl kernel.io_uring_disabled=" + disabledSysctl.trim() + ")"
                    : filtered ? base + " (blocked by a seccomp filter, e.g. a container's default profile)"
                    : base + " (not permitted: a seccomp filter or a security module refuses io_uring)";
            case Errno.ENOSYS -> filtered
                    ? base + " (blocked by a seccomp filter, or the kernel was built without io_uring)"
                    : base + " (the kernel was built without io_uring: CONFIG_IO_URING)";
            case Errno.ENOMEM -> base + " (locked-memory limit too low: raise ulimit -l)";
            case Errno.EMFILE, Errno.ENFILE -> base + " (no file descriptors left)";
            default -> base;
        };
    }

    private static String readSmall(String path) {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of(path));
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    private static String statusField(String field) {
        String status = readSmall("/proc/self/status");
        if (status == null) {
            return null;
        }
        for (String line : status.split("\n")) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1).trim();
            }
        }
        return null;
    }

    public int fd() {
        return fd;
    }

    public int features() {
        return features;
    }

    public int sqEntries() {
        return sqEntries;
    }

    public int cqEntries() {
        return cqEntries;
    }

    /** The mapped SQE array. */
    public MemorySegment sqes() {
        return sqes;
    }

    /**
     * Address of a free SQE (to fill with {@link io.isthmus.bindings.IoUringPrep}), or 0 when the submission
     * queue is full (call {@link #enter} first).
     */
    public long nextSqe() {
        if (sqeTail - sqHeadCached >= sqEntries) {
            sqHeadCached = (int) INT.getAcquire(MEM, sqHead); // the kernel's view, only when ours says full
            if (sqeTail - sqHeadCached >= sqEntries) {
                return 0;
            }
        }
        long sqe = sqesAddr + (long) (sqeTail & sqMask) * SQE_SIZE;
        sqeTail++;
        return sqe;
    }

    /** SQEs filled but not yet submitted. */
    public int pending() {
        return sqeTail - submittedTail;
    }

    /**
     * Publishes pending SQEs and enters the kernel once: submits them and, with {@code minComplete > 0}, waits
     * for that many completions. {@code IORING_ENTER_GETEVENTS} is always passed when waiting or when the ring
     * defers task work (completions are only posted while the owner is in the kernel then).
     *
     * @return the number of SQEs submitted, or -errno (-EINTR when a signal interrupted the wait)
     */
    public int enter(int minComplete, int extraFlags) {
        cqPublish(); // the kernel sees every consumed completion's slot as free before it posts more
        int toSubmit = sqeTail - submittedTail;
        if (toSubmit > 0) {
            INT.setRelease(MEM, sqTail, sqeTail);
            submittedTail = sqeTail;
        }
        int flags = extraFlags;
        if (minComplete > 0 || (setupFlags & IORING_SETUP_DEFER_TASKRUN) != 0) {
            flags |= IORING_ENTER_GETEVENTS;
        }
        if (toSubmit == 0 && minComplete == 0 && (flags & IORING_ENTER_GETEVENTS) == 0) {
            return 0;
        }
        try {
            return (int) Liburing.io_uring_enter().invokeExact(fd, toSubmit, minComplete, flags, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Completions ready to be read, starting at {@link #cqHeadLocal}. */
    public int cqReady() {
        return (int) INT.getAcquire(MEM, cqTail) - cqHeadLocal;
    }

    private long cqeOffset(int i) {
        return cqes + (long) ((cqHeadLocal + i) & cqMask) * CQE_SIZE;
    }

    /** user_data of the i-th ready completion (0 = the oldest). */
    public long cqeUserData(int i) {
        return MEM.get(JAVA_LONG_UNALIGNED, cqeOffset(i) + CQE_USER_DATA);
    }

    public int cqeRes(int i) {
        return MEM.get(JAVA_INT_UNALIGNED, cqeOffset(i) + CQE_RES);
    }

    public int cqeFlags(int i) {
        return MEM.get(JAVA_INT_UNALIGNED, cqeOffset(i) + CQE_FLAGS);
    }

    /** res (low 32 bits) and flags (high 32 bits) of the i-th ready completion, in one load. */
    public long cqeResAndFlags(int i) {
        return MEM.get(JAVA_LONG_UNALIGNED, cqeOffset(i) + CQE_RES);
    }

    /** Hands n read completions back to the kernel (release store of the CQ head). */
    public void cqAdvance(int n) {
        cqHeadLocal += n;
        cqPublish();
    }

    /** The kernel's CQ tail (acquire load): completions up to it are readable. */
    public int cqTail() {
        return (int) INT.getAcquire(MEM, cqTail);
    }

    /** The next completion to read: {@link #cqeUserData(int) cqeUserData(0)} reads the entry at this head. */
    public int cqHead() {
        return cqHeadLocal;
    }

    /**
     * Marks the oldest ready completion as read, without telling the kernel yet: the head is published by
     * {@link #cqPublish()} (once per batch of completions, as liburing's {@code io_uring_cq_advance}) and before
     * every {@link #enter}. Until then the kernel sees those entries as still occupied, which only matters if
     * the CQ fills up, and {@code IORING_FEAT_NODROP} keeps completions in that case.
     */
    public void cqConsume() {
        cqHeadLocal++;
    }

    /** Publishes the consumed completions to the kernel (release store of the CQ head), if there are new ones. */
    public void cqPublish() {
        if (cqHeadPublished != cqHeadLocal) {
            cqHeadPublished = cqHeadLocal;
            INT.setRelease(MEM, cqHead, cqHeadLocal);
        }
    }

    /** Calls io_uring_register on this ring; returns >= 0 or -errno. */
    public int register(int opcode, MemorySegment arg, int nrArgs) {
        try {
            return (int) Liburing.io_uring_register().invokeExact(fd, opcode, arg, nrArgs);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Unmaps the rings and closes the ring fd. In-flight operations must have completed (the owner drains). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Posix.munmap(sqes.address(), sqesSize);
        Posix.munmap(rings.address(), ringsSize);
        Posix.close(fd);
    }
}
