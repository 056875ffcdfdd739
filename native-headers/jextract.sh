#!/usr/bin/env bash
# The jextract command lines that regenerate the mechanical part of io.isthmus.bindings from the system headers
# (jextract 22+, https://jdk.java.net/jextract/). jextract is not installed on the build machines, so the
# checked-in classes are hand-written in jextract's shape (one class per header, layouts/constants/handles) and
# proven by probe.c instead; this script documents what would regenerate them, with the same symbol lists as
# include/*.h. Output goes to a scratch directory for comparison: never over the checked-in sources (the
# errno-capturing *_ERRNO handles, the variadic bindings, Bitfield, Cmsg, IoUringPrep, FuseUpcalls and Posix are
# the shims jextract cannot produce).
set -euo pipefail
command -v jextract >/dev/null || { echo "jextract.sh: jextract is not installed" >&2; exit 1; }
out=${1:-/tmp/isthmus-jextract}
mkdir -p "$out"
J=(jextract --output "$out" --target-package io.isthmus.bindings.gen -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64)

"${J[@]}" --header-class-name Unistd \
  --include-function close --include-function read --include-function write --include-function pread \
  --include-function pwrite --include-function lseek --include-function fsync --include-function fdatasync \
  --include-function ftruncate --include-function dup --include-function dup2 --include-function pipe2 \
  --include-function unlink --include-function access --include-function setsid --include-function chdir --include-function getpid \
  --include-function getuid --include-function getgid \
  --include-constant SEEK_SET --include-constant SEEK_CUR --include-constant SEEK_END \
  --include-constant SEEK_DATA --include-constant SEEK_HOLE /usr/include/unistd.h
"${J[@]}" --header-class-name SysUio --include-struct iovec \
  --include-function preadv --include-function pwritev /usr/include/x86_64-linux-gnu/sys/uio.h
"${J[@]}" --header-class-name Fcntl --include-struct flock \
  --include-function open --include-function openat --include-function fcntl --include-function fallocate \
  /usr/include/fcntl.h                                        # plus O_*, AT_*, F_*, FALLOC_FL_* constants
"${J[@]}" --header-class-name SysMman --include-function mmap --include-function munmap \
  --include-function madvise --include-function memfd_create /usr/include/x86_64-linux-gnu/sys/mman.h
"${J[@]}" --header-class-name SysEventfd --include-function eventfd /usr/include/x86_64-linux-gnu/sys/eventfd.h
"${J[@]}" --header-class-name SysStat --include-struct stat --include-function fstat --include-function stat \
  /usr/include/x86_64-linux-gnu/sys/stat.h
"${J[@]}" --header-class-name SysStatvfs --include-struct statvfs /usr/include/x86_64-linux-gnu/sys/statvfs.h
"${J[@]}" --header-class-name Time --include-struct timespec --include-function clock_gettime /usr/include/time.h
"${J[@]}" --header-class-name SysIoctl --include-function ioctl /usr/include/x86_64-linux-gnu/sys/ioctl.h
"${J[@]}" --header-class-name LinuxFs --include-constant BLKGETSIZE64 --include-constant BLKSSZGET \
  --include-constant BLKDISCARD --include-constant BLKZEROOUT --include-constant BLKPBSZGET /usr/include/linux/fs.h
"${J[@]}" --header-class-name SysSocket \
  --include-struct sockaddr --include-struct sockaddr_storage --include-struct msghdr --include-struct cmsghdr \
  --include-struct ucred --include-function socket --include-function socketpair --include-function bind \
  --include-function listen --include-function accept4 --include-function connect --include-function shutdown \
  --include-function setsockopt --include-function getsockopt --include-function getsockname \
  --include-function getpeername --include-function send --include-function recv --include-function sendmsg \
  --include-function recvmsg /usr/include/x86_64-linux-gnu/sys/socket.h
"${J[@]}" --header-class-name SysUn --include-struct sockaddr_un /usr/include/x86_64-linux-gnu/sys/un.h
"${J[@]}" --header-class-name NetinetIn --include-struct in_addr --include-struct sockaddr_in \
  --include-struct in6_addr --include-struct sockaddr_in6 /usr/include/netinet/in.h
"${J[@]}" --header-class-name Poll --include-struct pollfd --include-function poll /usr/include/poll.h
"${J[@]}" --header-class-name Signal --include-function kill /usr/include/signal.h
"${J[@]}" --header-class-name LinuxIoUring --include-struct io_uring_sqe --include-struct io_uring_cqe \
  --include-struct io_sqring_offsets --include-struct io_cqring_offsets --include-struct io_uring_params \
  --include-struct __kernel_timespec /usr/include/linux/io_uring.h
"${J[@]}" --header-class-name Liburing -l :liburing.so.2 \
  --include-function io_uring_setup --include-function io_uring_enter --include-function io_uring_register \
  --include-function io_uring_queue_init --include-function io_uring_queue_init_params \
  --include-function io_uring_queue_exit --include-function io_uring_submit --include-function io_uring_submit_and_wait \
  --include-function io_uring_register_buffers --include-function io_uring_unregister_buffers \
  --include-function io_uring_register_files --include-function io_uring_unregister_files \
  --include-function io_uring_register_eventfd --include-function io_uring_unregister_eventfd /usr/include/liburing.h
"${J[@]}" --header-class-name FuseLowlevel -l :libfuse3.so.3 -I /usr/include/fuse3 -DFUSE_USE_VERSION=35 \
  --include-struct fuse_lowlevel_ops --include-struct fuse_entry_param --include-struct fuse_ctx \
  --include-struct fuse_forget_data --include-struct fuse_file_info --include-struct fuse_conn_info \
  --include-struct fuse_buf --include-struct fuse_bufvec --include-struct fuse_args \
  --include-function fuse_session_new --include-function fuse_session_mount --include-function fuse_session_unmount \
  --include-function fuse_session_destroy --include-function fuse_session_fd \
  --include-function fuse_session_receive_buf --include-function fuse_session_process_buf \
  --include-function fuse_session_exited --include-function fuse_session_exit --include-function fuse_session_reset \
  --include-function fuse_reply_err --include-function fuse_reply_none --include-function fuse_reply_entry \
  --include-function fuse_reply_create --include-function fuse_reply_attr --include-function fuse_reply_open \
  --include-function fuse_reply_write --include-function fuse_reply_buf --include-function fuse_reply_data \
  --include-function fuse_reply_iov --include-function fuse_reply_statfs --include-function fuse_reply_lseek \
  --include-function fuse_opt_add_arg --include-function fuse_opt_free_args /usr/include/fuse3/fuse_lowlevel.h
echo "generated into $out (compare with bindings/src/main/java/io/isthmus/bindings)" >&2
