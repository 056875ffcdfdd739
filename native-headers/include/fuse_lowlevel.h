/*
 * fuse3/fuse_lowlevel.h, fuse_common.h, fuse_opt.h (libfuse 3.14, FUSE_USE_VERSION 35) -> FuseLowlevel,
 * FuseCommon, FuseOpt. Bitfields of fuse_file_info are Bitfield constants (positions proven by probe.c);
 * the ops table's function pointers get upcall stubs through FuseUpcalls (shim).
 */
typedef struct fuse_req *fuse_req_t;
typedef uint64_t fuse_ino_t;

struct fuse_args { int argc; char **argv; int allocated; };
struct fuse_file_info {
    int flags;
    unsigned int writepage : 1, direct_io : 1, keep_cache : 1, flush : 1, nonseekable : 1, flock_release : 1,
                 cache_readdir : 1, noflush : 1, padding : 24;
    unsigned int padding2 : 32;
    uint64_t fh; uint64_t lock_owner; uint32_t poll_events;
};
struct fuse_conn_info {
    unsigned proto_major, proto_minor, max_write, max_read, max_readahead, capable, want, max_background,
             congestion_threshold, time_gran, reserved[22];
};
struct fuse_buf { size_t size; enum fuse_buf_flags flags; void *mem; int fd; off_t pos; };
struct fuse_bufvec { size_t count; size_t idx; size_t off; struct fuse_buf buf[1]; };
struct fuse_entry_param { fuse_ino_t ino; uint64_t generation; struct stat attr; double attr_timeout, entry_timeout; };
struct fuse_ctx { uid_t uid; gid_t gid; pid_t pid; mode_t umask; };
struct fuse_forget_data { fuse_ino_t ino; uint64_t nlookup; };
struct fuse_lowlevel_ops {
    void (*init)(void *userdata, struct fuse_conn_info *conn);
    void (*destroy)(void *userdata);
    void (*lookup)(fuse_req_t, fuse_ino_t parent, const char *name);
    /* ... forget, getattr, setattr, readlink, mknod, mkdir, unlink, rmdir, symlink, rename, link, open, read,
       write, flush, release, fsync, opendir, readdir, releasedir, fsyncdir, statfs, setxattr, getxattr,
       listxattr, removexattr, access, create, getlk, setlk, bmap, ioctl, poll, write_buf, retrieve_reply,
       forget_multi, flock, fallocate, readdirplus, copy_file_range, lseek: 44 pointers in this order, each
       typed in FuseLowlevel.OP_<name> */
};

int fuse_version(void);
const char *fuse_pkgversion(void);
int fuse_opt_add_arg(struct fuse_args *args, const char *arg);
void fuse_opt_free_args(struct fuse_args *args);

struct fuse_session *fuse_session_new(struct fuse_args *args, const struct fuse_lowlevel_ops *op, size_t op_size,
                                      void *userdata);
int fuse_session_mount(struct fuse_session *se, const char *mountpoint);
void fuse_session_unmount(struct fuse_session *se);
void fuse_session_destroy(struct fuse_session *se);
int fuse_session_fd(struct fuse_session *se);
int fuse_session_receive_buf(struct fuse_session *se, struct fuse_buf *buf);
void fuse_session_process_buf(struct fuse_session *se, const struct fuse_buf *buf);
int fuse_session_exited(struct fuse_session *se);
void fuse_session_exit(struct fuse_session *se);
void fuse_session_reset(struct fuse_session *se);
int fuse_session_loop(struct fuse_session *se);
int fuse_lowlevel_notify_inval_inode(struct fuse_session *se, fuse_ino_t ino, off_t off, off_t len);
void *fuse_req_userdata(fuse_req_t req);
const struct fuse_ctx *fuse_req_ctx(fuse_req_t req);

int fuse_reply_err(fuse_req_t req, int err);
void fuse_reply_none(fuse_req_t req);
int fuse_reply_entry(fuse_req_t req, const struct fuse_entry_param *e);
int fuse_reply_create(fuse_req_t req, const struct fuse_entry_param *e, const struct fuse_file_info *fi);
int fuse_reply_attr(fuse_req_t req, const struct stat *attr, double attr_timeout);
int fuse_reply_readlink(fuse_req_t req, const char *link);
int fuse_reply_open(fuse_req_t req, const struct fuse_file_info *fi);
int fuse_reply_write(fuse_req_t req, size_t count);
int fuse_reply_buf(fuse_req_t req, const char *buf, size_t size);
int fuse_reply_data(fuse_req_t req, struct fuse_bufvec *bufv, enum fuse_buf_copy_flags flags);
int fuse_reply_iov(fuse_req_t req, const struct iovec *iov, int count);
int fuse_reply_statfs(fuse_req_t req, const struct statvfs *stbuf);
int fuse_reply_xattr(fuse_req_t req, size_t count);
int fuse_reply_lock(fuse_req_t req, const struct flock *lock);
int fuse_reply_bmap(fuse_req_t req, uint64_t idx);
int fuse_reply_poll(fuse_req_t req, unsigned revents);
int fuse_reply_lseek(fuse_req_t req, off_t off);
size_t fuse_add_direntry(fuse_req_t req, char *buf, size_t bufsize, const char *name, const struct stat *stbuf,
                         off_t off);
size_t fuse_add_direntry_plus(fuse_req_t req, char *buf, size_t bufsize, const char *name,
                              const struct fuse_entry_param *e, off_t off);
