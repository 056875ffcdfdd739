package io.isthmus.engine.export;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockRequest;
import io.isthmus.engine.export.nbd.NbdBitmap;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * Test-only in-memory block node: native memory, allocation tracked per 64 KiB cluster (unallocated clusters
 * read as zeroes and report ZERO without DATA), optional dirty bitmaps marked by writes (published to NBD through
 * {@link #bitmap}). Requests complete synchronously inside submit (which exercises the callers' re-entrancy
 * handling). {@link #truncate} changes the length within the size it was created with and tells the listener; the
 * permissions asked for at attach are recorded. Any thread.
 */
public final class MemNode implements ExportableNode, NodeAccess {
    public static final int CLUSTER = 64 * 1024;
    private final String name;
    private final long capacity;
    private volatile long length;
    private final boolean readOnly;
    private final MemorySegment data;
    private final boolean[] allocated;
    private final Map<String, Bitmap> bitmaps = new HashMap<>();
    public volatile int failNextWithErrno;
    public volatile int attachCount;
    public volatile int lastPerms;
    public volatile int lastShared;
    private volatile NodeListener listener;

    public MemNode(String name, long length, boolean readOnly) {
        this.name = name;
        this.length = length;
        this.capacity = length;
        this.readOnly = readOnly;
        this.data = Arena.ofAuto().allocate(length, 4096);
        this.allocated = new boolean[(int) ((length + CLUSTER - 1) / CLUSTER)];
    }

    public Bitmap addBitmap(String bmName, boolean enabled) {
        Bitmap b = new Bitmap(bmName, enabled, allocated.length);
        bitmaps.put(bmName, b);
        return b;
    }

    /** The bitmap with this name, or null. */
    public Bitmap bitmap(String bmName) {
        return bitmaps.get(bmName);
    }

    public MemorySegment data() {
        return data;
    }

    @Override
    public String nodeName() {
        return name;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public NodeAccess attach(String user, int perms, int shared, boolean writethrough) throws EngineException {
        attachCount++;
        lastPerms = perms;
        lastShared = shared;
        return this;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public int requestAlignment() {
        return 1;
    }

    @Override
    public int maxTransfer() {
        return Integer.MAX_VALUE;
    }

    /** Changes the length (at most the size the node was created with) and tells the listener. */
    @Override
    public void truncate(long newLength) throws EngineException {
        if (newLength < 0 || newLength > capacity) {
            throw new EngineException("MemNode cannot grow past " + capacity);
        }
        length = newLength;
        NodeListener l = listener;
        if (l != null) {
            l.lengthChanged(newLength);
        }
    }

    @Override
    public void setListener(NodeListener l) {
        this.listener = l;
    }

    @Override
    public void detach() {
        attachCount--;
    }

    private void mark(long off, long len, boolean alloc) {
        for (long c = off / CLUSTER; c * CLUSTER < off + len; c++) {
            if (alloc) {
                allocated[(int) c] = true;
            }
            for (Bitmap b : bitmaps.values()) {
                if (b.enabled) {
                    b.dirty[(int) c] = true;
                }
            }
        }
    }

    @Override
    public void submit(BlockRequest r) {
        int f = failNextWithErrno;
        if (f != 0) {
            failNextWithErrno = 0;
            r.callback.done(r, -f);
            return;
        }
        switch (r.op) {
            case BlockRequest.READ -> {
                long pos = r.offset;
                for (int i = 0; i < r.iovCount; i++) {
                    long len = r.iovLen(i);
                    MemorySegment.copy(data, pos, MemorySegment.ofAddress(r.iovBase(i)).reinterpret(len), 0, len);
                    pos += len;
                }
            }
            case BlockRequest.WRITE -> {
                long pos = r.offset;
                for (int i = 0; i < r.iovCount; i++) {
                    long len = r.iovLen(i);
                    MemorySegment.copy(MemorySegment.ofAddress(r.iovBase(i)).reinterpret(len), 0, data, pos, len);
                    pos += len;
                }
                mark(r.offset, r.length, true);
            }
            case BlockRequest.WRITE_ZEROES, BlockRequest.DISCARD -> {
                data.asSlice(r.offset, r.length).fill((byte) 0);
                mark(r.offset, r.length, false);
                // whole clusters inside the range become unallocated
                for (long c = (r.offset + CLUSTER - 1) / CLUSTER; (c + 1) * CLUSTER <= r.offset + r.length; c++) {
                    allocated[(int) c] = false;
                }
            }
            case BlockRequest.FLUSH -> { }
            case BlockRequest.BLOCK_STATUS -> {
                int c = (int) (r.offset / CLUSTER);
                boolean a = allocated[c];
                long end = (long) (c + 1) * CLUSTER;
                while (end < r.offset + r.length && allocated[(int) (end / CLUSTER)] == a) {
                    end += CLUSTER;
                }
                r.statusLength = Math.min(end, r.offset + r.length) - r.offset;
                r.statusFlags = a ? (BlockRequest.STATUS_DATA | BlockRequest.STATUS_ALLOCATED) : BlockRequest.STATUS_ZERO;
                r.statusDepth = a ? 1 : 0;
            }
            default -> {
                r.callback.done(r, -22);
                return;
            }
        }
        r.callback.done(r, 0);
    }

    /** A dirty bitmap with one bit per cluster. */
    public static final class Bitmap implements NbdBitmap {
        private final String name;
        final boolean enabled;
        final boolean[] dirty;
        private boolean busy;

        Bitmap(String name, boolean enabled, int n) {
            this.name = name;
            this.enabled = enabled;
            this.dirty = new boolean[n];
        }

        public void setDirty(long off, long len) {
            for (long c = off / CLUSTER; c * CLUSTER < off + len; c++) {
                dirty[(int) c] = true;
            }
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public boolean isEnabled() {
            return enabled;
        }

        @Override
        public boolean isInconsistent() {
            return false;
        }

        @Override
        public synchronized boolean setBusy(boolean b) {
            if (b && busy) {
                return false;
            }
            busy = b;
            return true;
        }

        @Override
        public boolean isDirty(long offset) {
            return dirty[(int) (offset / CLUSTER)];
        }

        @Override
        public long runEnd(long offset, long end) {
            boolean d = isDirty(offset);
            long e = (offset / CLUSTER + 1) * CLUSTER;
            while (e < end && dirty[(int) (e / CLUSTER)] == d) {
                e += CLUSTER;
            }
            return Math.min(e, end);
        }
    }
}
