package io.isthmus.engine.export.vhostuser;

/**
 * One memory region as a front end describes it (VhostUserMemoryRegion): the guest-physical range, where the
 * front end has it mapped in its own address space (used only to translate SET_VRING_ADDR addresses), and the
 * offset of the region in the fd that comes with the message. Values are raw u64s from the wire: nothing here is
 * validated; {@link GuestMemoryRegion#map} does that.
 */
public record MemoryRegionDescriptor(long guestPhysAddr, long size, long userAddr, long mmapOffset) {
    /** Bytes on the wire. */
    public static final int SIZE = 32;

    @Override
    public String toString() {
        return "region gpa 0x" + Long.toHexString(guestPhysAddr) + " size 0x" + Long.toHexString(size) + " uaddr 0x"
                + Long.toHexString(userAddr) + " offset 0x" + Long.toHexString(mmapOffset);
    }
}
