package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Calls every libc binding through the {@link Posix} shim against the real kernel: the handles link and work. */
@Timeout(20)
class PosixTest {
    private static long off(java.lang.foreign.StructLayout l, String f) {
        return l.byteOffset(PathElement.groupElement(f));
    }

    @Test
    void fileCalls(@TempDir Path dir) {
        try (Arena a = Arena.ofConfined()) {
            String path = dir.resolve("f").toString();
            int fd = Posix.open(path, Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_EXCL | Fcntl.O_CLOEXEC, 0600);
            assertTrue(fd >= 0, "open: " + fd);
            try {
                assertEquals(-Errno.EEXIST, Posix.open(path, Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_EXCL, 0600));
                assertEquals(0, Posix.ftruncate(fd, 1 << 20));
                MemorySegment buf = a.allocate(4096, 4096);
                buf.fill((byte) 7);
                assertEquals(4096, Posix.pwrite(fd, buf, 4096, 65536));
                assertEquals(0, Posix.fdatasync(fd));
                assertEquals(0, Posix.fsync(fd));
                // SEEK_DATA/SEEK_HOLE on a sparse file (tmpfs and the usual file systems report extents)
                long data = Posix.lseek(fd, 0, Unistd.SEEK_DATA);
                assertTrue(data == 65536 || data == 0, "SEEK_DATA " + data);
                assertEquals(-Errno.ENXIO, Posix.lseek(fd, 1 << 20, Unistd.SEEK_DATA));
                long hole = Posix.lseek(fd, 65536, Unistd.SEEK_HOLE);
                assertTrue(hole >= 65536 + 4096, "SEEK_HOLE " + hole);
                // fstat
                MemorySegment st = a.allocate(SysStat.stat);
                assertEquals(0, Posix.fstat(fd, st));
                assertEquals(1 << 20, st.get(JAVA_LONG, off(SysStat.stat, "st_size")));
                assertEquals(SysStat.S_IFREG, st.get(JAVA_INT, off(SysStat.stat, "st_mode")) & SysStat.S_IFMT);
                assertEquals(0600, st.get(JAVA_INT, off(SysStat.stat, "st_mode")) & 0777);
                MemorySegment st2 = a.allocate(SysStat.stat);
                assertEquals(0, Posix.stat(path, st2));
                assertEquals(st.get(JAVA_LONG, 8), st2.get(JAVA_LONG, 8), "same inode");
                // preadv of two halves
                MemorySegment iov = a.allocate(SysUio.iovec, 2);
                MemorySegment b1 = a.allocate(100), b2 = a.allocate(100);
                iov.set(JAVA_LONG, 0, b1.address());
                iov.set(JAVA_LONG, 8, 100);
                iov.set(JAVA_LONG, 16, b2.address());
                iov.set(JAVA_LONG, 24, 100);
                assertEquals(200, Posix.preadv(fd, iov, 2, 65536 - 100));
                assertEquals(0, b1.get(JAVA_BYTE, 99));
                assertEquals(7, b2.get(JAVA_BYTE, 0));
                b1.fill((byte) 1);
                assertEquals(200, Posix.pwritev(fd, iov, 2, 0));
                MemorySegment r = a.allocate(1);
                assertEquals(1, Posix.pread(fd, r, 1, 99));
                assertEquals(1, r.get(JAVA_BYTE, 0));
                // fallocate: punch a hole where the data was
                int pr = Posix.fallocate(fd, Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, 65536, 4096);
                assertTrue(pr == 0 || pr == -Errno.EOPNOTSUPP, "punch hole " + pr);
                if (pr == 0) {
                    assertEquals(1, Posix.pread(fd, r, 1, 65536));
                    assertEquals(0, r.get(JAVA_BYTE, 0));
                }
                // fcntl: flags and OFD locks
                int fl = Posix.fcntl(fd, Fcntl.F_GETFL, 0);
                assertEquals(Fcntl.O_RDWR, fl & Fcntl.O_ACCMODE);
                assertEquals(0, Posix.fcntl(fd, Fcntl.F_SETFL, fl | Fcntl.O_NONBLOCK));
                assertTrue((Posix.fcntl(fd, Fcntl.F_GETFL, 0) & Fcntl.O_NONBLOCK) != 0);
                MemorySegment lk = a.allocate(Fcntl.flock);
                lk.set(JAVA_SHORT, off(Fcntl.flock, "l_type"), Fcntl.F_WRLCK);
                lk.set(JAVA_LONG, off(Fcntl.flock, "l_start"), 100);
                lk.set(JAVA_LONG, off(Fcntl.flock, "l_len"), 1);
                assertEquals(0, Posix.fcntlLock(fd, Fcntl.F_OFD_SETLK, lk));
                int fd2 = Posix.open(path, Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
                try {
                    MemorySegment q = a.allocate(Fcntl.flock);
                    q.set(JAVA_SHORT, off(Fcntl.flock, "l_type"), Fcntl.F_RDLCK);
                    q.set(JAVA_LONG, off(Fcntl.flock, "l_start"), 100);
                    q.set(JAVA_LONG, off(Fcntl.flock, "l_len"), 1);
                    assertEquals(0, Posix.fcntlLock(fd2, Fcntl.F_OFD_GETLK, q));
                    assertEquals(Fcntl.F_WRLCK, q.get(JAVA_SHORT, off(Fcntl.flock, "l_type")), "conflict reported");
                    assertEquals(-1, q.get(JAVA_INT, off(Fcntl.flock, "l_pid")), "OFD locks report pid -1");
                    q.set(JAVA_SHORT, off(Fcntl.flock, "l_type"), Fcntl.F_RDLCK);
                    q.set(JAVA_INT, off(Fcntl.flock, "l_pid"), 0); // OFD commands require l_pid == 0
                    assertEquals(-Errno.EAGAIN, Posix.fcntlLock(fd2, Fcntl.F_OFD_SETLK, q));
                } finally {
                    Posix.close(fd2);
                }
                // ioctl on a regular file: not a block device
                MemorySegment sz = a.allocate(JAVA_LONG);
                assertEquals(-Errno.ENOTTY, Posix.ioctl(fd, LinuxFs.BLKGETSIZE64, sz));
                int dfd = Posix.dup(fd);
                assertTrue(dfd > fd);
                assertEquals(dfd, Posix.dup2(fd, dfd));
                assertEquals(0, Posix.close(dfd));
                assertEquals(-Errno.EBADF, Posix.close(dfd));
            } finally {
                Posix.close(fd);
            }
            assertEquals(0, Posix.access(path, Unistd.R_OK));
            int dirfd = Posix.open(dir.toString(), Fcntl.O_RDONLY | Fcntl.O_DIRECTORY | Fcntl.O_CLOEXEC, 0);
            int fd3 = Posix.openat(dirfd, "f", Fcntl.O_RDONLY | Fcntl.O_CLOEXEC, 0);
            assertTrue(fd3 >= 0);
            Posix.close(fd3);
            Posix.close(dirfd);
            assertEquals(0, Posix.unlink(path));
            assertEquals(-Errno.ENOENT, Posix.unlink(path));
        }
    }

    @Test
    void memoryEventfdPipePollAndProcess() {
        try (Arena a = Arena.ofConfined()) {
            int mfd = Posix.memfdCreate("isthmus-test", SysMman.MFD_CLOEXEC);
            assertTrue(mfd >= 0);
            assertEquals(0, Posix.ftruncate(mfd, 8192));
            long addr = Posix.mmap(0, 8192, SysMman.PROT_READ | SysMman.PROT_WRITE, SysMman.MAP_SHARED, mfd, 0);
            assertTrue(addr > 0);
            MemorySegment m = MemorySegment.ofAddress(addr).reinterpret(8192);
            m.set(JAVA_INT, 4096, 0x12345678);
            MemorySegment r = a.allocate(4);
            assertEquals(4, Posix.pread(mfd, r, 4, 4096));
            assertEquals(0x12345678, r.get(JAVA_INT, 0));
            assertEquals(0, Posix.madvise(addr, 8192, SysMman.MADV_DONTNEED));
            assertEquals(0, Posix.munmap(addr, 8192));
            Posix.close(mfd);
            assertEquals(-Errno.EINVAL, Posix.munmap(1, 8192), "unaligned address");

            int efd = Posix.eventfd(0, SysEventfd.EFD_CLOEXEC | SysEventfd.EFD_NONBLOCK);
            MemorySegment v = a.allocate(JAVA_LONG);
            assertEquals(-Errno.EAGAIN, Posix.read(efd, v, 8));
            v.set(JAVA_LONG, 0, 3);
            assertEquals(8, Posix.write(efd, v, 8));
            MemorySegment pfd = a.allocate(Poll.pollfd);
            pfd.set(JAVA_INT, 0, efd);
            pfd.set(JAVA_SHORT, 4, (short) Poll.POLLIN);
            assertEquals(1, Posix.poll(pfd, 1, 1000));
            assertEquals(Poll.POLLIN, pfd.get(JAVA_SHORT, 6));
            assertEquals(8, Posix.read(efd, v, 8));
            assertEquals(3, v.get(JAVA_LONG, 0));
            Posix.close(efd);

            MemorySegment fds = a.allocate(JAVA_INT, 2);
            assertEquals(0, Posix.pipe2(fds, Fcntl.O_CLOEXEC));
            int rd = fds.getAtIndex(JAVA_INT, 0), wr = fds.getAtIndex(JAVA_INT, 1);
            assertEquals(4, Posix.write(wr, r, 4));
            assertEquals(4, Posix.read(rd, v, 8));
            Posix.close(rd);
            Posix.close(wr);

            assertTrue(Posix.getpid() > 0);
            assertEquals(0, Posix.kill(Posix.getpid(), 0));
            MemorySegment ts = a.allocate(Time.timespec);
            assertEquals(0, Posix.clockGettime(Time.CLOCK_MONOTONIC, ts));
            assertTrue(ts.get(JAVA_LONG, 0) > 0 || ts.get(JAVA_LONG, 8) > 0);
        }
    }

    @Test
    void unixSocketsPassDescriptorsAndCredentials(@TempDir Path dir) {
        try (Arena a = Arena.ofConfined()) {
            String path = dir.resolve("s").toString();
            int lfd = Posix.socket(SysSocket.AF_UNIX, SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC, 0);
            MemorySegment sun = a.allocate(SysUn.sockaddr_un);
            sun.set(JAVA_SHORT, 0, (short) SysSocket.AF_UNIX);
            sun.asSlice(2, 108).copyFrom(a.allocateFrom(path));
            assertEquals(0, Posix.bind(lfd, sun, (int) SysUn.sockaddr_un.byteSize()));
            assertEquals(0, Posix.listen(lfd, 4));
            int cfd = Posix.socket(SysSocket.AF_UNIX, SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC, 0);
            assertEquals(0, Posix.connect(cfd, sun, (int) SysUn.sockaddr_un.byteSize()));
            int sfd = Posix.accept4(lfd, MemorySegment.NULL, MemorySegment.NULL, SysSocket.SOCK_CLOEXEC);
            assertTrue(sfd >= 0);
            try {
                MemorySegment cred = a.allocate(SysSocket.ucred);
                MemorySegment len = a.allocate(JAVA_INT);
                len.set(JAVA_INT, 0, (int) SysSocket.ucred.byteSize());
                assertEquals(0, Posix.getsockopt(sfd, SysSocket.SOL_SOCKET, SysSocket.SO_PEERCRED, cred, len));
                assertEquals(12, len.get(JAVA_INT, 0));
                assertEquals(Posix.getpid(), cred.get(JAVA_INT, 0));
                assertEquals(Posix.getuid(), cred.get(JAVA_INT, 4));
                assertEquals(Posix.getgid(), cred.get(JAVA_INT, 8));

                // send one byte and a memfd with SCM_RIGHTS
                int mfd = Posix.memfdCreate("passed", SysMman.MFD_CLOEXEC);
                Posix.ftruncate(mfd, 12345);
                MemorySegment data = a.allocateFrom("x");
                MemorySegment iov = a.allocate(SysUio.iovec);
                iov.set(JAVA_LONG, 0, data.address());
                iov.set(JAVA_LONG, 8, 1);
                long space = Cmsg.space(4);
                MemorySegment control = a.allocate(space, 8);
                long h = Cmsg.first(control, space);
                assertEquals(0, h);
                Cmsg.put(control, h, SysSocket.SOL_SOCKET, SysSocket.SCM_RIGHTS, 4);
                control.set(JAVA_INT, Cmsg.data(h), mfd);
                MemorySegment msg = a.allocate(SysSocket.msghdr);
                msg.set(ValueLayout.ADDRESS, off(SysSocket.msghdr, "msg_iov"), iov);
                msg.set(JAVA_LONG, off(SysSocket.msghdr, "msg_iovlen"), 1);
                msg.set(ValueLayout.ADDRESS, off(SysSocket.msghdr, "msg_control"), control);
                msg.set(JAVA_LONG, off(SysSocket.msghdr, "msg_controllen"), space);
                assertEquals(1, Posix.sendmsg(cfd, msg, SysSocket.MSG_NOSIGNAL));
                Posix.close(mfd);

                MemorySegment rbuf = a.allocate(8);
                iov.set(JAVA_LONG, 0, rbuf.address());
                iov.set(JAVA_LONG, 8, 8);
                MemorySegment rcontrol = a.allocate(64, 8);
                MemorySegment rmsg = a.allocate(SysSocket.msghdr);
                rmsg.set(ValueLayout.ADDRESS, off(SysSocket.msghdr, "msg_iov"), iov);
                rmsg.set(JAVA_LONG, off(SysSocket.msghdr, "msg_iovlen"), 1);
                rmsg.set(ValueLayout.ADDRESS, off(SysSocket.msghdr, "msg_control"), rcontrol);
                rmsg.set(JAVA_LONG, off(SysSocket.msghdr, "msg_controllen"), 64);
                assertEquals(1, Posix.recvmsg(sfd, rmsg, SysSocket.MSG_CMSG_CLOEXEC));
                long clen = rmsg.get(JAVA_LONG, off(SysSocket.msghdr, "msg_controllen"));
                assertEquals(Cmsg.space(4), clen, "the kernel reports CMSG_SPACE of what it put");
                long rh = Cmsg.first(rcontrol, clen);
                assertEquals(SysSocket.SOL_SOCKET, Cmsg.level(rcontrol, rh));
                assertEquals(SysSocket.SCM_RIGHTS, Cmsg.type(rcontrol, rh));
                assertEquals(4, Cmsg.dataLength(rcontrol, clen, rh));
                assertEquals(-1, Cmsg.next(rcontrol, clen, rh));
                int got = rcontrol.get(JAVA_INT, Cmsg.data(rh));
                MemorySegment st = a.allocate(SysStat.stat);
                assertEquals(0, Posix.fstat(got, st));
                assertEquals(12345, st.get(JAVA_LONG, SysStat.stat.byteOffset(PathElement.groupElement("st_size"))));
                Posix.close(got);

                assertEquals(0, Posix.shutdown(cfd, SysSocket.SHUT_WR));
                assertEquals(0, Posix.recv(sfd, rbuf, 8, 0), "EOF after shutdown");
                assertEquals(1, Posix.send(sfd, data, 1, SysSocket.MSG_NOSIGNAL));
            } finally {
                Posix.close(sfd);
                Posix.close(cfd);
                Posix.close(lfd);
            }
            MemorySegment sv = a.allocate(JAVA_INT, 2);
            assertEquals(0, Posix.socketpair(SysSocket.AF_UNIX, SysSocket.SOCK_SEQPACKET | SysSocket.SOCK_CLOEXEC, 0,
                    sv));
            Posix.close(sv.getAtIndex(JAVA_INT, 0));
            Posix.close(sv.getAtIndex(JAVA_INT, 1));
        }
    }

    @Test
    void tcpSocketOptionsAndNames() {
        ValueLayout.OfShort bePort = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);
        ValueLayout.OfInt beAddr = JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN);
        try (Arena a = Arena.ofConfined()) {
            int fd = Posix.socket(SysSocket.AF_INET, SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC, 0);
            MemorySegment one = a.allocate(JAVA_INT);
            one.set(JAVA_INT, 0, 1);
            assertEquals(0, Posix.setsockopt(fd, SysSocket.SOL_SOCKET, SysSocket.SO_REUSEADDR, one, 4));
            assertEquals(0, Posix.setsockopt(fd, NetinetIn.IPPROTO_TCP, NetinetTcp.TCP_NODELAY, one, 4));
            MemorySegment v = a.allocate(JAVA_INT);
            MemorySegment len = a.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 4);
            assertEquals(0, Posix.getsockopt(fd, NetinetIn.IPPROTO_TCP, NetinetTcp.TCP_NODELAY, v, len));
            assertNotEquals(0, v.get(JAVA_INT, 0));
            one.set(JAVA_INT, 0, 65536);
            assertEquals(0, Posix.setsockopt(fd, SysSocket.SOL_SOCKET, SysSocket.SO_SNDBUF, one, 4));
            assertEquals(0, Posix.setsockopt(fd, SysSocket.SOL_SOCKET, SysSocket.SO_RCVBUF, one, 4));
            MemorySegment sin = a.allocate(NetinetIn.sockaddr_in);
            sin.set(JAVA_SHORT, 0, (short) SysSocket.AF_INET);
            sin.set(beAddr, 4, NetinetIn.INADDR_LOOPBACK);
            assertEquals(0, Posix.bind(fd, sin, (int) NetinetIn.sockaddr_in.byteSize()));
            assertEquals(0, Posix.listen(fd, SysSocket.SOMAXCONN));
            MemorySegment got = a.allocate(SysSocket.sockaddr_storage);
            len.set(JAVA_INT, 0, (int) SysSocket.sockaddr_storage.byteSize());
            assertEquals(0, Posix.getsockname(fd, got, len));
            assertEquals(16, len.get(JAVA_INT, 0));
            assertEquals(NetinetIn.INADDR_LOOPBACK, got.get(beAddr, 4));
            int port = Short.toUnsignedInt(got.get(bePort, 2));
            assertTrue(port > 0);
            int c = Posix.socket(SysSocket.AF_INET, SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC, 0);
            assertEquals(0, Posix.connect(c, got, 16));
            int s = Posix.accept4(fd, MemorySegment.NULL, MemorySegment.NULL, SysSocket.SOCK_CLOEXEC);
            assertTrue(s >= 0);
            len.set(JAVA_INT, 0, (int) SysSocket.sockaddr_storage.byteSize());
            assertEquals(0, Posix.getpeername(s, got, len));
            assertEquals(NetinetIn.INADDR_LOOPBACK, got.get(beAddr, 4));
            Posix.close(s);
            Posix.close(c);
            Posix.close(fd);

            int fd6 = Posix.socket(SysSocket.AF_INET6, SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC, 0);
            if (fd6 >= 0) { // IPv6 may be disabled
                MemorySegment sin6 = a.allocate(NetinetIn.sockaddr_in6);
                sin6.set(JAVA_SHORT, 0, (short) SysSocket.AF_INET6);
                sin6.set(JAVA_BYTE, 8 + 15, (byte) 1); // ::1
                int b = Posix.bind(fd6, sin6, (int) NetinetIn.sockaddr_in6.byteSize());
                assertTrue(b == 0 || b == -Errno.EADDRNOTAVAIL, "bind ::1 " + b);
                Posix.close(fd6);
            }
        }
    }

    @Test
    void cmsgWalkStaysInsideTheBuffer() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment c = a.allocate(64, 8);
            Cmsg.put(c, 0, 1, 1, 8);
            c.set(JAVA_LONG, 24, 1000); // second header claims more than the buffer holds
            assertEquals(-1, Cmsg.next(c, 64, 0));
            c.set(JAVA_LONG, 0, 3); // cmsg_len below the header size
            assertEquals(-1, Cmsg.next(c, 64, 0));
            assertEquals(-1, Cmsg.first(c, 8));
            assertEquals(-1, Cmsg.first(c, 128), "controllen larger than the buffer");
            assertArrayEquals(new long[] {24, 20, 16}, new long[] {Cmsg.space(4), Cmsg.len(4), Cmsg.data(0)});
        }
    }
}
