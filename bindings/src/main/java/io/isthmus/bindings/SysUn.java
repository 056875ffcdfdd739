package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.StructLayout;

/** {@code sys/un.h}: the UNIX-domain socket address. Layout only. */
public final class SysUn {
    private SysUn() {}

    /** struct sockaddr_un (110 bytes): sun_path holds at most 107 bytes plus the terminating NUL. */
    public static final StructLayout sockaddr_un = structLayout(
            JAVA_SHORT.withName("sun_family"),
            sequenceLayout(108, JAVA_BYTE).withName("sun_path")
    ).withName("sockaddr_un");
}
