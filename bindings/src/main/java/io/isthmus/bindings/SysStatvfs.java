package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.StructLayout;

/** {@code sys/statvfs.h}: {@code struct statvfs}, the argument of {@code fuse_reply_statfs}. Layout only. */
public final class SysStatvfs {
    private SysStatvfs() {}

    /** struct statvfs (112 bytes on x86-64). */
    public static final StructLayout statvfs = structLayout(
            JAVA_LONG.withName("f_bsize"),
            JAVA_LONG.withName("f_frsize"),
            JAVA_LONG.withName("f_blocks"),
            JAVA_LONG.withName("f_bfree"),
            JAVA_LONG.withName("f_bavail"),
            JAVA_LONG.withName("f_files"),
            JAVA_LONG.withName("f_ffree"),
            JAVA_LONG.withName("f_favail"),
            JAVA_LONG.withName("f_fsid"),
            JAVA_LONG.withName("f_flag"),
            JAVA_LONG.withName("f_namemax"),
            sequenceLayout(6, JAVA_INT).withName("__f_spare")
    ).withName("statvfs");
}
