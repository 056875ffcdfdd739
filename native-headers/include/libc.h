/*
 * The libc declarations io.isthmus.bindings follows (x86-64 Linux, glibc, _GNU_SOURCE, _FILE_OFFSET_BITS=64):
 * a subset of the system headers, one section per header and per Java class. jextract.sh regenerates the
 * Java side from the real headers with these names as its include lists; probe.c proves the layouts.
 */

/* ---- unistd.h -> Unistd */
int close(int fd);
ssize_t read(int fd, void *buf, size_t count);
ssize_t write(int fd, const void *buf, size_t count);
ssize_t pread(int fd, void *buf, size_t count, off_t offset);
ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset);
off_t lseek(int fd, off_t offset, int whence);            /* SEEK_SET/CUR/END/DATA/HOLE */
int fsync(int fd);
int fdatasync(int fd);
int ftruncate(int fd, off_t length);
int dup(int oldfd);
int dup2(int oldfd, int newfd);
int pipe2(int pipefd[2], int flags);
int unlink(const char *pathname);
int access(const char *pathname, int mode);
pid_t setsid(void);
int chdir(const char *path);
pid_t getpid(void);
uid_t getuid(void);
gid_t getgid(void);

/* ---- sys/uio.h -> SysUio */
struct iovec { void *iov_base; size_t iov_len; };
ssize_t preadv(int fd, const struct iovec *iov, int iovcnt, off_t offset);
ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset);

/* ---- fcntl.h (+ linux/falloc.h) -> Fcntl */
struct flock { short l_type; short l_whence; off_t l_start; off_t l_len; pid_t l_pid; };
int open(const char *pathname, int flags, ... /* mode_t mode */);
int openat(int dirfd, const char *pathname, int flags, ... /* mode_t mode */);
int fcntl(int fd, int cmd, ... /* int arg | struct flock *lock */);
int fallocate(int fd, int mode, off_t offset, off_t len);

/* ---- sys/mman.h -> SysMman */
void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
int munmap(void *addr, size_t length);
int madvise(void *addr, size_t length, int advice);
int memfd_create(const char *name, unsigned int flags);

/* ---- sys/eventfd.h -> SysEventfd */
int eventfd(unsigned int initval, int flags);

/* ---- time.h -> Time */
struct timespec { time_t tv_sec; long tv_nsec; };
int clock_gettime(clockid_t clockid, struct timespec *tp);

/* ---- sys/stat.h -> SysStat (x86-64 layout) */
struct stat {
    dev_t st_dev; ino_t st_ino; nlink_t st_nlink; mode_t st_mode; uid_t st_uid; gid_t st_gid; int __pad0;
    dev_t st_rdev; off_t st_size; blksize_t st_blksize; blkcnt_t st_blocks;
    struct timespec st_atim; struct timespec st_mtim; struct timespec st_ctim;
    long __glibc_reserved[3];
};
int fstat(int fd, struct stat *statbuf);
int stat(const char *pathname, struct stat *statbuf);

/* ---- sys/statvfs.h -> SysStatvfs */
struct statvfs {
    unsigned long f_bsize, f_frsize; fsblkcnt_t f_blocks, f_bfree, f_bavail; fsfilcnt_t f_files, f_ffree, f_favail;
    unsigned long f_fsid, f_flag, f_namemax; int __f_spare[6];
};

/* ---- sys/ioctl.h -> SysIoctl; request numbers from linux/fs.h -> LinuxFs */
int ioctl(int fd, unsigned long request, ... /* void *argp | int arg */);

/* ---- sys/socket.h -> SysSocket; CMSG_* macros -> Cmsg (shim) */
struct sockaddr { sa_family_t sa_family; char sa_data[14]; };
struct sockaddr_storage { sa_family_t ss_family; char __ss_padding[118]; unsigned long __ss_align; };
struct msghdr {
    void *msg_name; socklen_t msg_namelen; struct iovec *msg_iov; size_t msg_iovlen;
    void *msg_control; size_t msg_controllen; int msg_flags;
};
struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; /* unsigned char __cmsg_data[]; */ };
struct ucred { pid_t pid; uid_t uid; gid_t gid; };
int socket(int domain, int type, int protocol);
int socketpair(int domain, int type, int protocol, int sv[2]);
int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen);
int listen(int sockfd, int backlog);
int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
int connect(int sockfd, const struct sockaddr *addr, socklen_t addrlen);
int shutdown(int sockfd, int how);
int setsockopt(int sockfd, int level, int optname, const void *optval, socklen_t optlen);
int getsockopt(int sockfd, int level, int optname, void *optval, socklen_t *optlen);
int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen);
int getpeername(int sockfd, struct sockaddr *addr, socklen_t *addrlen);
ssize_t send(int sockfd, const void *buf, size_t len, int flags);
ssize_t recv(int sockfd, void *buf, size_t len, int flags);
ssize_t sendmsg(int sockfd, const struct msghdr *msg, int flags);
ssize_t recvmsg(int sockfd, struct msghdr *msg, int flags);

/* ---- sys/un.h -> SysUn */
struct sockaddr_un { sa_family_t sun_family; char sun_path[108]; };

/* ---- netinet/in.h -> NetinetIn; netinet/tcp.h -> NetinetTcp (constants only) */
struct in_addr { in_addr_t s_addr; };
struct sockaddr_in { sa_family_t sin_family; in_port_t sin_port; struct in_addr sin_addr; unsigned char sin_zero[8]; };
struct in6_addr { union { uint8_t __u6_addr8[16]; uint16_t __u6_addr16[8]; uint32_t __u6_addr32[4]; } __in6_u; };
struct sockaddr_in6 {
    sa_family_t sin6_family; in_port_t sin6_port; uint32_t sin6_flowinfo; struct in6_addr sin6_addr;
    uint32_t sin6_scope_id;
};

/* ---- poll.h -> Poll */
struct pollfd { int fd; short events; short revents; };
int poll(struct pollfd *fds, nfds_t nfds, int timeout);

/* ---- signal.h -> Signal */
int kill(pid_t pid, int sig);

/* ---- errno.h -> Errno (values only; errno itself is read through Linker.Option.captureCallState) */
