package io.isthmus.benchmarks.vhost;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysEventfd;
import io.isthmus.bindings.SysMman;
import io.isthmus.engine.export.vhostuser.MemoryRegionDescriptor;
import io.isthmus.engine.export.vhostuser.VhostUser;
import io.isthmus.engine.export.vhostuser.VhostUserMessage;
import io.isthmus.engine.export.vhostuser.VirtioBlk;
import io.isthmus.engine.export.vhostuser.VirtioBlkConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A userspace vhost-user-blk front end, so that a vhost-user-blk back end (Isthmus or qemu-storage-daemon) is
 * measured without a guest: it connects to the export's socket, negotiates features (VERSION_1, EVENT_IDX
 * unless told not to; protocol features MQ, REPLY_ACK and CONFIG where offered), shares one memfd region with
 * SET_MEM_TABLE, sets up one split virtqueue per queue (SET_VRING_NUM/BASE/ADDR/KICK/CALL/ENABLE), and then
 * one platform thread per queue keeps {@code --depth} requests in flight ({@link DriverQueue}); completions are
 * found by reading the used ring, sleeping on the call eventfd when it is empty ({@code --completion interrupt},
 * the default: what a guest driver does, and fair to the back end on a small machine) or spinning
 * ({@code --completion poll}). Every completion's status byte is checked; {@code --verify} writes a pattern and
 * checks it on reads. At the end each ring is stopped with GET_VRING_BASE, the socket closed.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar io.isthmus.benchmarks.vhost.VhostUserBlkFrontEnd \
 *     --socket S [--queues 1] [--depth 32] [--bs 4k] [--rw randread|randwrite|read|write] [--runtime 5]
 *     [--ramp 0] [--size BYTES] [--number-ios N] [--verify] [--completion interrupt|poll] [--no-event-idx]
 *     [--json]
 * </pre>
 * Prints one summary line on stderr. With {@code --json}, stdout gets {@value #MEASURING} (flushed) the moment
 * the measured time starts (after {@code --ramp}; a harness snapshots the daemon's CPU time then), and at the end
 * one JSON object: {@code ios}, {@code iops} and {@code mib_s} count the measured time (and the requests still in
 * flight at its end), {@code ios_total} every completed I/O of the session. Exit status 0, 1 if any I/O failed, a
 * read did not match or the back end misbehaved, 2 on a usage error.
 *
 * <p>Thread use: the main thread does the set-up and tear-down; each queue's worker only touches its queue.
 * Memory: the shared region is mapped here and unmapped at exit (after the back end's rings are stopped).
 */
public final class VhostUserBlkFrontEnd {
    /** Guest physical address of the shared region (any value; not 0, so that a zero address stays invalid). */
    private static final long GPA_BASE = 1L << 32;
    private static final int CONFIG_BYTES = VirtioBlkConfig.NUM_QUEUES + 2;
    /** The line {@code --json} prints when the measured time starts. */
    static final String MEASURING = "{\"event\":\"measuring\"}";

    static final class Options {
        String socket;
        int queues = 1;
        int depth = 32;
        int bs = 4096;
        String rw = "randread";
        double runtime = 5;
        double ramp = 0;
        long size = -1;
        long numberIos = -1;
        boolean verify;
        DriverQueue.Completion completion = DriverQueue.Completion.INTERRUPT;
        boolean eventIdx = true;
        boolean json;
        double stallTimeout = 10;
    }

    /** What a run did; also the JSON the harness reads. */
    record Result(String rw, int bs, int depth, int queues, long size, double seconds, long ios, long iosTotal,
            long errors, long mismatches, long kicks, long waits, boolean eventIdx, String completion,
            List<String> failures) {
        double iops() {
            return seconds > 0 ? ios / seconds : 0;
        }

        double mibPerSecond() {
            return iops() * bs / (1 << 20);
        }

        boolean ok() {
            return errors == 0 && mismatches == 0 && failures.isEmpty() && iosTotal > 0;
        }

        String json() {
            StringBuilder f = new StringBuilder("[");
            for (String s : failures) {
                f.append(f.length() > 1 ? "," : "").append('"').append(s.replace("\\", "\\\\").replace("\"", "\\\""))
                        .append('"');
            }
            f.append(']');
            return String.format(Locale.ROOT, "{\"tool\":\"vhost-user-blk-fe\",\"rw\":\"%s\",\"bs\":%d,\"depth\":%d,"
                    + "\"queues\":%d,\"size\":%d,\"seconds\":%.6f,\"ios\":%d,\"ios_total\":%d,\"iops\":%.1f,"
                    + "\"mib_s\":%.3f,\"errors\":%d,\"mismatches\":%d,\"kicks\":%d,\"waits\":%d,\"event_idx\":%b,"
                    + "\"completion\":\"%s\",\"ok\":%b,\"failures\":%s}", rw, bs, depth, queues, size, seconds, ios,
                    iosTotal, iops(), mibPerSecond(), errors, mismatches, kicks, waits, eventIdx, completion, ok(),
                    f);
        }

        String summary() {
            return String.format(Locale.ROOT, "vhost-user-blk-fe: %s bs=%d depth=%d queues=%d: %.0f IOPS, %.1f MiB/s "
                    + "over %.2f s (%d I/Os, %d in all), %d errors, %d mismatches, %d kicks, %d waits "
                    + "(completion=%s, event_idx=%s)%s", rw, bs, depth, queues, iops(), mibPerSecond(), seconds,
                    ios, iosTotal, errors, mismatches, kicks, waits, completion, eventIdx ? "on" : "off",
                    failures.isEmpty() ? "" : " FAILED: " + String.join("; ", failures));
        }
    }

    public static void main(String[] args) {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("vhost-user-blk-fe: " + e.getMessage());
            System.err.println("usage: VhostUserBlkFrontEnd --socket S [--queues N] [--depth D] [--bs 4k] "
                    + "[--rw randread|randwrite|read|write] [--runtime SECS] [--ramp SECS] [--size BYTES] "
                    + "[--number-ios N] [--verify] [--completion interrupt|poll] [--no-event-idx] [--json]");
            System.exit(2);
            return;
        }
        Result r;
        try {
            r = run(o, System.err, o.json ? () -> {
                System.out.println(MEASURING);
                System.out.flush();
            } : () -> {});
        } catch (IOException | RuntimeException e) {
            System.err.println("vhost-user-blk-fe: " + e.getMessage());
            System.exit(1);
            return;
        }
        System.err.println(r.summary());
        if (o.json) {
            System.out.println(r.json());
        }
        System.exit(r.ok() ? 0 : 1);
    }

    static Options parse(String[] args) {
        Options o = new Options();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                v = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            switch (a) {
                case "--verify" -> o.verify = true;
                case "--json" -> o.json = true;
                case "--no-event-idx" -> o.eventIdx = false;
                default -> {
                    if (v == null) {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException(a + " needs a value");
                        }
                        v = args[++i];
                    }
                    switch (a) {
                        case "--socket" -> o.socket = v;
                        case "--queues" -> o.queues = Integer.parseInt(v);
                        case "--depth" -> o.depth = Integer.parseInt(v);
                        case "--bs" -> o.bs = (int) parseSize(v);
                        case "--rw" -> o.rw = v;
                        case "--runtime" -> o.runtime = Double.parseDouble(v);
                        case "--ramp" -> o.ramp = Double.parseDouble(v);
                        case "--size" -> o.size = parseSize(v);
                        case "--number-ios" -> o.numberIos = Long.parseLong(v);
                        case "--stall-timeout" -> o.stallTimeout = Double.parseDouble(v);
                        case "--completion" -> o.completion = switch (v) {
                            case "interrupt" -> DriverQueue.Completion.INTERRUPT;
                            case "poll" -> DriverQueue.Completion.POLL;
                            default -> throw new IllegalArgumentException("--completion takes interrupt or poll");
                        };
                        default -> throw new IllegalArgumentException("unknown option " + a);
                    }
                }
            }
        }
        if (o.socket == null) {
            throw new IllegalArgumentException("--socket is required");
        }
        if (o.queues < 1 || o.queues > 255) {
            throw new IllegalArgumentException("--queues must be 1..255");
        }
        if (o.bs < VirtioBlk.SECTOR_SIZE || o.bs % VirtioBlk.SECTOR_SIZE != 0 || o.bs > (64 << 20)) {
            throw new IllegalArgumentException("--bs must be a multiple of 512 up to 64M");
        }
        if (o.depth < 1 || o.depth > VhostUser.MAX_QUEUE_SIZE / 3) { // three descriptors per request
            throw new IllegalArgumentException("--depth must be 1.." + VhostUser.MAX_QUEUE_SIZE / 3);
        }
        if (!Workload.validRw(o.rw)) {
            throw new IllegalArgumentException("--rw takes randread, randwrite, read or write");
        }
        if (o.runtime < 0 || o.ramp < 0 || (o.runtime == 0 && o.numberIos < 0)) {
            throw new IllegalArgumentException("--runtime must be > 0 (or 0 with --number-ios)");
        }
        return o;
    }

    /** "4k", "1m", "1G", "512": bytes (binary units). */
    static long parseSize(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.endsWith("ib")) {
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("b")) {
            t = t.substring(0, t.length() - 1);
        }
        int shift = 0;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k' -> shift = 10;
                case 'm' -> shift = 20;
                case 'g' -> shift = 30;
                case 't' -> shift = 40;
                default -> shift = -1;
            }
        }
        if (shift >= 0) {
            t = t.substring(0, t.length() - 1);
        } else {
            shift = 0;
        }
        try {
            long v = Long.parseLong(t);
            if (v < 0 || v > (Long.MAX_VALUE >> shift)) {
                throw new IllegalArgumentException("size out of range: " + s);
            }
            return v << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cannot read the size " + s);
        }
    }

    /**
     * Connects, sets up, runs the queues and tears down; {@code log} gets the set-up notes, {@code measuring} runs
     * on this thread when the ramp is over (or the queues ended before it).
     */
    static Result run(Options o, PrintStream log, Runnable measuring) throws IOException {
        List<Integer> fds = new ArrayList<>();
        long mapAddr = 0;
        long mapLen = 0;
        try (VhostUserSocket sock = VhostUserSocket.connect(o.socket)) {
            // ---- features
            long offered = sock.request0(VhostUser.GET_FEATURES).u64;
            if ((offered & VhostUser.bit(VhostUser.F_VERSION_1)) == 0) {
                throw new IOException("the back end does not offer VIRTIO_F_VERSION_1 (features 0x"
                        + Long.toHexString(offered) + ")");
            }
            long protocol = 0;
            if ((offered & VhostUser.bit(VhostUser.F_PROTOCOL_FEATURES)) != 0) {
                long pOffered = sock.request0(VhostUser.GET_PROTOCOL_FEATURES).u64;
                protocol = pOffered & (VhostUser.bit(VhostUser.PROTOCOL_F_MQ)
                        | VhostUser.bit(VhostUser.PROTOCOL_F_REPLY_ACK) | VhostUser.bit(VhostUser.PROTOCOL_F_CONFIG));
                sock.message(VhostUser.SET_PROTOCOL_FEATURES).u64 = protocol;
                sock.request();
                sock.replyAck = (protocol & VhostUser.bit(VhostUser.PROTOCOL_F_REPLY_ACK)) != 0;
            }
            int maxQueues = 1;
            if ((protocol & VhostUser.bit(VhostUser.PROTOCOL_F_MQ)) != 0) {
                maxQueues = (int) Math.min(Integer.MAX_VALUE, sock.request0(VhostUser.GET_QUEUE_NUM).u64);
            }
            if (o.queues > maxQueues) {
                throw new IOException("the back end serves " + maxQueues + " queue(s), " + o.queues + " asked for");
            }
            sock.message(VhostUser.SET_OWNER);
            sock.request();
            long capacity = -1;
            if ((protocol & VhostUser.bit(VhostUser.PROTOCOL_F_CONFIG)) != 0) {
                VhostUserMessage m = sock.message(VhostUser.GET_CONFIG);
                m.configOffset = 0;
                m.configSize = CONFIG_BYTES;
                m.configFlags = 0;
                m.configRefused = false;
                m.config.fill((byte) 0);
                VhostUserMessage c = sock.request();
                if (!c.configRefused && c.configSize >= 8) {
                    capacity = c.config.get(VhostUser.LE_LONG, VirtioBlkConfig.CAPACITY) << VirtioBlk.SECTOR_BITS;
                }
            }
            long size = o.size >= 0 ? o.size : capacity;
            if (size < 0) {
                throw new IOException("the back end offers no config space (CONFIG): give --size");
            }
            if (capacity >= 0 && size > capacity) {
                throw new IOException("--size " + size + " exceeds the device's capacity " + capacity);
            }
            size -= size % o.bs;
            if (size < o.bs) {
                throw new IOException("the device (" + size + " bytes) is smaller than one block of " + o.bs);
            }
            boolean write = o.rw.endsWith("write");
            if (write && (offered & VhostUser.bit(VirtioBlk.F_RO)) != 0) {
                throw new IOException("the export is read-only (VIRTIO_BLK_F_RO): cannot " + o.rw);
            }
            boolean eventIdx = o.eventIdx && (offered & VhostUser.bit(VhostUser.F_RING_EVENT_IDX)) != 0;
            long features = VhostUser.bit(VhostUser.F_VERSION_1)
                    | (offered & VhostUser.bit(VhostUser.F_PROTOCOL_FEATURES))
                    | (eventIdx ? VhostUser.bit(VhostUser.F_RING_EVENT_IDX) : 0)
                    | (o.queues > 1 ? offered & VhostUser.bit(VirtioBlk.F_MQ) : 0);
            sock.message(VhostUser.SET_FEATURES).u64 = features;
            sock.request();

            // ---- shared memory: one memfd, one region
            int qsize = DriverQueue.sizeFor(o.depth);
            long perQueue = DriverQueue.bytesFor(qsize, o.depth, o.bs);
            mapLen = perQueue * o.queues;
            int memfd = Posix.memfdCreate("vhost-user-blk-fe", SysMman.MFD_CLOEXEC);
            if (memfd < 0) {
                throw new IOException("memfd_create: " + Errno.name(-memfd));
            }
            fds.add(memfd);
            int r = Posix.ftruncate(memfd, mapLen);
            if (r < 0) {
                throw new IOException("ftruncate of the memfd to " + mapLen + ": " + Errno.name(-r));
            }
            mapAddr = Posix.mmap(0, mapLen, SysMman.PROT_READ | SysMman.PROT_WRITE,
                    SysMman.MAP_SHARED | SysMman.MAP_POPULATE, memfd, 0);
            if (mapAddr < 0) {
                long e = mapAddr;
                mapAddr = 0;
                throw new IOException("mmap of the memfd: " + Errno.name((int) -e));
            }
            MemorySegment mem = MemorySegment.ofAddress(mapAddr).reinterpret(mapLen);
            VhostUserMessage mt = sock.message(VhostUser.SET_MEM_TABLE);
            mt.regionCount = 1;
            mt.regions[0] = new MemoryRegionDescriptor(GPA_BASE, mapLen, mapAddr, 0);
            sock.request(memfd);

            // ---- the rings
            DriverQueue[] queues = new DriverQueue[o.queues];
            for (int q = 0; q < o.queues; q++) {
                int kick = eventfd(fds);
                int call = eventfd(fds);
                Workload w = new Workload(o.rw, o.bs, size, q, o.queues, o.numberIos, o.verify);
                DriverQueue dq = new DriverQueue(q, mem, perQueue * q, GPA_BASE, qsize, o.depth, o.bs, kick, call,
                        eventIdx, o.completion, w);
                queues[q] = dq;
                VhostUserMessage m = sock.message(VhostUser.SET_VRING_NUM);
                m.vringIndex = q;
                m.vringNum = qsize;
                sock.request();
                m = sock.message(VhostUser.SET_VRING_BASE);
                m.vringIndex = q;
                m.vringNum = 0;
                sock.request();
                m = sock.message(VhostUser.SET_VRING_ADDR);
                m.vringIndex = q;
                m.addrFlags = 0;
                m.descAddr = mapAddr + dq.descOffset();
                m.usedAddr = mapAddr + dq.usedOffset();
                m.availAddr = mapAddr + dq.availOffset();
                m.logAddr = 0;
                sock.request();
                sock.message(VhostUser.SET_VRING_KICK).u64 = q;
                sock.request(kick);
                sock.message(VhostUser.SET_VRING_CALL).u64 = q;
                sock.request(call);
            }
            if ((features & VhostUser.bit(VhostUser.F_PROTOCOL_FEATURES)) != 0) {
                for (int q = 0; q < o.queues; q++) {
                    VhostUserMessage m = sock.message(VhostUser.SET_VRING_ENABLE);
                    m.vringIndex = q;
                    m.vringNum = 1;
                    sock.request();
                }
            }
            log.printf(Locale.ROOT, "vhost-user-blk-fe: %s: features 0x%x, protocol features 0x%x, %d of %d queue(s) "
                    + "of %d entries, capacity %d, %d bytes of shared memory%n", o.socket, features, protocol,
                    o.queues, maxQueues, qsize, capacity, mapLen);

            // ---- the run
            long start = System.nanoTime();
            long rampEnd = start + (long) (o.ramp * 1e9);
            long deadline = o.runtime > 0 ? rampEnd + (long) (o.runtime * 1e9) : Long.MAX_VALUE / 2 + start;
            long stall = (long) (o.stallTimeout * 1e9);
            Thread[] threads = new Thread[o.queues];
            for (int q = 0; q < o.queues; q++) {
                DriverQueue dq = queues[q];
                threads[q] = Thread.ofPlatform().name("vq" + q).start(() -> dq.run(rampEnd, deadline, stall));
            }
            try {
                for (long left = rampEnd - System.nanoTime(); left > 0 && anyAlive(threads);
                        left = rampEnd - System.nanoTime()) {
                    Thread.sleep(Math.max(1, Math.min(20, left / 1_000_000)));
                }
                measuring.run();
                for (Thread t : threads) {
                    t.join();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
            long end = System.nanoTime();

            // ---- results, then stop the rings
            long ios = 0, total = 0, errors = 0, mismatches = 0, kicks = 0, waits = 0;
            List<String> failures = new ArrayList<>();
            for (DriverQueue dq : queues) {
                total += dq.completed;
                ios += dq.completed - Math.max(0, dq.completedAtRampEnd);
                errors += dq.ioErrors;
                mismatches += dq.mismatches;
                kicks += dq.kicks;
                waits += dq.waits;
                if (dq.failure != null) {
                    failures.add(dq.failure);
                }
            }
            if (failures.isEmpty()) {
                for (DriverQueue dq : queues) {
                    VhostUserMessage m = sock.message(VhostUser.GET_VRING_BASE);
                    m.vringIndex = dq.index;
                    m.vringNum = 0;
                    VhostUserMessage b = sock.request();
                    if (b.vringIndex != dq.index || b.vringNum != dq.availIndex()) {
                        failures.add("GET_VRING_BASE of queue " + dq.index + ": index " + b.vringIndex + " base "
                                + b.vringNum + ", expected " + dq.availIndex());
                    }
                }
            }
            double seconds = Math.max(0, end - Math.min(rampEnd, end)) / 1e9;
            return new Result(o.rw, o.bs, o.depth, o.queues, size, seconds, ios, total, errors, mismatches, kicks,
                    waits, eventIdx, o.completion.name().toLowerCase(Locale.ROOT), failures);
        } finally {
            if (mapAddr != 0) {
                Posix.munmap(mapAddr, mapLen);
            }
            for (int fd : fds) {
                Posix.close(fd);
            }
        }
    }

    private static boolean anyAlive(Thread[] threads) {
        for (Thread t : threads) {
            if (t.isAlive()) {
                return true;
            }
        }
        return false;
    }

    private static int eventfd(List<Integer> fds) throws IOException {
        int fd = Posix.eventfd(0, SysEventfd.EFD_CLOEXEC | SysEventfd.EFD_NONBLOCK);
        if (fd < 0) {
            throw new IOException("eventfd: " + Errno.name(-fd));
        }
        fds.add(fd);
        return fd;
    }
}
