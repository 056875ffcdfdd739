package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * {@code sys/socket.h} (with {@code _GNU_SOURCE} for {@code struct ucred}): sockets, options, and the message
 * structures of sendmsg/recvmsg. The {@code CMSG_*} macros are in the shim {@link Cmsg}.
 *
 * <p>Handles named {@code *_ERRNO} capture errno (first argument: {@link Errno#buffer()}); {@link Posix}
 * applies the {@code >= 0 / -errno} convention. Any thread may call; none is critical (accept, connect,
 * sendmsg and recvmsg may block on a blocking socket).
 */
public final class SysSocket {
    private SysSocket() {}

    public static final int AF_UNSPEC = 0, AF_UNIX = 1, AF_LOCAL = 1, AF_INET = 2, AF_INET6 = 10;
    public static final int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5, SOCK_NONBLOCK = 04000,
            SOCK_CLOEXEC = 02000000;
    public static final int SOL_SOCKET = 1;
    public static final int SO_REUSEADDR = 2, SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8,
            SO_KEEPALIVE = 9, SO_REUSEPORT = 15, SO_PASSCRED = 16, SO_PEERCRED = 17, SO_ACCEPTCONN = 30,
            SO_DOMAIN = 39;
    public static final int SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;
    public static final int MSG_OOB = 1, MSG_PEEK = 2, MSG_CTRUNC = 8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40,
            MSG_EOR = 0x80, MSG_WAITALL = 0x100, MSG_NOSIGNAL = 0x4000, MSG_MORE = 0x8000,
            MSG_CMSG_CLOEXEC = 0x40000000;
    public static final int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
    public static final int SOMAXCONN = 4096;

    /** struct sockaddr (16 bytes). */
    public static final StructLayout sockaddr = structLayout(
            JAVA_SHORT.withName("sa_family"),
            sequenceLayout(14, JAVA_BYTE).withName("sa_data")
    ).withName("sockaddr");

    /** struct sockaddr_storage (128 bytes): room for any address family. */
    public static final StructLayout sockaddr_storage = structLayout(
            JAVA_SHORT.withName("ss_family"),
            sequenceLayout(118, JAVA_BYTE).withName("__ss_padding"),
            JAVA_LONG.withName("__ss_align")
    ).withName("sockaddr_storage");

    /** struct msghdr (56 bytes on LP64). */
    public static final StructLayout msghdr = structLayout(
            ADDRESS.withName("msg_name"),
            JAVA_INT.withName("msg_namelen"),
            paddingLayout(4),
            ADDRESS.withName("msg_iov"),
            JAVA_LONG.withName("msg_iovlen"),
            ADDRESS.withName("msg_control"),
            JAVA_LONG.withName("msg_controllen"),
            JAVA_INT.withName("msg_flags"),
            paddingLayout(4)
    ).withName("msghdr");

    /** struct cmsghdr (16 bytes; the data follows at CMSG_ALIGN(sizeof(struct cmsghdr))). */
    public static final StructLayout cmsghdr = structLayout(
            JAVA_LONG.withName("cmsg_len"),
            JAVA_INT.withName("cmsg_level"),
            JAVA_INT.withName("cmsg_type")
    ).withName("cmsghdr");

    /** struct ucred (12 bytes): SO_PEERCRED, SCM_CREDENTIALS. */
    public static final StructLayout ucred = structLayout(
            JAVA_INT.withName("pid"),
            JAVA_INT.withName("uid"),
            JAVA_INT.withName("gid")
    ).withName("ucred");

    private static MethodHandle c(String name, FunctionDescriptor fd) {
        return NativeLibraries.libc(name, fd, Errno.CAPTURE);
    }

    /** int socket(int domain, int type, int protocol) */
    public static MethodHandle socket_ERRNO() {
        return H_socket_ERRNO.H;
    }

    private static final class H_socket_ERRNO {
        static final MethodHandle H = c("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    }

    /** int socketpair(int domain, int type, int protocol, int sv[2]) */
    public static MethodHandle socketpair_ERRNO() {
        return H_socketpair_ERRNO.H;
    }

    private static final class H_socketpair_ERRNO {
        static final MethodHandle H = c("socketpair", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    }

    /** int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen) */
    public static MethodHandle bind_ERRNO() {
        return H_bind_ERRNO.H;
    }

    private static final class H_bind_ERRNO {
        static final MethodHandle H = c("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** int listen(int sockfd, int backlog) */
    public static MethodHandle listen_ERRNO() {
        return H_listen_ERRNO.H;
    }

    private static final class H_listen_ERRNO {
        static final MethodHandle H = c("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    /** int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags) */
    public static MethodHandle accept4_ERRNO() {
        return H_accept4_ERRNO.H;
    }

    private static final class H_accept4_ERRNO {
        static final MethodHandle H = c("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    }

    /** int connect(int sockfd, const struct sockaddr *addr, socklen_t addrlen) */
    public static MethodHandle connect_ERRNO() {
        return H_connect_ERRNO.H;
    }

    private static final class H_connect_ERRNO {
        static final MethodHandle H = c("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** int shutdown(int sockfd, int how) */
    public static MethodHandle shutdown_ERRNO() {
        return H_shutdown_ERRNO.H;
    }

    private static final class H_shutdown_ERRNO {
        static final MethodHandle H = c("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    /** int setsockopt(int sockfd, int level, int optname, const void *optval, socklen_t optlen) */
    public static MethodHandle setsockopt_ERRNO() {
        return H_setsockopt_ERRNO.H;
    }

    private static final class H_setsockopt_ERRNO {
        static final MethodHandle H = c("setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** int getsockopt(int sockfd, int level, int optname, void *optval, socklen_t *optlen) */
    public static MethodHandle getsockopt_ERRNO() {
        return H_getsockopt_ERRNO.H;
    }

    private static final class H_getsockopt_ERRNO {
        static final MethodHandle H = c("getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }

    /** int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen) */
    public static MethodHandle getsockname_ERRNO() {
        return H_getsockname_ERRNO.H;
    }

    private static final class H_getsockname_ERRNO {
        static final MethodHandle H = c("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }

    /** int getpeername(int sockfd, struct sockaddr *addr, socklen_t *addrlen) */
    public static MethodHandle getpeername_ERRNO() {
        return H_getpeername_ERRNO.H;
    }

    private static final class H_getpeername_ERRNO {
        static final MethodHandle H = c("getpeername", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }

    /** ssize_t send(int sockfd, const void *buf, size_t len, int flags) */
    public static MethodHandle send_ERRNO() {
        return H_send_ERRNO.H;
    }

    private static final class H_send_ERRNO {
        static final MethodHandle H = c("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    /** ssize_t recv(int sockfd, void *buf, size_t len, int flags) */
    public static MethodHandle recv_ERRNO() {
        return H_recv_ERRNO.H;
    }

    private static final class H_recv_ERRNO {
        static final MethodHandle H = c("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    /** ssize_t sendmsg(int sockfd, const struct msghdr *msg, int flags) */
    public static MethodHandle sendmsg_ERRNO() {
        return H_sendmsg_ERRNO.H;
    }

    private static final class H_sendmsg_ERRNO {
        static final MethodHandle H = c("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** ssize_t recvmsg(int sockfd, struct msghdr *msg, int flags) */
    public static MethodHandle recvmsg_ERRNO() {
        return H_recvmsg_ERRNO.H;
    }

    private static final class H_recvmsg_ERRNO {
        static final MethodHandle H = c("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    }
}
