package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * {@code fuse3/fuse_lowlevel.h} (libfuse 3.14, {@code FUSE_USE_VERSION 35}): the session, the request replies, and
 * the {@code fuse_lowlevel_ops} table with one {@link FunctionDescriptor} per operation ({@code OP_<name>}) for
 * building its upcall stubs (see {@link FuseUpcalls}).
 *
 * <p>Return convention: libfuse's functions return {@code 0} or {@code -errno} themselves (no errno capture);
 * {@code fuse_session_new} returns NULL on failure. Thread use: a session's receive/process loop runs on one
 * thread; replies may be sent from any thread (libfuse writes them to the device with writev). None is bound
 * critical: receive blocks, and replies may block on the device. Memory: the session is libfuse's, freed by
 * {@code fuse_session_destroy}; reply arguments are copied before the reply function returns. When libfuse3 is
 * absent, every handle is a stub throwing {@link UnsatisfiedLinkError}.
 */
public final class FuseLowlevel {
    private FuseLowlevel() {}

    public static final long FUSE_ROOT_ID = 1;
    public static final int FUSE_SET_ATTR_MODE = 1 << 0, FUSE_SET_ATTR_UID = 1 << 1, FUSE_SET_ATTR_GID = 1 << 2,
            FUSE_SET_ATTR_SIZE = 1 << 3, FUSE_SET_ATTR_ATIME = 1 << 4, FUSE_SET_ATTR_MTIME = 1 << 5,
            FUSE_SET_ATTR_ATIME_NOW = 1 << 7, FUSE_SET_ATTR_MTIME_NOW = 1 << 8, FUSE_SET_ATTR_FORCE = 1 << 9,
            FUSE_SET_ATTR_CTIME = 1 << 10, FUSE_SET_ATTR_KILL_SUID = 1 << 11, FUSE_SET_ATTR_KILL_SGID = 1 << 12,
            FUSE_SET_ATTR_FILE = 1 << 13, FUSE_SET_ATTR_KILL_PRIV = 1 << 14, FUSE_SET_ATTR_OPEN = 1 << 15,
            FUSE_SET_ATTR_TIMES_SET = 1 << 16, FUSE_SET_ATTR_TOUCH = 1 << 17;

    /** struct fuse_entry_param (176 bytes): the answer to lookup/create/mknod. */
    public static final StructLayout fuse_entry_param = structLayout(
            JAVA_LONG.withName("ino"),
            JAVA_LONG.withName("generation"),
            SysStat.stat.withName("attr"),
            JAVA_DOUBLE.withName("attr_timeout"),
            JAVA_DOUBLE.withName("entry_timeout")
    ).withName("fuse_entry_param");

    /** struct fuse_ctx (16 bytes): the caller of a request (fuse_req_ctx). */
    public static final StructLayout fuse_ctx = structLayout(
            JAVA_INT.withName("uid"),
            JAVA_INT.withName("gid"),
            JAVA_INT.withName("pid"),
            JAVA_INT.withName("umask")
    ).withName("fuse_ctx");

    /** struct fuse_forget_data (16 bytes): an element of forget_multi. */
    public static final StructLayout fuse_forget_data = structLayout(
            JAVA_LONG.withName("ino"),
            JAVA_LONG.withName("nlookup")
    ).withName("fuse_forget_data");

    /** struct fuse_lowlevel_ops: one function pointer per operation, NULL where not implemented. */
    public static final StructLayout fuse_lowlevel_ops = structLayout(
            ADDRESS.withName("init"),
            ADDRESS.withName("destroy"),
            ADDRESS.withName("lookup"),
            ADDRESS.withName("forget"),
            ADDRESS.withName("getattr"),
            ADDRESS.withName("setattr"),
            ADDRESS.withName("readlink"),
            ADDRESS.withName("mknod"),
            ADDRESS.withName("mkdir"),
            ADDRESS.withName("unlink"),
            ADDRESS.withName("rmdir"),
            ADDRESS.withName("symlink"),
            ADDRESS.withName("rename"),
            ADDRESS.withName("link"),
            ADDRESS.withName("open"),
            ADDRESS.withName("read"),
            ADDRESS.withName("write"),
            ADDRESS.withName("flush"),
            ADDRESS.withName("release"),
            ADDRESS.withName("fsync"),
            ADDRESS.withName("opendir"),
            ADDRESS.withName("readdir"),
            ADDRESS.withName("releasedir"),
            ADDRESS.withName("fsyncdir"),
            ADDRESS.withName("statfs"),
            ADDRESS.withName("setxattr"),
            ADDRESS.withName("getxattr"),
            ADDRESS.withName("listxattr"),
            ADDRESS.withName("removexattr"),
            ADDRESS.withName("access"),
            ADDRESS.withName("create"),
            ADDRESS.withName("getlk"),
            ADDRESS.withName("setlk"),
            ADDRESS.withName("bmap"),
            ADDRESS.withName("ioctl"),
            ADDRESS.withName("poll"),
            ADDRESS.withName("write_buf"),
            ADDRESS.withName("retrieve_reply"),
            ADDRESS.withName("forget_multi"),
            ADDRESS.withName("flock"),
            ADDRESS.withName("fallocate"),
            ADDRESS.withName("readdirplus"),
            ADDRESS.withName("copy_file_range"),
            ADDRESS.withName("lseek")
    ).withName("fuse_lowlevel_ops");

    // ---- the operations' C types, for upcall stubs (fuse_req_t, pointers: ADDRESS; fuse_ino_t, size_t, off_t,
    //      uint64_t, dev_t: JAVA_LONG; int, unsigned, mode_t: JAVA_INT)
    /** void (*init)(void *userdata, struct fuse_conn_info *conn) */
    public static final FunctionDescriptor OP_init = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS);
    /** void (*destroy)(void *userdata) */
    public static final FunctionDescriptor OP_destroy = FunctionDescriptor.ofVoid(ADDRESS);
    /** void (*lookup)(req, fuse_ino_t parent, const char *name) */
    public static final FunctionDescriptor OP_lookup = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*forget)(req, fuse_ino_t ino, uint64_t nlookup) */
    public static final FunctionDescriptor OP_forget = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG);
    /** void (*getattr)(req, fuse_ino_t ino, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_getattr = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*setattr)(req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_setattr = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS);
    /** void (*readlink)(req, fuse_ino_t ino) */
    public static final FunctionDescriptor OP_readlink = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG);
    /** void (*mknod)(req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) */
    public static final FunctionDescriptor OP_mknod = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG);
    /** void (*mkdir)(req, fuse_ino_t parent, const char *name, mode_t mode) */
    public static final FunctionDescriptor OP_mkdir = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT);
    /** void (*unlink)(req, fuse_ino_t parent, const char *name) */
    public static final FunctionDescriptor OP_unlink = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*rmdir)(req, fuse_ino_t parent, const char *name) */
    public static final FunctionDescriptor OP_rmdir = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*symlink)(req, const char *link, fuse_ino_t parent, const char *name) */
    public static final FunctionDescriptor OP_symlink = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*rename)(req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname, unsigned flags) */
    public static final FunctionDescriptor OP_rename = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT);
    /** void (*link)(req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) */
    public static final FunctionDescriptor OP_link = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
    /** void (*open)(req, fuse_ino_t ino, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_open = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*read)(req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_read = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
    /** void (*write)(req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_write = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
    /** void (*flush)(req, fuse_ino_t ino, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_flush = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*release)(req, fuse_ino_t ino, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_release = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*fsync)(req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_fsync = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS);
    /** void (*opendir)(req, fuse_ino_t ino, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_opendir = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*readdir)(req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_readdir = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
    /** void (*releasedir)(req, fuse_ino_t ino, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_releasedir = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*fsyncdir)(req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_fsyncdir = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS);
    /** void (*statfs)(req, fuse_ino_t ino) */
    public static final FunctionDescriptor OP_statfs = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG);
    /** void (*setxattr)(req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags) */
    public static final FunctionDescriptor OP_setxattr = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT);
    /** void (*getxattr)(req, fuse_ino_t ino, const char *name, size_t size) */
    public static final FunctionDescriptor OP_getxattr = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG);
    /** void (*listxattr)(req, fuse_ino_t ino, size_t size) */
    public static final FunctionDescriptor OP_listxattr = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG);
    /** void (*removexattr)(req, fuse_ino_t ino, const char *name) */
    public static final FunctionDescriptor OP_removexattr = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*access)(req, fuse_ino_t ino, int mask) */
    public static final FunctionDescriptor OP_access = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT);
    /** void (*create)(req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_create = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS);
    /** void (*getlk)(req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *lock) */
    public static final FunctionDescriptor OP_getlk = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, ADDRESS);
    /** void (*setlk)(req, fuse_ino_t ino, struct fuse_file_info *fi, struct flock *lock, int sleep) */
    public static final FunctionDescriptor OP_setlk = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT);
    /** void (*bmap)(req, fuse_ino_t ino, size_t blocksize, uint64_t idx) */
    public static final FunctionDescriptor OP_bmap = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    /** void (*ioctl)(req, fuse_ino_t ino, unsigned cmd, void *arg, struct fuse_file_info *fi, unsigned flags, const void *in_buf, size_t in_bufsz, size_t out_bufsz) */
    public static final FunctionDescriptor OP_ioctl = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG);
    /** void (*poll)(req, fuse_ino_t ino, struct fuse_file_info *fi, struct fuse_pollhandle *ph) */
    public static final FunctionDescriptor OP_poll = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, ADDRESS);
    /** void (*write_buf)(req, fuse_ino_t ino, struct fuse_bufvec *bufv, off_t off, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_write_buf = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*retrieve_reply)(req, void *cookie, fuse_ino_t ino, off_t offset, struct fuse_bufvec *bufv) */
    public static final FunctionDescriptor OP_retrieve_reply = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
    /** void (*forget_multi)(req, size_t count, struct fuse_forget_data *forgets) */
    public static final FunctionDescriptor OP_forget_multi = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS);
    /** void (*flock)(req, fuse_ino_t ino, struct fuse_file_info *fi, int op) */
    public static final FunctionDescriptor OP_flock = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT);
    /** void (*fallocate)(req, fuse_ino_t ino, int mode, off_t offset, off_t length, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_fallocate = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS);
    /** void (*readdirplus)(req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_readdirplus = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
    /** void (*copy_file_range)(req, fuse_ino_t ino_in, off_t off_in, struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out, struct fuse_file_info *fi_out, size_t len, int flags) */
    public static final FunctionDescriptor OP_copy_file_range = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT);
    /** void (*lseek)(req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi) */
    public static final FunctionDescriptor OP_lseek = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS);

    private static MethodHandle h(String name, FunctionDescriptor fd) {
        return NativeLibraries.optional(NativeLibraries.LIBFUSE3, "libfuse3", name, fd);
    }

    // ---- session
    /** struct fuse_session *fuse_session_new(struct fuse_args *args, const struct fuse_lowlevel_ops *op,
     *  size_t op_size, void *userdata) */
    public static final MethodHandle fuse_session_new = h("fuse_session_new",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    /** int fuse_session_mount(struct fuse_session *se, const char *mountpoint) */
    public static final MethodHandle fuse_session_mount = h("fuse_session_mount",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    /** void fuse_session_unmount(struct fuse_session *se) */
    public static final MethodHandle fuse_session_unmount = h("fuse_session_unmount",
            FunctionDescriptor.ofVoid(ADDRESS));
    /** void fuse_session_destroy(struct fuse_session *se) */
    public static final MethodHandle fuse_session_destroy = h("fuse_session_destroy",
            FunctionDescriptor.ofVoid(ADDRESS));
    /** int fuse_session_fd(struct fuse_session *se) */
    public static final MethodHandle fuse_session_fd = h("fuse_session_fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    /** int fuse_session_receive_buf(struct fuse_session *se, struct fuse_buf *buf) — bytes, or -errno */
    public static final MethodHandle fuse_session_receive_buf = h("fuse_session_receive_buf",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    /** void fuse_session_process_buf(struct fuse_session *se, const struct fuse_buf *buf) */
    public static final MethodHandle fuse_session_process_buf = h("fuse_session_process_buf",
            FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    /** int fuse_session_exited(struct fuse_session *se) */
    public static final MethodHandle fuse_session_exited = h("fuse_session_exited",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    /** void fuse_session_exit(struct fuse_session *se) */
    public static final MethodHandle fuse_session_exit = h("fuse_session_exit", FunctionDescriptor.ofVoid(ADDRESS));
    /** void fuse_session_reset(struct fuse_session *se) */
    public static final MethodHandle fuse_session_reset = h("fuse_session_reset", FunctionDescriptor.ofVoid(ADDRESS));
    /** int fuse_session_loop(struct fuse_session *se) */
    public static final MethodHandle fuse_session_loop = h("fuse_session_loop",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    /** int fuse_lowlevel_notify_inval_inode(struct fuse_session *se, fuse_ino_t ino, off_t off, off_t len) */
    public static final MethodHandle fuse_lowlevel_notify_inval_inode = h("fuse_lowlevel_notify_inval_inode",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG));

    // ---- requests
    /** void *fuse_req_userdata(fuse_req_t req) */
    public static final MethodHandle fuse_req_userdata = h("fuse_req_userdata",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    /** const struct fuse_ctx *fuse_req_ctx(fuse_req_t req) */
    public static final MethodHandle fuse_req_ctx = h("fuse_req_ctx", FunctionDescriptor.of(ADDRESS, ADDRESS));

    // ---- replies: each returns 0 or -errno, and frees the request
    /** int fuse_reply_err(fuse_req_t req, int err) — err is a positive errno, 0 for success */
    public static final MethodHandle fuse_reply_err = h("fuse_reply_err",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    /** void fuse_reply_none(fuse_req_t req) — for forget */
    public static final MethodHandle fuse_reply_none = h("fuse_reply_none", FunctionDescriptor.ofVoid(ADDRESS));
    /** int fuse_reply_entry(fuse_req_t req, const struct fuse_entry_param *e) */
    public static final MethodHandle fuse_reply_entry = h("fuse_reply_entry",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    /** int fuse_reply_create(fuse_req_t req, const struct fuse_entry_param *e, const struct fuse_file_info *fi) */
    public static final MethodHandle fuse_reply_create = h("fuse_reply_create",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    /** int fuse_reply_attr(fuse_req_t req, const struct stat *attr, double attr_timeout) */
    public static final MethodHandle fuse_reply_attr = h("fuse_reply_attr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_DOUBLE));
    /** int fuse_reply_readlink(fuse_req_t req, const char *link) */
    public static final MethodHandle fuse_reply_readlink = h("fuse_reply_readlink",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    /** int fuse_reply_open(fuse_req_t req, const struct fuse_file_info *fi) */
    public static final MethodHandle fuse_reply_open = h("fuse_reply_open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    /** int fuse_reply_write(fuse_req_t req, size_t count) */
    public static final MethodHandle fuse_reply_write = h("fuse_reply_write",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    /** int fuse_reply_buf(fuse_req_t req, const char *buf, size_t size) */
    public static final MethodHandle fuse_reply_buf = h("fuse_reply_buf",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    /** int fuse_reply_data(fuse_req_t req, struct fuse_bufvec *bufv, enum fuse_buf_copy_flags flags) */
    public static final MethodHandle fuse_reply_data = h("fuse_reply_data",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    /** int fuse_reply_iov(fuse_req_t req, const struct iovec *iov, int count) */
    public static final MethodHandle fuse_reply_iov = h("fuse_reply_iov",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    /** int fuse_reply_statfs(fuse_req_t req, const struct statvfs *stbuf) */
    public static final MethodHandle fuse_reply_statfs = h("fuse_reply_statfs",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    /** int fuse_reply_xattr(fuse_req_t req, size_t count) */
    public static final MethodHandle fuse_reply_xattr = h("fuse_reply_xattr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    /** int fuse_reply_lock(fuse_req_t req, const struct flock *lock) */
    public static final MethodHandle fuse_reply_lock = h("fuse_reply_lock",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    /** int fuse_reply_bmap(fuse_req_t req, uint64_t idx) */
    public static final MethodHandle fuse_reply_bmap = h("fuse_reply_bmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    /** int fuse_reply_poll(fuse_req_t req, unsigned revents) */
    public static final MethodHandle fuse_reply_poll = h("fuse_reply_poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    /** int fuse_reply_lseek(fuse_req_t req, off_t off) */
    public static final MethodHandle fuse_reply_lseek = h("fuse_reply_lseek",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    /** size_t fuse_add_direntry(fuse_req_t req, char *buf, size_t bufsize, const char *name,
     *  const struct stat *stbuf, off_t off) */
    public static final MethodHandle fuse_add_direntry = h("fuse_add_direntry",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    /** size_t fuse_add_direntry_plus(fuse_req_t req, char *buf, size_t bufsize, const char *name,
     *  const struct fuse_entry_param *e, off_t off) */
    public static final MethodHandle fuse_add_direntry_plus = h("fuse_add_direntry_plus",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
}
