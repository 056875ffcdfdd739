package io.isthmus.engine.export.vhostuser;

import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockOptions;
import io.isthmus.engine.block.throttle.ThrottleConfig;
import io.isthmus.engine.block.throttle.ThrottleGroup;
import io.isthmus.engine.export.BlockGraphNodes;
import io.isthmus.engine.export.ExportArgs;
import io.isthmus.engine.export.ExportManager;
import io.isthmus.engine.loop.IoThread;
import java.util.HashMap;
import java.util.Map;

/**
 * Test-only daemon stand-in for {@link VhostUserBlkRestartTest}: exports the image in args[0] writable over
 * vhost-user-blk on the socket args[1], through a throttle filter limiting writes to args[2] per second (so that
 * requests wait in the daemon, in flight, long enough to be caught by a kill), prints "ready" and waits to be
 * killed; meanwhile prints
 * "resubmitted=N" whenever the number of requests it ran again from the inflight region changes.
 */
public final class VhostUserKillTarget {
    private VhostUserKillTarget() {}

    public static void main(String[] args) throws Exception {
        BlockGraph graph = new BlockGraph();
        BlockOptions o = BlockOptions.of("file", "image");
        o.filename = args[0];
        graph.add(o);
        ThrottleConfig limits = new ThrottleConfig();
        limits.setAvg(ThrottleConfig.OPS_WRITE, Long.parseLong(args[2]));
        BlockOptions t = BlockOptions.of("throttle", "disk");
        t.fileRef = "image";
        t.throttleGroup = "tg";
        t.throttleGroupResolved = new ThrottleGroup("tg", limits);
        graph.add(t);
        IoThread main = IoThread.start("kill-target");
        ExportManager manager = new ExportManager(BlockGraphNodes.resolver(graph), n -> null, () -> main,
                Runnable::run);
        manager.registerDriver(new VhostUserBlkExportDriver());
        Map<String, Object> m = new HashMap<>();
        m.put("type", "vhost-user-blk");
        m.put("id", "v");
        m.put("node-name", "disk");
        m.put("writable", true);
        m.put("addr", Map.of("type", "unix", "path", args[1]));
        manager.add(ExportArgs.of(m));
        System.out.println("ready");
        System.out.flush();
        VhostUserBlkExport export = (VhostUserBlkExport) manager.find("v");
        long reported = 0;
        while (true) {
            long n = export.requestsResubmitted(0);
            if (n != reported) {
                reported = n;
                System.out.println("resubmitted=" + n);
                System.out.flush();
            }
            Thread.sleep(50);
        }
    }
}
