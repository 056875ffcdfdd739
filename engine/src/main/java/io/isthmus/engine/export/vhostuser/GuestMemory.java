package io.isthmus.engine.export.vhostuser;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The guest's memory as a front end shared it: an immutable set of mapped {@link GuestMemoryRegion}s, and the
 * one place where guest-physical addresses (and, for SET_VRING_ADDR, front-end user addresses) become native
 * memory. Every translation is overflow-checked and covers one region entirely: a range that leaves or crosses a
 * region is refused, so nothing outside the guest's regions is ever reached.
 *
 * <p>Zero-allocation lookups for the data path: {@link #find} gives a region index, then {@link #segment} and
 * {@link #offset} address it (bounded by the region's segment). Slices for rings are made once per queue start.
 *
 * <p>Thread use: immutable, so the IoThreads read it freely; a table change makes a new instance
 * ({@link #with}, {@link #without}) and the session closes regions that are gone once no queue uses them.
 */
public final class GuestMemory {
    public static final GuestMemory EMPTY = new GuestMemory(new GuestMemoryRegion[0]);
    /** Returned by {@link #find} and {@link #hostAddress} for an address range outside every region. */
    public static final int NOT_FOUND = -1;

    private final GuestMemoryRegion[] regions;
    private final long[] gpa;
    private final long[] size;
    private final MemorySegment[] segments;

    private GuestMemory(GuestMemoryRegion[] regions) {
        this.regions = regions;
        int n = regions.length;
        gpa = new long[n];
        size = new long[n];
        segments = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            gpa[i] = regions[i].guestPhysAddr;
            size[i] = regions[i].size;
            segments[i] = regions[i].segment();
        }
    }

    /** A memory made of {@code regions}, which must be pairwise disjoint (see {@link #checkDisjoint}). */
    public static GuestMemory of(GuestMemoryRegion... regions) throws VhostUserException {
        MemoryRegionDescriptor[] d = new MemoryRegionDescriptor[regions.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = regions[i].descriptor();
        }
        checkDisjoint(d, d.length);
        return new GuestMemory(regions.clone());
    }

    /**
     * Refuses a table whose regions overlap in guest-physical or in front-end user addresses (either would make a
     * translation ambiguous), or any region that is invalid on its own ({@link GuestMemoryRegion#check}).
     */
    public static void checkDisjoint(MemoryRegionDescriptor[] d, int count) throws VhostUserException {
        for (int i = 0; i < count; i++) {
            GuestMemoryRegion.check(d[i]);
        }
        for (int i = 0; i < count; i++) {
            for (int j = i + 1; j < count; j++) {
                if (overlap(d[i].guestPhysAddr(), d[i].size(), d[j].guestPhysAddr(), d[j].size())) {
                    throw new VhostUserException("memory regions overlap in guest addresses: " + d[i] + ", " + d[j]);
                }
                if (overlap(d[i].userAddr(), d[i].size(), d[j].userAddr(), d[j].size())) {
                    throw new VhostUserException("memory regions overlap in user addresses: " + d[i] + ", " + d[j]);
                }
            }
        }
    }

    /** Both ranges are non-empty and do not wrap (checked before). */
    private static boolean overlap(long a, long aLen, long b, long bLen) {
        return Long.compareUnsigned(a, b + bLen - 1) <= 0 && Long.compareUnsigned(b, a + aLen - 1) <= 0;
    }

    /** This memory plus {@code r}, which must not overlap any region here. */
    public GuestMemory with(GuestMemoryRegion r) throws VhostUserException {
        GuestMemoryRegion[] n = Arrays.copyOf(regions, regions.length + 1);
        n[regions.length] = r;
        return of(n);
    }

    /** This memory without region {@code index}; the caller closes that region when nothing uses it. */
    public GuestMemory without(int index) {
        GuestMemoryRegion[] n = new GuestMemoryRegion[regions.length - 1];
        System.arraycopy(regions, 0, n, 0, index);
        System.arraycopy(regions, index + 1, n, index, regions.length - index - 1);
        return new GuestMemory(n);
    }

    public int regionCount() {
        return regions.length;
    }

    public GuestMemoryRegion region(int i) {
        return regions[i];
    }

    /**
     * The index of the region that holds all of [gpa, gpa + len), or {@link #NOT_FOUND}. Unsigned 64-bit
     * arithmetic that cannot overflow: {@code len} must fit in what is left of the region after {@code gpa}.
     * {@code len} is unsigned (a u32 descriptor length fits); {@code len == 0} asks for {@code gpa} inside a region.
     */
    public int find(long gpa, long len) {
        for (int i = 0; i < regions.length; i++) {
            long off = gpa - this.gpa[i];
            if (Long.compareUnsigned(gpa, this.gpa[i]) >= 0 && Long.compareUnsigned(off, size[i]) < 0
                    && Long.compareUnsigned(len, size[i] - off) <= 0) {
                return i;
            }
        }
        return NOT_FOUND;
    }

    /** The mapped segment of region {@code i} (bounded by the region's size). */
    public MemorySegment segment(int i) {
        return segments[i];
    }

    /** Offset of {@code gpa} in region {@code i}'s segment; {@code gpa} must have been found in it. */
    public long offset(int i, long gpa) {
        return gpa - this.gpa[i];
    }

    /** The native address of [gpa, gpa + len), or {@link #NOT_FOUND} if that range is not inside one region. */
    public long hostAddress(long gpa, long len) {
        int i = find(gpa, len);
        return i < 0 ? NOT_FOUND : segments[i].address() + (gpa - this.gpa[i]);
    }

    /** A bounded slice for [gpa, gpa + len), or null. Allocates: for set-up (rings), not per request. */
    public MemorySegment slice(long gpa, long len) {
        int i = find(gpa, len);
        return i < 0 ? null : segments[i].asSlice(gpa - this.gpa[i], len);
    }

    /**
     * A bounded slice for [uaddr, uaddr + len) in the front end's address space (SET_VRING_ADDR), or null if that
     * range is not inside one region's user range.
     */
    public MemorySegment sliceByUserAddress(long uaddr, long len) {
        for (int i = 0; i < regions.length; i++) {
            long u = regions[i].userAddr;
            long off = uaddr - u;
            if (Long.compareUnsigned(uaddr, u) >= 0 && Long.compareUnsigned(off, size[i]) < 0
                    && Long.compareUnsigned(len, size[i] - off) <= 0) {
                return segments[i].asSlice(off, len);
            }
        }
        return null;
    }

    /** The guest-physical address of a front-end user address, or -1 (for logs and the used-ring log address). */
    public long userToGuest(long uaddr) {
        for (int i = 0; i < regions.length; i++) {
            long off = uaddr - regions[i].userAddr;
            if (Long.compareUnsigned(uaddr, regions[i].userAddr) >= 0 && Long.compareUnsigned(off, size[i]) < 0) {
                return gpa[i] + off;
            }
        }
        return -1;
    }

    /** Unmaps every region (session end or reset). */
    public void closeAll() {
        for (GuestMemoryRegion r : regions) {
            r.close();
        }
    }
}
