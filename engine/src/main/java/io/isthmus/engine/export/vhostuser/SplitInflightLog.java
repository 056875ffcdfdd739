package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.VhostUser.LE_LONG;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * One split queue's part of the inflight region (INFLIGHT_SHMFD), in libvhost-user's layout and protocol, so that a
 * back end restarted under a reconnecting front end finds the requests its predecessor had taken but not completed
 * and runs them again, in the order they were taken; none is lost and none completes twice.
 *
 * <p>Layout (little-endian): {@code u64 features; u16 version; u16 desc_num; u16 last_batch_head; u16 used_idx;}
 * then per descriptor head {@code u8 inflight; u8 pad[5]; u16 next; u64 counter} (16 bytes). Protocol: a head is
 * marked in flight with an increasing counter when popped; before its used entry is written, it is recorded as
 * {@code last_batch_head}; after the used index is published, its mark is cleared and {@code used_idx} updated. A
 * crash between publishing and clearing is repaired on recovery (the used index in the ring differs from
 * {@code used_idx}: {@code last_batch_head} did complete). Stores are kept in program order with store-store
 * fences: what matters is the state the shared memory holds when the process dies, not another thread's view.
 *
 * <p>The front end keeps the region and could rewrite it: every index read from it is bounded by the queue size;
 * resubmitted heads are walked like any other chain. Thread use: the queue's IoThread. Memory: the session's
 * {@link InflightRegion}; the resubmit list is allocated once here.
 */
public final class SplitInflightLog {
    public static final int VERSION = 1;
    static final long OFF_VERSION = 8, OFF_DESC_NUM = 10, OFF_LAST_BATCH_HEAD = 12, OFF_USED_IDX = 14, OFF_DESC = 16;
    static final int DESC_STATE_SIZE = 16;

    private final MemorySegment region;
    private final int size;
    private long counter;
    private final long[] resubmit;
    private int resubmitCount;
    private int resubmitNext;

    public SplitInflightLog(MemorySegment region, int queueSize) throws VhostUserException {
        if (queueSize <= 0 || queueSize > VhostUser.MAX_QUEUE_SIZE
                || region.byteSize() < OFF_DESC + (long) DESC_STATE_SIZE * queueSize) {
            throw new VhostUserException("inflight region of " + region.byteSize() + " bytes too small for a queue of "
                    + queueSize);
        }
        this.region = region;
        this.size = queueSize;
        this.resubmit = new long[queueSize];
    }

    private long desc(int head) {
        return OFF_DESC + (long) DESC_STATE_SIZE * head;
    }

    /**
     * At queue start, with the used index the ring holds. A fresh region (or one written for another queue size)
     * is initialised and -1 returned: resume at SET_VRING_BASE's index. Otherwise the heads still marked in flight
     * are queued for resubmission (oldest first) and the avail index to resume at is returned: the used index plus
     * the number in flight, as libvhost-user does.
     */
    public int recover(int ringUsedIdx) {
        int version = region.get(LE_SHORT, OFF_VERSION) & 0xFFFF;
        int descNum = region.get(LE_SHORT, OFF_DESC_NUM) & 0xFFFF;
        if (version != VERSION || descNum != (size & 0xFFFF)) {
            region.asSlice(0, OFF_DESC + (long) DESC_STATE_SIZE * size).fill((byte) 0);
            region.set(LE_SHORT, OFF_DESC_NUM, (short) size);
            region.set(LE_SHORT, OFF_USED_IDX, (short) ringUsedIdx);
            VarHandle.storeStoreFence();
            region.set(LE_SHORT, OFF_VERSION, (short) VERSION);
            counter = 0;
            resubmitCount = resubmitNext = 0;
            return -1;
        }
        if ((region.get(LE_SHORT, OFF_USED_IDX) & 0xFFFF) != ringUsedIdx) {
            int last = region.get(LE_SHORT, OFF_LAST_BATCH_HEAD) & 0xFFFF;
            if (last < size) {
                region.set(ValueLayout.JAVA_BYTE, desc(last), (byte) 0); // it completed: the ring says so
            }
            VarHandle.storeStoreFence();
            region.set(LE_SHORT, OFF_USED_IDX, (short) ringUsedIdx);
        }
        resubmitCount = 0;
        for (int h = 0; h < size; h++) {
            if (region.get(ValueLayout.JAVA_BYTE, desc(h)) != 0) {
                resubmit[resubmitCount++] = h;
            }
        }
        // oldest first; the counters are the front end's bytes now: sort by (counter, head) without trusting them
        long[] keys = new long[resubmitCount];
        for (int i = 0; i < resubmitCount; i++) {
            int h = (int) resubmit[i];
            keys[i] = region.get(LE_LONG, desc(h) + 8);
        }
        Integer[] order = new Integer[resubmitCount];
        for (int i = 0; i < resubmitCount; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> keys[a] != keys[b] ? Long.compareUnsigned(keys[a], keys[b])
                : Long.compare(resubmit[a], resubmit[b]));
        long[] heads = new long[resubmitCount];
        long max = 0;
        for (int i = 0; i < resubmitCount; i++) {
            heads[i] = resubmit[order[i]];
            max = Math.max(max, keys[order[i]]);
        }
        System.arraycopy(heads, 0, resubmit, 0, resubmitCount);
        resubmitNext = 0;
        counter = resubmitCount > 0 ? max + 1 : 0;
        return (ringUsedIdx + resubmitCount) & 0xFFFF;
    }

    /** The next head to run again after a restart, or -1 when none is left. */
    public int nextResubmit() {
        return resubmitNext < resubmitCount ? (int) resubmit[resubmitNext++] : -1;
    }

    public int pendingResubmits() {
        return resubmitCount - resubmitNext;
    }

    /** A head was popped from the avail ring: mark it in flight. */
    public void popped(int head) {
        long at = desc(head);
        region.set(LE_LONG, at + 8, counter++);
        VarHandle.storeStoreFence();
        region.set(ValueLayout.JAVA_BYTE, at, (byte) 1);
    }

    /** Before the used entry of {@code head} is written. */
    public void beforeUsed(int head) {
        region.set(LE_SHORT, OFF_LAST_BATCH_HEAD, (short) head);
        VarHandle.storeStoreFence();
    }

    /** After the used index ({@code usedIdx}) that completes {@code head} was published. */
    public void afterUsed(int head, int usedIdx) {
        VarHandle.storeStoreFence();
        region.set(ValueLayout.JAVA_BYTE, desc(head), (byte) 0);
        VarHandle.storeStoreFence();
        region.set(LE_SHORT, OFF_USED_IDX, (short) usedIdx);
    }

    /** True if {@code head} is marked in flight (tests). */
    public boolean inFlight(int head) {
        return region.get(ValueLayout.JAVA_BYTE, desc(head)) != 0;
    }
}
