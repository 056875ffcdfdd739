package io.isthmus.engine.export.vhostuser;

import io.isthmus.bindings.Posix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/** Test support: a fake transport (fds handed in by the test, replies recorded) and a fake block device. */
final class FakeVhostUser {
    private FakeVhostUser() {}

    static final class Channel implements VhostUserChannel {
        int[] fds = new int[0];
        final List<VhostUserMessage> replies = new ArrayList<>();
        final List<Integer> replyFdValid = new ArrayList<>();

        void fds(int... fds) {
            this.fds = fds.clone();
        }

        @Override
        public int fdCount() {
            return fds.length;
        }

        @Override
        public int takeFd(int i) {
            if (i < 0 || i >= fds.length) {
                return -1;
            }
            int fd = fds[i];
            fds[i] = -1;
            return fd;
        }

        @Override
        public void send(MemorySegment message, int length, int fd) throws VhostUserException {
            VhostUserMessage m = new VhostUserMessage();
            m.decode(message, length);
            replies.add(m);
            replyFdValid.add(fd < 0 ? -1 : Posix.fcntl(fd, io.isthmus.bindings.Fcntl.F_GETFD, 0) >= 0 ? 1 : 0);
            if (fd >= 0) {
                received = Posix.dup(fd); // the "front end" keeps the fd
            }
        }

        int received = -1;

        /** What the transport does after each message: close the fds nobody took. */
        void closeUntaken() {
            for (int fd : fds) {
                if (fd >= 0) {
                    Posix.close(fd);
                }
            }
            fds = new int[0];
        }

        VhostUserMessage last() {
            return replies.getLast();
        }
    }

    static final class Device implements VhostUserDevice {
        final VirtioBlkConfig config = new VirtioBlkConfig(1 << 20, 512, 2);
        final Virtqueue[] queues = new Virtqueue[2];
        boolean packed;
        final List<String> events = new ArrayList<>();
        boolean defer;
        long acked;
        GuestMemory memory;

        @Override
        public long features() {
            return VirtioBlk.features(true, packed);
        }

        @Override
        public int numQueues() {
            return 2;
        }

        @Override
        public int configSize() {
            return VirtioBlkConfig.SIZE;
        }

        @Override
        public int readConfig(int offset, MemorySegment dst, int size) {
            return config.read(offset, dst, size);
        }

        @Override
        public int writeConfig(int offset, MemorySegment src, int size, int flags) {
            int r = config.write(offset, src, size, flags);
            return r < 0 ? r : 0;
        }

        @Override
        public void startQueue(Vring v) throws VhostUserException {
            queues[v.index] = v.mapQueue();
            events.add("start " + v.index + " kick " + (v.kickFd() >= 0) + " call " + (v.callFd() >= 0));
        }

        @Override
        public long stopQueue(int index) {
            events.add("stop " + index);
            int base = queues[index].vringBase();
            queues[index] = null;
            return defer ? DEFER : base;
        }

        @Override
        public void callChanged(int index, int fd) {
            events.add("call " + index + " " + (fd >= 0));
        }

        @Override
        public void memoryChanged(GuestMemory memory) {
            this.memory = memory;
            events.add("memory " + memory.regionCount());
        }

        @Override
        public void featuresAcked(long features) {
            acked = features;
        }
    }

    /** Encodes {@code m} and feeds it to {@code h} with {@code ch}'s fds, closing what it left, as transports do. */
    static int send(VhostUserHandler h, Channel ch, VhostUserMessage m) throws VhostUserException {
        MemorySegment buf = Arena.ofAuto().allocate(VhostUserMessage.MAX_MESSAGE_SIZE);
        int n = m.encode(buf, 0);
        try {
            return h.handle(buf, n, ch);
        } finally {
            ch.closeUntaken();
        }
    }

    static VhostUserMessage msg(int request) {
        VhostUserMessage m = new VhostUserMessage();
        m.request = request;
        m.flags = VhostUser.VERSION;
        return m;
    }

    static VhostUserMessage u64(int request, long value) {
        VhostUserMessage m = msg(request);
        m.u64 = value;
        return m;
    }

    static VhostUserMessage state(int request, int index, int num) {
        VhostUserMessage m = msg(request);
        m.vringIndex = index;
        m.vringNum = num;
        return m;
    }

    static byte configByte(VhostUserMessage reply, int at) {
        return reply.config.get(ValueLayout.JAVA_BYTE, at);
    }
}
