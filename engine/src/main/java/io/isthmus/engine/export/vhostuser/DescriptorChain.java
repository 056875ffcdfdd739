package io.isthmus.engine.export.vhostuser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The result of walking one descriptor chain (split or packed ring): the chain's buffers as validated segments
 * of guest memory, device-readable ones first ({@code [0, readable)}), then device-writable ones
 * ({@code [readable, count)}). Each segment is a region index of the {@link GuestMemory} it was walked in, an
 * offset in that region and a length: all checked when the chain was walked, copied out of the ring once (the
 * guest may rewrite its descriptors meanwhile; these copies are what counts).
 *
 * <p>Preallocated per request slot with a fixed capacity and reused: no allocation per request. Thread use: the
 * IoThread that owns the queue. Memory: the arrays are heap; the guest memory is the session's.
 */
public final class DescriptorChain {
    // ---- why a walk failed (error)
    public static final int OK = 0, E_ADDRESS = 1, E_ZERO_LENGTH = 2, E_TOO_LONG = 3, E_NEXT_OUT_OF_RANGE = 4,
            E_INDIRECT_NOT_NEGOTIATED = 5, E_INDIRECT_WITH_NEXT = 6, E_INDIRECT_SIZE = 7, E_NESTED_INDIRECT = 8,
            E_DIRECTION = 9, E_TOO_MANY_SEGMENTS = 10, E_INDIRECT_IN_CHAIN = 11, E_BUFFER_ID = 12;

    /** Head descriptor index (split ring) or buffer id (packed ring): what the used entry names. */
    public int head;
    /** Descriptors the chain used in the ring (packed rings advance by this; 1 for an indirect chain). */
    public int ringDescriptors;
    public int count;
    public int readable;
    public long readableBytes;
    public long writableBytes;
    /** {@link #OK}, or why the walk stopped (then the segments are meaningless). */
    public int error;
    public GuestMemory memory = GuestMemory.EMPTY;
    private final int[] region;
    private final long[] offset;
    private final int[] length;

    public DescriptorChain(int capacity) {
        region = new int[capacity];
        offset = new long[capacity];
        length = new int[capacity];
    }

    public int capacity() {
        return region.length;
    }

    public int writable() {
        return count - readable;
    }

    void reset(int head, GuestMemory memory) {
        this.head = head;
        this.memory = memory;
        ringDescriptors = 0;
        count = 0;
        readable = 0;
        readableBytes = 0;
        writableBytes = 0;
        error = OK;
    }

    /** Appends a checked segment; false if the chain has no room left. */
    boolean add(int regionIndex, long regionOffset, int len, boolean writable) {
        if (count == region.length) {
            return false;
        }
        region[count] = regionIndex;
        offset[count] = regionOffset;
        length[count] = len;
        count++;
        if (writable) {
            writableBytes += len & 0xFFFFFFFFL;
        } else {
            readable++;
            readableBytes += len & 0xFFFFFFFFL;
        }
        return true;
    }

    /**
     * Checks one buffer from the ring (non-zero length, inside one region of {@link #memory}, readable buffers
     * before writable ones, room left) and appends it. Returns {@link #OK} or the error.
     */
    int addBuffer(long addr, int len, boolean writable) {
        if (len == 0) {
            return E_ZERO_LENGTH;
        }
        int r = memory.find(addr, len & 0xFFFFFFFFL);
        if (r < 0) {
            return E_ADDRESS;
        }
        if (!writable && writable() > 0) {
            return E_DIRECTION;
        }
        return add(r, memory.offset(r, addr), len, writable) ? OK : E_TOO_MANY_SEGMENTS;
    }

    /** Length of segment {@code i} (a u32). */
    public long length(int i) {
        return length[i] & 0xFFFFFFFFL;
    }

    /** Native address of segment {@code i}. */
    public long hostAddress(int i) {
        return memory.segment(region[i]).address() + offset[i];
    }

    /**
     * Copies up to {@code n} bytes of the device-readable area, from byte {@code skip} of it, into {@code dst}
     * at {@code dstOffset}; returns the bytes copied (fewer if the area ends first).
     */
    public int read(long skip, MemorySegment dst, long dstOffset, int n) {
        return copy(0, readable, skip, dst, dstOffset, n, false);
    }

    /**
     * Copies up to {@code n} bytes from {@code src} at {@code srcOffset} into the device-writable area, from byte
     * {@code skip} of it; returns the bytes copied.
     */
    public int write(long skip, MemorySegment src, long srcOffset, int n) {
        return copy(readable, count, skip, src, srcOffset, n, true);
    }

    private int copy(int from, int to, long skip, MemorySegment other, long otherOffset, int n, boolean toGuest) {
        int done = 0;
        for (int i = from; i < to && done < n; i++) {
            long len = length(i);
            if (skip >= len) {
                skip -= len;
                continue;
            }
            int k = (int) Math.min(len - skip, n - done);
            MemorySegment g = memory.segment(region[i]);
            if (toGuest) {
                MemorySegment.copy(other, otherOffset + done, g, offset[i] + skip, k);
            } else {
                MemorySegment.copy(g, offset[i] + skip, other, otherOffset + done, k);
            }
            done += k;
            skip = 0;
        }
        return done;
    }

    /** Writes one byte at byte {@code at} of the device-writable area (a virtio-blk status); false if past it. */
    public boolean writeByte(long at, byte value) {
        for (int i = readable; i < count; i++) {
            long len = length(i);
            if (at < len) {
                memory.segment(region[i]).set(ValueLayout.JAVA_BYTE, offset[i] + at, value);
                return true;
            }
            at -= len;
        }
        return false;
    }

    /**
     * Describes {@code bytes} of the readable ({@code writableArea} false) or writable area, from byte
     * {@code skip} of it, as native {@code struct iovec}s ({@code void *base; size_t len}, 16 bytes each) in
     * {@code iov}. Returns the number of entries, or -1 if more than {@code maxEntries} are needed or the area
     * is shorter than {@code skip + bytes}. This is how the glue fills a block request's iovecs: no copy of data.
     */
    public int toIovecs(MemorySegment iov, int maxEntries, boolean writableArea, long skip, long bytes) {
        int from = writableArea ? readable : 0;
        int to = writableArea ? count : readable;
        int n = 0;
        for (int i = from; i < to && bytes > 0; i++) {
            long len = length(i);
            if (skip >= len) {
                skip -= len;
                continue;
            }
            if (n == maxEntries) {
                return -1;
            }
            long k = Math.min(len - skip, bytes);
            iov.set(ValueLayout.JAVA_LONG, n * 16L, hostAddress(i) + skip);
            iov.set(ValueLayout.JAVA_LONG, n * 16L + 8, k);
            n++;
            bytes -= k;
            skip = 0;
        }
        return bytes == 0 ? n : -1;
    }

    public static String errorName(int error) {
        return switch (error) {
            case OK -> "ok";
            case E_ADDRESS -> "buffer outside guest memory";
            case E_ZERO_LENGTH -> "zero-length buffer";
            case E_TOO_LONG -> "chain longer than the queue (a loop?)";
            case E_NEXT_OUT_OF_RANGE -> "next descriptor index out of range";
            case E_INDIRECT_NOT_NEGOTIATED -> "indirect descriptor without INDIRECT_DESC";
            case E_INDIRECT_WITH_NEXT -> "indirect descriptor with NEXT";
            case E_INDIRECT_SIZE -> "indirect table size not a non-zero multiple of 16 within limits";
            case E_NESTED_INDIRECT -> "nested indirect table";
            case E_DIRECTION -> "device-readable buffer after a device-writable one";
            case E_TOO_MANY_SEGMENTS -> "more buffers than a request can hold";
            case E_INDIRECT_IN_CHAIN -> "indirect descriptor inside a chain";
            case E_BUFFER_ID -> "buffer id not below the queue size";
            default -> "error " + error;
        };
    }
}
