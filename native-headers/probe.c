/*
 * Layout probe: prints, from the C headers installed on this machine, the size of every struct the Java
 * bindings declare, the offset and size of each of their fields, the bit position and width of each bitfield
 * (measured at run time: a field is set on a zeroed struct and the bit that changed is found), the value of
 * every constant, and a few macro results. bindings' LayoutProbeTest compiles this with gcc, runs it, and
 * compares every line with the Java side; a Java layout, field, bitfield or constant with no line here fails.
 *
 * Output, one item per line:
 *   struct <tag> <sizeof>
 *   field <tag>.<member>[.<member>...] <offsetof> <sizeof>
 *   bit <tag>.<member> <bit offset from the start of the struct> <width>
 *   const <NAME> <value as a signed 64-bit integer>
 *   macro <EXPR> <value>
 *
 * Build: gcc -std=gnu11 -Wall -Werror -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I/usr/include/fuse3 probe.c -o probe
 */
#define FUSE_USE_VERSION 35

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <fuse_lowlevel.h>
#include <fuse_opt.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define S(tag) printf("struct %s %zu\n", #tag, sizeof(struct tag))
#define F(tag, m) printf("field %s.%s %zu %zu\n", #tag, #m, offsetof(struct tag, m), sizeof(((struct tag *)0)->m))
#define C(name) printf("const %s %lld\n", #name, (long long)(name))
#define CV(name, value) printf("const %s %lld\n", #name, (long long)(value))
/* typedef'd anonymous structs (GnuTLS): named by the typedef */
#define ST(type) printf("struct %s %zu\n", #type, sizeof(type))
#define FT(type, m) printf("field %s.%s %zu %zu\n", #type, #m, offsetof(type, m), sizeof(((type *)0)->m))
#define M(expr) printf("macro %s %lld\n", #expr, (long long)(expr))

/* Bitfields have no offsetof: set the field on a zeroed struct and look for the bits that changed. */
static void bits(const char *name, const unsigned char *one, const unsigned char *ones, size_t size) {
    int first = -1, width = 0;
    for (size_t i = 0; i < size * 8; i++) {
        if (first < 0 && (one[i / 8] >> (i % 8)) & 1) {
            first = (int)i;
        }
        if ((ones[i / 8] >> (i % 8)) & 1) {
            width++;
        }
    }
    printf("bit %s %d %d\n", name, first, width);
}
#define B(tag, m) do { \
        struct tag a_, b_; \
        memset(&a_, 0, sizeof a_); memset(&b_, 0, sizeof b_); \
        a_.m = 1; b_.m -= 1; /* unsigned: wraps to all ones */ \
        bits(#tag "." #m, (const unsigned char *)&a_, (const unsigned char *)&b_, sizeof a_); \
    } while (0)

#define STAT_FIELDS(tag, p) \
    F(tag, p.st_dev); F(tag, p.st_ino); F(tag, p.st_nlink); F(tag, p.st_mode); F(tag, p.st_uid); \
    F(tag, p.st_gid); F(tag, p.st_rdev); F(tag, p.st_size); F(tag, p.st_blksize); F(tag, p.st_blocks); \
    F(tag, p.st_atim); F(tag, p.st_atim.tv_sec); F(tag, p.st_atim.tv_nsec); \
    F(tag, p.st_mtim); F(tag, p.st_mtim.tv_sec); F(tag, p.st_mtim.tv_nsec); \
    F(tag, p.st_ctim); F(tag, p.st_ctim.tv_sec); F(tag, p.st_ctim.tv_nsec); F(tag, p.__glibc_reserved)

#define SQ_OFF_FIELDS(tag, p) \
    F(tag, p.head); F(tag, p.tail); F(tag, p.ring_mask); F(tag, p.ring_entries); F(tag, p.flags); \
    F(tag, p.dropped); F(tag, p.array); F(tag, p.resv1); F(tag, p.resv2)
#define CQ_OFF_FIELDS(tag, p) \
    F(tag, p.head); F(tag, p.tail); F(tag, p.ring_mask); F(tag, p.ring_entries); F(tag, p.overflow); \
    F(tag, p.cqes); F(tag, p.flags); F(tag, p.resv1); F(tag, p.resv2)

static void layouts(void) {
    /* sys/uio.h */
    S(iovec); F(iovec, iov_base); F(iovec, iov_len);
    /* time.h */
    S(timespec); F(timespec, tv_sec); F(timespec, tv_nsec);
    /* fcntl.h */
    S(flock); F(flock, l_type); F(flock, l_whence); F(flock, l_start); F(flock, l_len); F(flock, l_pid);
    /* sys/stat.h */
    S(stat);
    F(stat, st_dev); F(stat, st_ino); F(stat, st_nlink); F(stat, st_mode); F(stat, st_uid); F(stat, st_gid);
    F(stat, st_rdev); F(stat, st_size); F(stat, st_blksize); F(stat, st_blocks);
    F(stat, st_atim); F(stat, st_atim.tv_sec); F(stat, st_atim.tv_nsec);
    F(stat, st_mtim); F(stat, st_mtim.tv_sec); F(stat, st_mtim.tv_nsec);
    F(stat, st_ctim); F(stat, st_ctim.tv_sec); F(stat, st_ctim.tv_nsec);
    F(stat, __glibc_reserved);
    /* sys/statvfs.h */
    S(statvfs);
    F(statvfs, f_bsize); F(statvfs, f_frsize); F(statvfs, f_blocks); F(statvfs, f_bfree); F(statvfs, f_bavail);
    F(statvfs, f_files); F(statvfs, f_ffree); F(statvfs, f_favail); F(statvfs, f_fsid); F(statvfs, f_flag);
    F(statvfs, f_namemax); F(statvfs, __f_spare);
    /* sys/socket.h */
    S(sockaddr); F(sockaddr, sa_family); F(sockaddr, sa_data);
    S(sockaddr_storage); F(sockaddr_storage, ss_family); F(sockaddr_storage, __ss_padding);
    F(sockaddr_storage, __ss_align);
    S(msghdr); F(msghdr, msg_name); F(msghdr, msg_namelen); F(msghdr, msg_iov); F(msghdr, msg_iovlen);
    F(msghdr, msg_control); F(msghdr, msg_controllen); F(msghdr, msg_flags);
    S(cmsghdr); F(cmsghdr, cmsg_len); F(cmsghdr, cmsg_level); F(cmsghdr, cmsg_type);
    S(ucred); F(ucred, pid); F(ucred, uid); F(ucred, gid);
    /* sys/un.h */
    S(sockaddr_un); F(sockaddr_un, sun_family); F(sockaddr_un, sun_path);
    /* netinet/in.h */
    S(in_addr); F(in_addr, s_addr);
    S(sockaddr_in); F(sockaddr_in, sin_family); F(sockaddr_in, sin_port); F(sockaddr_in, sin_addr);
    F(sockaddr_in, sin_addr.s_addr); F(sockaddr_in, sin_zero);
    S(in6_addr); F(in6_addr, __in6_u);
    S(sockaddr_in6); F(sockaddr_in6, sin6_family); F(sockaddr_in6, sin6_port); F(sockaddr_in6, sin6_flowinfo);
    F(sockaddr_in6, sin6_addr); F(sockaddr_in6, sin6_addr.__in6_u); F(sockaddr_in6, sin6_scope_id);
    /* poll.h */
    S(pollfd); F(pollfd, fd); F(pollfd, events); F(pollfd, revents);

    /* linux/io_uring.h */
    S(io_uring_sqe);
    F(io_uring_sqe, opcode); F(io_uring_sqe, flags); F(io_uring_sqe, ioprio); F(io_uring_sqe, fd);
    F(io_uring_sqe, off); F(io_uring_sqe, addr); F(io_uring_sqe, len); F(io_uring_sqe, rw_flags);
    F(io_uring_sqe, user_data); F(io_uring_sqe, buf_index); F(io_uring_sqe, personality);
    F(io_uring_sqe, splice_fd_in); F(io_uring_sqe, addr3); F(io_uring_sqe, __pad2);
    S(io_uring_cqe); F(io_uring_cqe, user_data); F(io_uring_cqe, res); F(io_uring_cqe, flags);
    S(io_sqring_offsets); F(io_sqring_offsets, head);
    F(io_sqring_offsets, tail);
    F(io_sqring_offsets, ring_mask);
    F(io_sqring_offsets, ring_entries);
    F(io_sqring_offsets, flags);
    F(io_sqring_offsets, dropped);
    F(io_sqring_offsets, array);
    F(io_sqring_offsets, resv1);
    F(io_sqring_offsets, resv2);
    S(io_cqring_offsets); F(io_cqring_offsets, head);
    F(io_cqring_offsets, tail);
    F(io_cqring_offsets, ring_mask);
    F(io_cqring_offsets, ring_entries);
    F(io_cqring_offsets, overflow);
    F(io_cqring_offsets, cqes);
    F(io_cqring_offsets, flags);
    F(io_cqring_offsets, resv1);
    F(io_cqring_offsets, resv2);
    S(io_uring_params);
    F(io_uring_params, sq_entries); F(io_uring_params, cq_entries); F(io_uring_params, flags);
    F(io_uring_params, sq_thread_cpu); F(io_uring_params, sq_thread_idle); F(io_uring_params, features);
    F(io_uring_params, wq_fd); F(io_uring_params, resv);
    F(io_uring_params, sq_off); SQ_OFF_FIELDS(io_uring_params, sq_off);
    F(io_uring_params, cq_off); CQ_OFF_FIELDS(io_uring_params, cq_off);
    S(__kernel_timespec); F(__kernel_timespec, tv_sec); F(__kernel_timespec, tv_nsec);

    /* fuse3 */
    S(fuse_args); F(fuse_args, argc); F(fuse_args, argv); F(fuse_args, allocated);
    S(fuse_file_info); F(fuse_file_info, flags); F(fuse_file_info, fh); F(fuse_file_info, lock_owner);
    F(fuse_file_info, poll_events);
    B(fuse_file_info, writepage); B(fuse_file_info, direct_io); B(fuse_file_info, keep_cache);
    B(fuse_file_info, flush); B(fuse_file_info, nonseekable); B(fuse_file_info, flock_release);
    B(fuse_file_info, cache_readdir); B(fuse_file_info, noflush); B(fuse_file_info, padding);
    B(fuse_file_info, padding2);
    S(fuse_conn_info);
    F(fuse_conn_info, proto_major); F(fuse_conn_info, proto_minor); F(fuse_conn_info, max_write);
    F(fuse_conn_info, max_read); F(fuse_conn_info, max_readahead); F(fuse_conn_info, capable);
    F(fuse_conn_info, want); F(fuse_conn_info, max_background); F(fuse_conn_info, congestion_threshold);
    F(fuse_conn_info, time_gran); F(fuse_conn_info, reserved);
    S(fuse_buf); F(fuse_buf, size); F(fuse_buf, flags); F(fuse_buf, mem); F(fuse_buf, fd); F(fuse_buf, pos);
    S(fuse_bufvec); F(fuse_bufvec, count); F(fuse_bufvec, idx); F(fuse_bufvec, off); F(fuse_bufvec, buf);
    S(fuse_entry_param); F(fuse_entry_param, ino); F(fuse_entry_param, generation); F(fuse_entry_param, attr);
    STAT_FIELDS(fuse_entry_param, attr);
    F(fuse_entry_param, attr_timeout); F(fuse_entry_param, entry_timeout);
    S(fuse_ctx); F(fuse_ctx, uid); F(fuse_ctx, gid); F(fuse_ctx, pid); F(fuse_ctx, umask);
    S(fuse_forget_data); F(fuse_forget_data, ino); F(fuse_forget_data, nlookup);
    S(fuse_lowlevel_ops);
    F(fuse_lowlevel_ops, init);
    F(fuse_lowlevel_ops, destroy);
    F(fuse_lowlevel_ops, lookup);
    F(fuse_lowlevel_ops, forget);
    F(fuse_lowlevel_ops, getattr);
    F(fuse_lowlevel_ops, setattr);
    F(fuse_lowlevel_ops, readlink);
    F(fuse_lowlevel_ops, mknod);
    F(fuse_lowlevel_ops, mkdir);
    F(fuse_lowlevel_ops, unlink);
    F(fuse_lowlevel_ops, rmdir);
    F(fuse_lowlevel_ops, symlink);
    F(fuse_lowlevel_ops, rename);
    F(fuse_lowlevel_ops, link);
    F(fuse_lowlevel_ops, open);
    F(fuse_lowlevel_ops, read);
    F(fuse_lowlevel_ops, write);
    F(fuse_lowlevel_ops, flush);
    F(fuse_lowlevel_ops, release);
    F(fuse_lowlevel_ops, fsync);
    F(fuse_lowlevel_ops, opendir);
    F(fuse_lowlevel_ops, readdir);
    F(fuse_lowlevel_ops, releasedir);
    F(fuse_lowlevel_ops, fsyncdir);
    F(fuse_lowlevel_ops, statfs);
    F(fuse_lowlevel_ops, setxattr);
    F(fuse_lowlevel_ops, getxattr);
    F(fuse_lowlevel_ops, listxattr);
    F(fuse_lowlevel_ops, removexattr);
    F(fuse_lowlevel_ops, access);
    F(fuse_lowlevel_ops, create);
    F(fuse_lowlevel_ops, getlk);
    F(fuse_lowlevel_ops, setlk);
    F(fuse_lowlevel_ops, bmap);
    F(fuse_lowlevel_ops, ioctl);
    F(fuse_lowlevel_ops, poll);
    F(fuse_lowlevel_ops, write_buf);
    F(fuse_lowlevel_ops, retrieve_reply);
    F(fuse_lowlevel_ops, forget_multi);
    F(fuse_lowlevel_ops, flock);
    F(fuse_lowlevel_ops, fallocate);
    F(fuse_lowlevel_ops, readdirplus);
    F(fuse_lowlevel_ops, copy_file_range);
    F(fuse_lowlevel_ops, lseek);
}

static void constants(void) {
    /* Errno */
    C(EPERM); C(ENOENT); C(EINTR); C(EIO); C(ENXIO); C(E2BIG); C(EBADF); C(EAGAIN); C(ENOMEM); C(EACCES);
    C(EFAULT); C(EBUSY); C(EEXIST); C(ENODEV); C(ENOTDIR); C(EISDIR); C(EINVAL); C(ENFILE); C(EMFILE);
    C(ENOTTY); C(EFBIG); C(ENOSPC); C(ESPIPE); C(EROFS); C(EPIPE); C(ERANGE); C(ENOSYS); C(ENOTSUP);
    C(EOPNOTSUPP); C(EADDRINUSE); C(EADDRNOTAVAIL); C(ECONNABORTED); C(ECONNRESET); C(ENOTCONN); C(ESHUTDOWN);
    C(ETIMEDOUT); C(ECONNREFUSED); C(EALREADY); C(EINPROGRESS); C(ECANCELED); C(EOVERFLOW); C(ENOTSOCK); C(ETIME);
    /* Unistd */
    C(STDIN_FILENO); C(STDOUT_FILENO); C(STDERR_FILENO); C(SEEK_SET); C(SEEK_CUR); C(SEEK_END); C(SEEK_DATA);
    C(SEEK_HOLE); C(F_OK); C(X_OK); C(W_OK); C(R_OK);
    /* Fcntl */
    C(O_RDONLY); C(O_WRONLY); C(O_RDWR); C(O_ACCMODE); C(O_CREAT); C(O_EXCL); C(O_NOCTTY); C(O_TRUNC);
    C(O_APPEND); C(O_NONBLOCK); C(O_DSYNC); C(O_DIRECT); C(O_LARGEFILE); C(O_DIRECTORY); C(O_NOFOLLOW);
    C(O_NOATIME); C(O_CLOEXEC); C(O_SYNC); C(O_PATH); C(O_TMPFILE); C(AT_FDCWD); C(AT_SYMLINK_NOFOLLOW);
    C(AT_REMOVEDIR); C(AT_EMPTY_PATH); C(F_DUPFD); C(F_GETFD); C(F_SETFD); C(F_GETFL); C(F_SETFL); C(F_GETLK);
    C(F_SETLK); C(F_SETLKW); C(F_OFD_GETLK); C(F_OFD_SETLK); C(F_OFD_SETLKW); C(F_DUPFD_CLOEXEC);
    C(F_SETPIPE_SZ); C(F_GETPIPE_SZ); C(FD_CLOEXEC); C(F_RDLCK); C(F_WRLCK); C(F_UNLCK);
    C(FALLOC_FL_KEEP_SIZE); C(FALLOC_FL_PUNCH_HOLE); C(FALLOC_FL_NO_HIDE_STALE); C(FALLOC_FL_COLLAPSE_RANGE);
    C(FALLOC_FL_ZERO_RANGE); C(FALLOC_FL_INSERT_RANGE); C(FALLOC_FL_UNSHARE_RANGE);
    /* SysMman */
    C(PROT_NONE); C(PROT_READ); C(PROT_WRITE); C(PROT_EXEC); C(MAP_SHARED); C(MAP_PRIVATE); C(MAP_FIXED);
    C(MAP_ANONYMOUS); C(MAP_NORESERVE); C(MAP_POPULATE); C(MAP_LOCKED); C(MAP_HUGETLB);
    CV(MAP_FAILED, (long long)(intptr_t)MAP_FAILED); C(MFD_CLOEXEC); C(MFD_ALLOW_SEALING); C(MFD_HUGETLB);
    C(MADV_NORMAL); C(MADV_RANDOM); C(MADV_SEQUENTIAL); C(MADV_WILLNEED); C(MADV_DONTNEED); C(MADV_DONTFORK);
    C(MADV_DODUMP); C(MADV_DONTDUMP);
    /* SysEventfd */
    C(EFD_SEMAPHORE); C(EFD_CLOEXEC); C(EFD_NONBLOCK);
    /* SysStat */
    C(S_IFMT); C(S_IFSOCK); C(S_IFLNK); C(S_IFREG); C(S_IFBLK); C(S_IFDIR); C(S_IFCHR); C(S_IFIFO);
    /* SysIoctl */
    C(FIONREAD); C(FIONBIO); C(FIOCLEX);
    /* LinuxFs */
    C(BLKROGET); C(BLKGETSIZE); C(BLKFLSBUF); C(BLKSSZGET); C(BLKGETSIZE64); C(BLKDISCARD); C(BLKIOMIN);
    C(BLKIOOPT); C(BLKPBSZGET); C(BLKDISCARDZEROES); C(BLKSECDISCARD); C(BLKZEROOUT); C(FICLONE);
    C(FS_IOC_GETFLAGS); C(FS_IOC_SETFLAGS);
    /* SysSocket */
    C(AF_UNSPEC); C(AF_UNIX); C(AF_LOCAL); C(AF_INET); C(AF_INET6); C(SOCK_STREAM); C(SOCK_DGRAM);
    C(SOCK_SEQPACKET); C(SOCK_NONBLOCK); C(SOCK_CLOEXEC); C(SOL_SOCKET); C(SO_REUSEADDR); C(SO_TYPE);
    C(SO_ERROR); C(SO_SNDBUF); C(SO_RCVBUF); C(SO_KEEPALIVE); C(SO_REUSEPORT); C(SO_PASSCRED); C(SO_PEERCRED);
    C(SO_ACCEPTCONN); C(SO_DOMAIN); C(SCM_RIGHTS); C(SCM_CREDENTIALS); C(MSG_OOB); C(MSG_PEEK); C(MSG_CTRUNC);
    C(MSG_TRUNC); C(MSG_DONTWAIT); C(MSG_EOR); C(MSG_WAITALL); C(MSG_NOSIGNAL); C(MSG_MORE);
    C(MSG_CMSG_CLOEXEC); C(SHUT_RD); C(SHUT_WR); C(SHUT_RDWR); C(SOMAXCONN);
    /* NetinetIn */
    C(IPPROTO_IP); C(IPPROTO_TCP); C(IPPROTO_UDP); C(IPPROTO_IPV6); C(INADDR_ANY); C(INADDR_LOOPBACK);
    C(IPV6_V6ONLY);
    /* NetinetTcp */
    C(TCP_NODELAY); C(TCP_MAXSEG); C(TCP_CORK); C(TCP_KEEPIDLE); C(TCP_KEEPINTVL); C(TCP_KEEPCNT);
    C(TCP_QUICKACK); C(TCP_USER_TIMEOUT);
    /* Poll */
    C(POLLIN); C(POLLPRI); C(POLLOUT); C(POLLERR); C(POLLHUP); C(POLLNVAL); C(POLLRDHUP);
    /* Signal */
    C(SIGHUP); C(SIGINT); C(SIGQUIT); C(SIGKILL); C(SIGUSR1); C(SIGUSR2); C(SIGPIPE); C(SIGTERM); C(SIGCHLD);
    /* Time */
    C(CLOCK_REALTIME); C(CLOCK_MONOTONIC); C(CLOCK_BOOTTIME);
    /* LinuxIoUring */
    C(IORING_SETUP_IOPOLL); C(IORING_SETUP_SQPOLL); C(IORING_SETUP_SQ_AFF); C(IORING_SETUP_CQSIZE);
    C(IORING_SETUP_CLAMP); C(IORING_SETUP_ATTACH_WQ); C(IORING_SETUP_R_DISABLED); C(IORING_SETUP_SUBMIT_ALL);
    C(IORING_SETUP_COOP_TASKRUN); C(IORING_SETUP_TASKRUN_FLAG); C(IORING_SETUP_SQE128); C(IORING_SETUP_CQE32);
    C(IORING_SETUP_SINGLE_ISSUER); C(IORING_SETUP_DEFER_TASKRUN); C(IORING_OP_NOP); C(IORING_OP_READV);
    C(IORING_OP_WRITEV); C(IORING_OP_FSYNC); C(IORING_OP_READ_FIXED); C(IORING_OP_WRITE_FIXED);
    C(IORING_OP_POLL_ADD); C(IORING_OP_POLL_REMOVE); C(IORING_OP_SYNC_FILE_RANGE); C(IORING_OP_SENDMSG);
    C(IORING_OP_RECVMSG); C(IORING_OP_TIMEOUT); C(IORING_OP_TIMEOUT_REMOVE); C(IORING_OP_ACCEPT);
    C(IORING_OP_ASYNC_CANCEL); C(IORING_OP_LINK_TIMEOUT); C(IORING_OP_CONNECT); C(IORING_OP_FALLOCATE);
    C(IORING_OP_OPENAT); C(IORING_OP_CLOSE); C(IORING_OP_FILES_UPDATE); C(IORING_OP_STATX); C(IORING_OP_READ);
    C(IORING_OP_WRITE); C(IORING_OP_FADVISE); C(IORING_OP_MADVISE); C(IORING_OP_SEND); C(IORING_OP_RECV);
    C(IORING_OP_OPENAT2); C(IORING_OP_EPOLL_CTL); C(IORING_OP_SPLICE); C(IORING_OP_PROVIDE_BUFFERS);
    C(IORING_OP_REMOVE_BUFFERS); C(IORING_OP_TEE); C(IORING_OP_SHUTDOWN); C(IORING_OP_RENAMEAT);
    C(IORING_OP_UNLINKAT); C(IORING_OP_MKDIRAT); C(IORING_OP_SYMLINKAT); C(IORING_OP_LINKAT);
    C(IORING_OP_MSG_RING); C(IORING_OP_FSETXATTR); C(IORING_OP_SETXATTR); C(IORING_OP_FGETXATTR);
    C(IORING_OP_GETXATTR); C(IORING_OP_SOCKET); C(IORING_OP_URING_CMD); C(IORING_OP_SEND_ZC);
    C(IORING_OP_SENDMSG_ZC); C(IOSQE_FIXED_FILE); C(IOSQE_IO_DRAIN); C(IOSQE_IO_LINK); C(IOSQE_IO_HARDLINK);
    C(IOSQE_ASYNC); C(IOSQE_BUFFER_SELECT); C(IOSQE_CQE_SKIP_SUCCESS); C(IORING_FSYNC_DATASYNC);
    C(IORING_TIMEOUT_ABS); C(IORING_TIMEOUT_UPDATE); C(IORING_TIMEOUT_BOOTTIME); C(IORING_TIMEOUT_REALTIME);
    C(IORING_POLL_ADD_MULTI); C(IORING_ASYNC_CANCEL_ALL); C(IORING_ASYNC_CANCEL_FD);
    C(IORING_ASYNC_CANCEL_ANY); C(IORING_ASYNC_CANCEL_FD_FIXED); C(IORING_RECVSEND_POLL_FIRST);
    C(IORING_RECV_MULTISHOT); C(IORING_ACCEPT_MULTISHOT); C(IORING_CQE_F_BUFFER); C(IORING_CQE_F_MORE);
    C(IORING_CQE_F_SOCK_NONEMPTY); C(IORING_CQE_F_NOTIF); C(IORING_OFF_SQ_RING); C(IORING_OFF_CQ_RING);
    C(IORING_OFF_SQES); C(IORING_SQ_NEED_WAKEUP); C(IORING_SQ_CQ_OVERFLOW); C(IORING_SQ_TASKRUN);
    C(IORING_ENTER_GETEVENTS); C(IORING_ENTER_SQ_WAKEUP); C(IORING_ENTER_SQ_WAIT); C(IORING_ENTER_EXT_ARG);
    C(IORING_ENTER_REGISTERED_RING); C(IORING_FEAT_SINGLE_MMAP); C(IORING_FEAT_NODROP);
    C(IORING_FEAT_SUBMIT_STABLE); C(IORING_FEAT_RW_CUR_POS); C(IORING_FEAT_CUR_PERSONALITY);
    C(IORING_FEAT_FAST_POLL); C(IORING_FEAT_POLL_32BITS); C(IORING_FEAT_SQPOLL_NONFIXED);
    C(IORING_FEAT_EXT_ARG); C(IORING_FEAT_NATIVE_WORKERS); C(IORING_REGISTER_BUFFERS);
    C(IORING_UNREGISTER_BUFFERS); C(IORING_REGISTER_FILES); C(IORING_UNREGISTER_FILES);
    C(IORING_REGISTER_EVENTFD); C(IORING_UNREGISTER_EVENTFD); C(IORING_REGISTER_FILES_UPDATE);
    C(IORING_REGISTER_PROBE); C(IORING_REGISTER_RING_FDS); C(IORING_UNREGISTER_RING_FDS);
    /* FuseCommon */
    C(FUSE_BUF_IS_FD); C(FUSE_BUF_FD_SEEK); C(FUSE_BUF_FD_RETRY); C(FUSE_BUF_NO_SPLICE);
    C(FUSE_BUF_FORCE_SPLICE); C(FUSE_BUF_SPLICE_MOVE); C(FUSE_BUF_SPLICE_NONBLOCK); C(FUSE_CAP_ASYNC_READ);
    C(FUSE_CAP_POSIX_LOCKS); C(FUSE_CAP_ATOMIC_O_TRUNC); C(FUSE_CAP_EXPORT_SUPPORT); C(FUSE_CAP_DONT_MASK);
    C(FUSE_CAP_SPLICE_WRITE); C(FUSE_CAP_SPLICE_MOVE); C(FUSE_CAP_SPLICE_READ); C(FUSE_CAP_FLOCK_LOCKS);
    C(FUSE_CAP_IOCTL_DIR); C(FUSE_CAP_AUTO_INVAL_DATA); C(FUSE_CAP_READDIRPLUS); C(FUSE_CAP_READDIRPLUS_AUTO);
    C(FUSE_CAP_ASYNC_DIO); C(FUSE_CAP_WRITEBACK_CACHE); C(FUSE_CAP_NO_OPEN_SUPPORT);
    C(FUSE_CAP_PARALLEL_DIROPS); C(FUSE_CAP_POSIX_ACL); C(FUSE_CAP_HANDLE_KILLPRIV);
    C(FUSE_CAP_CACHE_SYMLINKS); C(FUSE_CAP_NO_OPENDIR_SUPPORT); C(FUSE_CAP_EXPLICIT_INVAL_DATA);
    C(FUSE_CAP_EXPIRE_ONLY); C(FUSE_IOCTL_COMPAT); C(FUSE_IOCTL_UNRESTRICTED); C(FUSE_IOCTL_RETRY);
    C(FUSE_IOCTL_DIR); C(FUSE_IOCTL_MAX_IOV); C(FUSE_MAJOR_VERSION); C(FUSE_MINOR_VERSION);
    /* FuseLowlevel */
    C(FUSE_ROOT_ID); C(FUSE_SET_ATTR_MODE); C(FUSE_SET_ATTR_UID); C(FUSE_SET_ATTR_GID); C(FUSE_SET_ATTR_SIZE);
    C(FUSE_SET_ATTR_ATIME); C(FUSE_SET_ATTR_MTIME); C(FUSE_SET_ATTR_ATIME_NOW); C(FUSE_SET_ATTR_MTIME_NOW);
    C(FUSE_SET_ATTR_FORCE); C(FUSE_SET_ATTR_CTIME); C(FUSE_SET_ATTR_KILL_SUID); C(FUSE_SET_ATTR_KILL_SGID);
    C(FUSE_SET_ATTR_FILE); C(FUSE_SET_ATTR_KILL_PRIV); C(FUSE_SET_ATTR_OPEN); C(FUSE_SET_ATTR_TIMES_SET);
    C(FUSE_SET_ATTR_TOUCH);
}

static void gnutls_bindings(void) {
    /* Gnutls, GnutlsX509 (gnutls/gnutls.h, gnutls/x509.h) */
    ST(gnutls_datum_t); FT(gnutls_datum_t, data); FT(gnutls_datum_t, size);
    C(GNUTLS_SERVER); C(GNUTLS_CLIENT); C(GNUTLS_NONBLOCK); C(GNUTLS_NO_SIGNAL); C(GNUTLS_CRD_CERTIFICATE);
    C(GNUTLS_CRD_ANON); C(GNUTLS_CRD_SRP); C(GNUTLS_CRD_PSK); C(GNUTLS_CERT_IGNORE); C(GNUTLS_CERT_REQUEST);
    C(GNUTLS_CERT_REQUIRE); C(GNUTLS_CERT_INVALID); C(GNUTLS_CERT_REVOKED); C(GNUTLS_CERT_SIGNER_NOT_FOUND);
    C(GNUTLS_CERT_SIGNER_NOT_CA); C(GNUTLS_CERT_INSECURE_ALGORITHM); C(GNUTLS_CERT_NOT_ACTIVATED);
    C(GNUTLS_CERT_EXPIRED); C(GNUTLS_SHUT_RDWR); C(GNUTLS_SHUT_WR); C(GNUTLS_X509_FMT_DER);
    C(GNUTLS_X509_FMT_PEM); C(GNUTLS_SEC_PARAM_MEDIUM); C(GNUTLS_PSK_KEY_RAW); C(GNUTLS_PSK_KEY_HEX);
    C(GNUTLS_KEY_DIGITAL_SIGNATURE); C(GNUTLS_KEY_KEY_ENCIPHERMENT); C(GNUTLS_KEY_KEY_CERT_SIGN);
    C(GNUTLS_E_SUCCESS); C(GNUTLS_E_FATAL_ALERT_RECEIVED); C(GNUTLS_E_WARNING_ALERT_RECEIVED);
    C(GNUTLS_E_AGAIN); C(GNUTLS_E_REHANDSHAKE); C(GNUTLS_E_NO_CERTIFICATE_FOUND);
    C(GNUTLS_E_SHORT_MEMORY_BUFFER); C(GNUTLS_E_INTERRUPTED); C(GNUTLS_E_PUSH_ERROR); C(GNUTLS_E_PULL_ERROR);
    C(GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE); C(GNUTLS_E_PREMATURE_TERMINATION);
}

static void macros(void) {
    M(CMSG_ALIGN(1)); M(CMSG_ALIGN(9)); M(CMSG_SPACE(4)); M(CMSG_SPACE(12)); M(CMSG_SPACE(4 * 253));
    M(CMSG_LEN(4)); M(CMSG_LEN(12)); M(CMSG_LEN(0));
}

int main(void) {
    layouts();
    constants();
    gnutls_bindings();
    macros();
    return 0;
}
