package io.isthmus.engine.export.nbd;

import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportContractTest;
import io.isthmus.engine.export.ExportDriver;
import io.isthmus.engine.net.SocketAddress;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The export contract for NBD: the daemon's NBD server on a UNIX socket, clients speaking NBD over it. */
class NbdExportContractTest extends ExportContractTest {
    private final NbdExportDriver nbd = new NbdExportDriver();
    private NbdServer server;
    private Path socket;

    @Override
    protected ExportDriver<?> startType() throws Exception {
        socket = dir.resolve("nbd.sock");
        server = NbdServer.start(SocketAddress.unix(socket.toString()), main, NbdServer.DEFAULT_MAX_CONNECTIONS,
                NbdServer.DEFAULT_HANDSHAKE_MAX_SECONDS, null, null);
        server.setBitmapLookup(NbdBitmaps.inGraph(graph));
        nbd.setServer(server);
        return nbd;
    }

    @Override
    protected void stopType() {
        if (server != null) {
            nbd.setServer(null);
            server.stop();
        }
    }

    /** Every export under its own NBD name (the default, the node-name, would clash between exports of one node). */
    @Override
    protected Map<String, Object> typeMembers(String id) {
        return Map.of("name", "nbd-" + id);
    }

    @Override
    protected Client connect(BlockExport export) throws Exception {
        return new NbdClient(socket, ((NbdExport) export).name());
    }

    /** Fixed newstyle, NBD_OPT_GO, simple replies: the size from NBD_INFO_EXPORT. */
    private static final class NbdClient implements Client {
        private final RawNbdClient raw;
        private final long size;
        private long cookie;

        NbdClient(Path socket, String name) throws IOException {
            raw = new RawNbdClient(socket);
            raw.read(18);
            raw.write(NbdHandshakeTest.flags(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES));
            raw.write(NbdHandshakeTest.opt(Nbd.OPT_GO, NbdHandshakeTest.infoData(name)));
            long sz = -1;
            while (true) {
                ByteBuffer h = ByteBuffer.wrap(raw.read(20));
                h.getLong();
                h.getInt();
                int type = h.getInt();
                ByteBuffer payload = ByteBuffer.wrap(raw.read(h.getInt()));
                if (type == Nbd.REP_INFO && payload.getShort() == Nbd.INFO_EXPORT) {
                    sz = payload.getLong();
                } else if (type != Nbd.REP_INFO) {
                    if (type != Nbd.REP_ACK) {
                        throw new IOException("NBD_OPT_GO refused: 0x" + Integer.toHexString(type));
                    }
                    break;
                }
            }
            size = sz;
        }

        private void reply() throws IOException {
            int err = raw.chunk().error();
            if (err != 0) {
                throw new IOException("NBD error " + err);
            }
        }

        @Override
        public byte[] read(long offset, int length) throws IOException {
            raw.request(0, Nbd.CMD_READ, ++cookie, offset, length, null);
            reply();
            return raw.read(length);
        }

        @Override
        public void write(long offset, byte[] data) throws IOException {
            raw.request(0, Nbd.CMD_WRITE, ++cookie, offset, data.length, data);
            reply();
        }

        @Override
        public long size() {
            return size; // NBD advertises the size once, in the handshake
        }

        @Override
        public boolean droppedWithin(long millis) throws Exception {
            CompletableFuture<Boolean> eof = CompletableFuture.supplyAsync(() -> {
                try {
                    return raw.closedByServer();
                } catch (IOException e) {
                    return true;
                }
            });
            try {
                return eof.get(millis, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                return false;
            }
        }

        @Override
        public void close() throws IOException {
            raw.close();
        }
    }
}
