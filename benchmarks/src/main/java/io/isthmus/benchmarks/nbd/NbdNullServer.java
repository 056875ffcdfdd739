package io.isthmus.benchmarks.nbd;

import io.isthmus.engine.export.ExportArgs;
import io.isthmus.engine.export.ExportManager;
import io.isthmus.engine.export.ExportOptions;
import io.isthmus.engine.net.SocketAddress;
import io.isthmus.engine.export.nbd.NbdExportDriver;
import io.isthmus.engine.export.nbd.NbdServer;
import io.isthmus.engine.loop.IoThread;
import java.util.ArrayList;
import java.util.List;

/**
 * The side-by-side target for fio's nbd engine until the daemon's --blockdev null-co path is wired: an NBD
 * server on a UNIX socket exporting a {@link NullNode} as "disk", writable, on {@code threads} IoThreads.
 * Usage: {@code NbdNullServer SOCKET [SIZE_BYTES] [THREADS]}. Runs until killed.
 */
public final class NbdNullServer {
    private NbdNullServer() {
    }

    public static void main(String[] args) throws Exception {
        String socket = args[0];
        long size = args.length > 1 ? Long.parseLong(args[1]) : 1L << 30;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        IoThread main = IoThread.start("main-loop");
        List<IoThread> io = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            io.add(i == 0 ? main : IoThread.start("iothread" + i));
        }
        NullNode node = new NullNode("disk", size);
        ExportManager m = new ExportManager(n -> n.equals("disk") ? node : null,
                n -> io.stream().filter(t -> t.name().equals(n)).findFirst().orElse(null), () -> main, Runnable::run);
        NbdExportDriver d = new NbdExportDriver();
        m.registerDriver(d);
        d.setServer(NbdServer.start(SocketAddress.unix(socket), main, 100, 10, null, null));
        List<String> names = threads > 1 ? io.stream().map(IoThread::name).toList() : null;
        m.add(new ExportOptions("nbd", "e", "disk", true, false, names, threads > 1, false, false),
                ExportArgs.EMPTY);
        System.out.println("ready " + ProcessHandle.current().pid());
        Thread.currentThread().join();
    }
}
