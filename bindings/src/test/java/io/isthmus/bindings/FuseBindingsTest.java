package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * libfuse3 bindings: every handle links, a session can be created from an ops table of upcall stubs and
 * destroyed without mounting, and an installed stub reaches its Java target when called as C would.
 */
@Timeout(20)
class FuseBindingsTest {
    static long seenIno;
    static int seenFlags;

    @SuppressWarnings("unused")
    static void getattr(MemorySegment req, long ino, MemorySegment fi) {
        seenIno = ino;
        seenFlags = fi.reinterpret(FuseCommon.fuse_file_info.byteSize()).get(JAVA_INT, 0);
    }

    @Test
    void everyHandleLinks() throws Throwable {
        assumeTrue(NativeLibraries.hasLibfuse3(), "libfuse3.so.3 is not installed (package libfuse3-3)");
        for (Class<?> c : new Class<?>[] {FuseCommon.class, FuseOpt.class, FuseLowlevel.class}) {
            for (Field f : c.getFields()) {
                if (Modifier.isStatic(f.getModifiers()) && f.getType() == MethodHandle.class) {
                    String name = f.getName();
                    assertTrue(NativeLibraries.LIBFUSE3.orElseThrow().find(name).isPresent(), "symbol " + name);
                }
            }
        }
        assertEquals(FuseCommon.FUSE_MAJOR_VERSION * 100 + FuseCommon.FUSE_MINOR_VERSION,
                (int) FuseCommon.fuse_version.invokeExact());
        MemorySegment v = (MemorySegment) FuseCommon.fuse_pkgversion.invokeExact();
        assertTrue(v.reinterpret(32).getString(0).startsWith("3."));
    }

    @Test
    void sessionFromAnOpsTableOfUpcalls() throws Throwable {
        assumeTrue(NativeLibraries.hasLibfuse3(), "libfuse3.so.3 is not installed (package libfuse3-3)");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(FuseOpt.fuse_args);
            assertEquals(0, (int) FuseOpt.fuse_opt_add_arg.invokeExact(args, arena.allocateFrom("isthmus-test")));
            assertEquals(1, args.get(JAVA_INT, 0));
            MemorySegment ops = arena.allocate(FuseLowlevel.fuse_lowlevel_ops);
            MethodHandle target = MethodHandles.lookup().findStatic(FuseBindingsTest.class, "getattr",
                    FuseUpcalls.descriptor("getattr").toMethodType());
            MemorySegment stub = FuseUpcalls.install(ops, "getattr", target, arena);
            assertEquals(stub.address(), ops.get(ADDRESS, FuseUpcalls.slot("getattr")).address());

            // call the stub the way libfuse would
            MethodHandle call = NativeLibraries.LINKER.downcallHandle(stub, FuseUpcalls.descriptor("getattr"));
            MemorySegment fi = arena.allocate(FuseCommon.fuse_file_info);
            fi.set(JAVA_INT, 0, Fcntl.O_RDWR);
            FuseCommon.fuse_file_info_direct_io.set(fi, true);
            call.invokeExact(MemorySegment.NULL, 42L, fi);
            assertEquals(42L, seenIno);
            assertEquals(Fcntl.O_RDWR, seenFlags);
            assertTrue(FuseCommon.fuse_file_info_direct_io.isSet(fi));
            assertTrue(!FuseCommon.fuse_file_info_keep_cache.isSet(fi));

            MemorySegment se = (MemorySegment) FuseLowlevel.fuse_session_new.invokeExact(args, ops,
                    FuseLowlevel.fuse_lowlevel_ops.byteSize(), MemorySegment.NULL);
            assertNotEquals(0L, se.address(), "fuse_session_new");
            assertEquals(0, (int) FuseLowlevel.fuse_session_exited.invokeExact(se));
            FuseLowlevel.fuse_session_exit.invokeExact(se);
            assertNotEquals(0, (int) FuseLowlevel.fuse_session_exited.invokeExact(se));
            FuseLowlevel.fuse_session_reset.invokeExact(se);
            assertEquals(0, (int) FuseLowlevel.fuse_session_exited.invokeExact(se));
            FuseLowlevel.fuse_session_destroy.invokeExact(se);
            FuseOpt.fuse_opt_free_args.invokeExact(args);
        }
        assertThrows(IllegalArgumentException.class, () -> FuseUpcalls.descriptor("no_such_op"));
    }
}
