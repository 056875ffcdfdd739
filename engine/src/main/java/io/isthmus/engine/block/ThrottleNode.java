package io.isthmus.engine.block;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.throttle.ThrottleGroup;
import io.isthmus.engine.block.throttle.ThrottleMember;
import io.isthmus.engine.loop.IoThread;

/**
 * {@code throttle} (QEMU's block/throttle.c): a filter over its {@code file} child whose reads, writes,
 * write-zeroes and discards pass through the leaky buckets of a {@link ThrottleGroup} (flush and block status
 * are not throttled, as in QEMU). A request over the limit is queued by the node's {@link ThrottleMember} for
 * the IoThread it came from and continues down the graph when the group releases it; no thread waits.
 *
 * <p>Thread use as {@link BlockNode}: requests on IoThreads (the member of the calling IoThread is found in a
 * small copy-on-write array, made on the thread's first request); open and close on the control thread.
 * Requests that arrive on a thread that is not an IoThread are not throttled.
 */
final class ThrottleNode extends BlockNode implements ThrottleMember.Resume {
    private final BlockNode file;
    private final boolean fileOwned;
    private final ThrottleGroup group;
    private final String groupName;
    /** One member per IoThread that sent requests; replaced whole (written by IoThreads under its lock). */
    private volatile ThrottleMember[] members = new ThrottleMember[0];

    private ThrottleNode(String nodeName, BlockOptions o, BlockNode file, boolean fileOwned, ThrottleGroup group) {
        super(nodeName, "throttle", o);
        this.file = file;
        this.fileOwned = fileOwned;
        this.group = group;
        this.groupName = o.throttleGroup;
    }

    /** throttle_open() / throttle_configure_tgm(): the group must exist. */
    static ThrottleNode open(String nodeName, BlockOptions o, BlockNode file, boolean fileOwned) throws EngineException {
        if (o.throttleGroup == null) {
            throw new EngineException("Please specify a throttle group");
        }
        if (o.throttleGroupResolved == null) {
            throw new EngineException("Throttle group '" + o.throttleGroup + "' does not exist");
        }
        ThrottleNode t = new ThrottleNode(nodeName, o, file, fileOwned, o.throttleGroupResolved);
        t.addChild("file", file, fileOwned);
        t.group.addUser();
        return t;
    }

    boolean ownsFile() {
        return fileOwned;
    }

    BlockNode file() {
        return file;
    }

    @Override
    public long length() {
        return file.length();
    }

    @Override
    public int requestAlignment() {
        return file.requestAlignment();
    }

    @Override
    public long maxTransfer() {
        return file.maxTransfer();
    }

    @Override
    public long actualSize() {
        return file.actualSize();
    }

    @Override
    public boolean hasImageInfo() {
        return file.hasImageInfo();
    }

    @Override
    public BlockNode filteredChild() {
        return file;
    }

    /** Always the json: form (QEMU's throttle has runtime options, so no plain filename). */
    @Override
    public String filename() {
        return "json:" + jsonOptions();
    }

    /** QDict order of QEMU's json: filename: throttle-group, driver, file. */
    @Override
    String jsonOptions() {
        return "{\"throttle-group\": " + "\"" + groupName.replace("\\", "\\\\").replace("\"", "\\\"") + "\"" + ", \"driver\": \"throttle\", \"file\": "
                + file.jsonOptions() + "}";
    }

    /** A filter: its child gets exactly what its parents asked for (bdrv_default_perms for a filtered child). */
    @Override
    int[] childPerm(BlockChild c, int perm, int shared) {
        return new int[] {perm & BlockPerm.ALL, shared & BlockPerm.ALL};
    }

    @Override
    void truncate(long newSize) throws EngineException {
        file.truncate(newSize);
    }

    @Override
    int readSync(long off, java.lang.foreign.MemorySegment dst) {
        return file.readSync(off, dst);
    }

    @Override
    protected void doRead(BlockRequest req) {
        throttled(req, false);
    }

    @Override
    protected void doWrite(BlockRequest req) {
        throttled(req, true);
    }

    @Override
    protected void doWriteZeroes(BlockRequest req) {
        throttled(req, true);
    }

    @Override
    protected void doDiscard(BlockRequest req) {
        throttled(req, true);
    }

    @Override
    protected void doFlush(BlockRequest req) {
        forward(req, file, req.offset);
    }

    @Override
    protected void doBlockStatus(BlockRequest req) {
        forward(req, file, req.offset);
    }

    private void throttled(BlockRequest req, boolean write) {
        ThrottleMember m = member();
        if (m == null || (!group.enabled() && m.queued() == 0) || m.admit(req, write, req.length)) {
            forward(req, file, req.offset);
        }
    }

    /** A queued request was released by the group (on its IoThread). */
    @Override
    public void resume(BlockRequest req) {
        forward(req, file, req.offset);
    }

    private ThrottleMember member() {
        IoThread t = IoThread.current();
        if (t == null) {
            return null;
        }
        for (ThrottleMember m : members) {
            if (m.thread() == t) {
                return m;
            }
        }
        synchronized (this) {
            for (ThrottleMember m : members) {
                if (m.thread() == t) {
                    return m;
                }
            }
            ThrottleMember m = group.join(t, this);
            ThrottleMember[] next = java.util.Arrays.copyOf(members, members.length + 1);
            next[next.length - 1] = m;
            members = next;
            return m;
        }
    }

    @Override
    void close() {
        synchronized (this) {
            for (ThrottleMember m : members) {
                m.close();
            }
            members = new ThrottleMember[0];
        }
        group.removeUser();
        super.close();
    }
}
