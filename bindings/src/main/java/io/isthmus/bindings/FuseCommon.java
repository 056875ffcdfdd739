package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * {@code fuse3/fuse_common.h} (libfuse 3.14, {@code FUSE_USE_VERSION 35}): file info, connection info, buffers,
 * capability bits. {@code struct fuse_file_info}'s bitfields are the {@link Bitfield} constants below (their
 * storage is a padding in the layout). Handles are stubs throwing {@link UnsatisfiedLinkError} when libfuse3 is
 * absent. Any thread may call.
 */
public final class FuseCommon {
    private FuseCommon() {}

    /** struct fuse_file_info (40 bytes): flags, 8 one-bit flags + padding bits, fh, lock_owner, poll_events. */
    public static final StructLayout fuse_file_info = structLayout(
            JAVA_INT.withName("flags"),
            paddingLayout(12),                  // bitfields: writepage ... noflush, padding:24, padding2:32
            JAVA_LONG.withName("fh"),
            JAVA_LONG.withName("lock_owner"),
            JAVA_INT.withName("poll_events"),
            paddingLayout(4)
    ).withName("fuse_file_info");

    public static final Bitfield fuse_file_info_writepage = new Bitfield("fuse_file_info", "writepage", 32, 1);
    public static final Bitfield fuse_file_info_direct_io = new Bitfield("fuse_file_info", "direct_io", 33, 1);
    public static final Bitfield fuse_file_info_keep_cache = new Bitfield("fuse_file_info", "keep_cache", 34, 1);
    public static final Bitfield fuse_file_info_flush = new Bitfield("fuse_file_info", "flush", 35, 1);
    public static final Bitfield fuse_file_info_nonseekable = new Bitfield("fuse_file_info", "nonseekable", 36, 1);
    public static final Bitfield fuse_file_info_flock_release =
            new Bitfield("fuse_file_info", "flock_release", 37, 1);
    public static final Bitfield fuse_file_info_cache_readdir =
            new Bitfield("fuse_file_info", "cache_readdir", 38, 1);
    public static final Bitfield fuse_file_info_noflush = new Bitfield("fuse_file_info", "noflush", 39, 1);

    /** struct fuse_conn_info (128 bytes): negotiated in the init callback. */
    public static final StructLayout fuse_conn_info = structLayout(
            JAVA_INT.withName("proto_major"),
            JAVA_INT.withName("proto_minor"),
            JAVA_INT.withName("max_write"),
            JAVA_INT.withName("max_read"),
            JAVA_INT.withName("max_readahead"),
            JAVA_INT.withName("capable"),
            JAVA_INT.withName("want"),
            JAVA_INT.withName("max_background"),
            JAVA_INT.withName("congestion_threshold"),
            JAVA_INT.withName("time_gran"),
            sequenceLayout(22, JAVA_INT).withName("reserved")
    ).withName("fuse_conn_info");

    /** struct fuse_buf (40 bytes): memory or fd-backed buffer (FUSE_BUF_IS_FD). */
    public static final StructLayout fuse_buf = structLayout(
            JAVA_LONG.withName("size"),
            JAVA_INT.withName("flags"),
            paddingLayout(4),
            ADDRESS.withName("mem"),
            JAVA_INT.withName("fd"),
            paddingLayout(4),
            JAVA_LONG.withName("pos")
    ).withName("fuse_buf");

    /** struct fuse_bufvec with its one inline buffer (64 bytes); longer vectors append fuse_bufs. */
    public static final StructLayout fuse_bufvec = structLayout(
            JAVA_LONG.withName("count"),
            JAVA_LONG.withName("idx"),
            JAVA_LONG.withName("off"),
            sequenceLayout(1, fuse_buf).withName("buf")
    ).withName("fuse_bufvec");

    // enum fuse_buf_flags, enum fuse_buf_copy_flags
    public static final int FUSE_BUF_IS_FD = 1 << 1, FUSE_BUF_FD_SEEK = 1 << 2, FUSE_BUF_FD_RETRY = 1 << 3;
    public static final int FUSE_BUF_NO_SPLICE = 1 << 1, FUSE_BUF_FORCE_SPLICE = 1 << 2,
            FUSE_BUF_SPLICE_MOVE = 1 << 3, FUSE_BUF_SPLICE_NONBLOCK = 1 << 4;

    public static final int FUSE_CAP_ASYNC_READ = 1 << 0, FUSE_CAP_POSIX_LOCKS = 1 << 1,
            FUSE_CAP_ATOMIC_O_TRUNC = 1 << 3, FUSE_CAP_EXPORT_SUPPORT = 1 << 4, FUSE_CAP_DONT_MASK = 1 << 6,
            FUSE_CAP_SPLICE_WRITE = 1 << 7, FUSE_CAP_SPLICE_MOVE = 1 << 8, FUSE_CAP_SPLICE_READ = 1 << 9,
            FUSE_CAP_FLOCK_LOCKS = 1 << 10, FUSE_CAP_IOCTL_DIR = 1 << 11, FUSE_CAP_AUTO_INVAL_DATA = 1 << 12,
            FUSE_CAP_READDIRPLUS = 1 << 13, FUSE_CAP_READDIRPLUS_AUTO = 1 << 14, FUSE_CAP_ASYNC_DIO = 1 << 15,
            FUSE_CAP_WRITEBACK_CACHE = 1 << 16, FUSE_CAP_NO_OPEN_SUPPORT = 1 << 17,
            FUSE_CAP_PARALLEL_DIROPS = 1 << 18, FUSE_CAP_POSIX_ACL = 1 << 19, FUSE_CAP_HANDLE_KILLPRIV = 1 << 20,
            FUSE_CAP_CACHE_SYMLINKS = 1 << 23, FUSE_CAP_NO_OPENDIR_SUPPORT = 1 << 24,
            FUSE_CAP_EXPLICIT_INVAL_DATA = 1 << 25, FUSE_CAP_EXPIRE_ONLY = 1 << 26;
    public static final int FUSE_IOCTL_COMPAT = 1 << 0, FUSE_IOCTL_UNRESTRICTED = 1 << 1,
            FUSE_IOCTL_RETRY = 1 << 2, FUSE_IOCTL_DIR = 1 << 4, FUSE_IOCTL_MAX_IOV = 256;
    public static final int FUSE_MAJOR_VERSION = 3, FUSE_MINOR_VERSION = 14;

    private static MethodHandle h(String name, FunctionDescriptor fd) {
        return NativeLibraries.optional(NativeLibraries.LIBFUSE3, "libfuse3", name, fd);
    }

    /** int fuse_version(void) */
    public static final MethodHandle fuse_version = h("fuse_version", FunctionDescriptor.of(JAVA_INT));
    /** const char *fuse_pkgversion(void) */
    public static final MethodHandle fuse_pkgversion = h("fuse_pkgversion", FunctionDescriptor.of(ADDRESS));
}
