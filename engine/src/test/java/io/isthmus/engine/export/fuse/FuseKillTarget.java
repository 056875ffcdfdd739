package io.isthmus.engine.export.fuse;

import io.isthmus.engine.loop.IoThread;
import java.util.List;

/**
 * Test-only daemon stand-in for {@link FuseAutoUnmountTest}: mounts the path in args[0] with auto_unmount, serves a
 * 1 MiB in-memory node, prints "ready" and waits to be killed.
 */
public final class FuseKillTarget {
    private FuseKillTarget() {}

    public static void main(String[] args) throws Exception {
        FuseTestNode node = new FuseTestNode(1 << 20, 1 << 20);
        IoThread t = IoThread.start("fuse-kill-target");
        FuseMount m = FuseMount.mount(args[0], FuseMount.Options.of(true, FuseMount.AllowOther.OFF));
        FuseServer.start(m, new FuseFile(node.access(), node, FuseExportConfig.of(true, false, m.allowOther())),
                List.of(t));
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
