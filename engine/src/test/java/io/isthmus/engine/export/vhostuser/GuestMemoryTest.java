package io.isthmus.engine.export.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.Posix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
    static final long MB = 1 << 20;

    @Test
    void translatesInsideRegionsAndRefusesEverythingElse() throws Exception {
        GuestMemoryRegion a = GuestMemoryRegion.map(TestGuest.memfd(MB),
                new MemoryRegionDescriptor(0, MB, 0x7f0000000000L, 0));
        GuestMemoryRegion b = GuestMemoryRegion.map(TestGuest.memfd(2 * MB),
                new MemoryRegionDescriptor(0x100000000L, 2 * MB, 0x7f1000000000L, 0));
        GuestMemory m = GuestMemory.of(a, b);
        try {
            assertEquals(0, m.find(0, MB));
            assertEquals(0, m.find(MB - 1, 1));
            assertEquals(GuestMemory.NOT_FOUND, m.find(MB - 1, 2), "crosses the end of a region");
            assertEquals(GuestMemory.NOT_FOUND, m.find(MB, 1), "a hole between regions");
            assertEquals(1, m.find(0x100000000L + 5, 100));
            assertEquals(GuestMemory.NOT_FOUND, m.find(0x100000000L - 1, 2), "starts before a region");
            assertEquals(GuestMemory.NOT_FOUND, m.find(-1L, 1), "top of the address space");
            assertEquals(GuestMemory.NOT_FOUND, m.find(0x100000000L + 5, -1L), "length that wraps");
            assertEquals(GuestMemory.NOT_FOUND, m.find(0x100000000L + 5, 0xFFFFFFFFL), "u32 length past the end");
            assertEquals(a.segment().address() + 10, m.hostAddress(10, 4));
            assertEquals(GuestMemory.NOT_FOUND, m.hostAddress(MB, 4));
            MemorySegment s = m.slice(0x100000000L + 8, 16);
            assertEquals(16, s.byteSize());
            s.set(ValueLayout.JAVA_LONG, 0, 42);
            assertEquals(42, b.segment().get(ValueLayout.JAVA_LONG, 8));
            assertNotNull(m.sliceByUserAddress(0x7f1000000000L + 2 * MB - 16, 16));
            assertNull(m.sliceByUserAddress(0x7f1000000000L + 2 * MB - 16, 17));
            assertNull(m.sliceByUserAddress(0x100000000L, 16), "guest addresses are not user addresses");
            assertEquals(0x100000000L + 3, m.userToGuest(0x7f1000000000L + 3));
            assertEquals(-1, m.userToGuest(5));
        } finally {
            m.closeAll();
        }
        assertFalse(a.isMapped());
        assertThrows(IllegalStateException.class, () -> a.segment().get(ValueLayout.JAVA_BYTE, 0),
                "an unmapped region is never touched");
    }

    @Test
    void mapsAtAnUnalignedOffsetAndClosesTheFd() throws Exception {
        int fd = TestGuest.memfd(3 * 4096);
        int probe = Posix.dup(fd);
        MemorySegment seen;
        GuestMemoryRegion r = GuestMemoryRegion.map(fd, new MemoryRegionDescriptor(0, 4096, 0, 4096 + 100));
        try {
            assertEquals(-Errno.EBADF, Posix.fcntl(fd, Fcntl.F_GETFD, 0), "the fd is closed once mapped");
            r.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 7);
            seen = java.lang.foreign.Arena.ofAuto().allocate(1);
            assertEquals(1, Posix.pread(probe, seen, 1, 4096 + 100));
            assertEquals(7, seen.get(ValueLayout.JAVA_BYTE, 0), "byte 0 of the region is byte mmap_offset of the fd");
        } finally {
            r.close();
            Posix.close(probe);
        }
    }

    @Test
    void refusesRegionsTheirFdCannotBack() {
        int fd = TestGuest.memfd(MB);
        VhostUserException e = assertThrows(VhostUserException.class,
                () -> GuestMemoryRegion.map(fd, new MemoryRegionDescriptor(0, MB, 0, 4096)));
        assertTrue(e.getMessage().contains("larger than its fd"), e.getMessage());
        assertEquals(-Errno.EBADF, Posix.fcntl(fd, Fcntl.F_GETFD, 0), "closed on refusal too");
        assertThrows(VhostUserException.class, () -> GuestMemoryRegion.map(TestGuest.memfd(MB),
                new MemoryRegionDescriptor(0, 2 * MB, 0, 0)));
        assertThrows(VhostUserException.class, () -> GuestMemoryRegion.map(TestGuest.memfd(MB),
                new MemoryRegionDescriptor(0, MB, 0, Long.MAX_VALUE)), "offset + size overflows");
        assertThrows(VhostUserException.class, () -> GuestMemoryRegion.map(TestGuest.memfd(MB),
                new MemoryRegionDescriptor(0, 0, 0, 0)), "empty region");
        assertThrows(VhostUserException.class, () -> GuestMemoryRegion.map(TestGuest.memfd(MB),
                new MemoryRegionDescriptor(-4096, MB, 0, 0)), "guest range wraps");
        assertThrows(VhostUserException.class, () -> GuestMemoryRegion.map(TestGuest.memfd(MB),
                new MemoryRegionDescriptor(0, MB, -4096, 0)), "user range wraps");
        int efd = Posix.eventfd(0, 0);
        assertThrows(VhostUserException.class, () -> GuestMemoryRegion.map(efd, new MemoryRegionDescriptor(0, 8, 0, 0)),
                "not a memory fd");
        assertThrows(VhostUserException.class, () -> GuestMemoryRegion.map(-1, new MemoryRegionDescriptor(0, 8, 0, 0)));
    }

    @Test
    void refusesOverlappingTables() {
        MemoryRegionDescriptor a = new MemoryRegionDescriptor(0, MB, 0x10000000L, 0);
        MemoryRegionDescriptor gpaOverlap = new MemoryRegionDescriptor(MB - 1, MB, 0x20000000L, 0);
        MemoryRegionDescriptor uaddrOverlap = new MemoryRegionDescriptor(4 * MB, MB, 0x10000000L + MB - 1, 0);
        MemoryRegionDescriptor adjacent = new MemoryRegionDescriptor(MB, MB, 0x10000000L + MB, 0);
        assertThrows(VhostUserException.class,
                () -> GuestMemory.checkDisjoint(new MemoryRegionDescriptor[] {a, gpaOverlap}, 2));
        assertThrows(VhostUserException.class,
                () -> GuestMemory.checkDisjoint(new MemoryRegionDescriptor[] {uaddrOverlap, a}, 2));
        assertThrows(VhostUserException.class,
                () -> GuestMemory.checkDisjoint(new MemoryRegionDescriptor[] {a, a}, 2));
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(
                () -> GuestMemory.checkDisjoint(new MemoryRegionDescriptor[] {a, adjacent}, 2));
    }

    @Test
    void addsAndRemovesRegions() throws Exception {
        try (TestGuest g = TestGuest.create(0, MB, 0x1000000L)) {
            GuestMemoryRegion r = GuestMemoryRegion.map(TestGuest.memfd(MB),
                    new MemoryRegionDescriptor(MB, MB, 0x2000000L, 0));
            GuestMemory two = g.memory.with(r);
            assertEquals(2, two.regionCount());
            assertEquals(1, two.find(MB + 8, 8));
            GuestMemoryRegion dup = GuestMemoryRegion.map(TestGuest.memfd(MB),
                    new MemoryRegionDescriptor(MB / 2, MB, 0x3000000L, 0));
            assertThrows(VhostUserException.class, () -> two.with(dup));
            dup.close();
            GuestMemory one = two.without(0);
            assertEquals(1, one.regionCount());
            assertEquals(0, one.find(MB + 8, 8));
            assertEquals(GuestMemory.NOT_FOUND, one.find(8, 8));
            r.close();
        }
    }
}
