package io.isthmus.engine.export.vhostuser;

import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportContractTest;
import io.isthmus.engine.export.ExportDriver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The export contract for vhost-user-blk, with {@link MiniFrontEnd} as the client. An export serves one front end
 * at a time (as QSD), so the contract's clients of one export take turns: a client that does I/O while another
 * holds the export's session closes that one first (it reconnects when it needs the export again), which also
 * checks that the export listens again after a disconnect. A client the server dropped stays dropped.
 */
class VhostUserBlkExportContractTest extends ExportContractTest {
    private final Map<Path, VhostClient> active = new HashMap<>();

    @Override
    protected ExportDriver<?> startType() {
        return new VhostUserBlkExportDriver();
    }

    @Override
    protected void stopType() {
    }

    @Override
    protected Map<String, Object> typeMembers(String id) {
        return Map.of("addr", Map.of("type", "unix", "path", socket(id).toString()));
    }

    private Path socket(String id) {
        return dir.resolve(id + ".sock");
    }

    @Override
    protected Client connect(BlockExport export) {
        return new VhostClient(socket(export.id()));
    }

    private final class VhostClient implements Client {
        private final Path path;
        private MiniFrontEnd fe;
        private boolean dropped;

        VhostClient(Path path) {
            this.path = path;
        }

        private MiniFrontEnd session() throws IOException {
            if (dropped) {
                throw new IOException("dropped by the server");
            }
            VhostClient holder = active.get(path);
            if (holder != null && holder != this) {
                holder.release();
            }
            if (fe == null) {
                fe = new MiniFrontEnd(path);
                fe.setUp();
                active.put(path, this);
            }
            return fe;
        }

        private void release() {
            if (fe != null) {
                fe.close();
                fe = null;
            }
            active.remove(path, this);
        }

        private <T> T checked(IoCall<T> c) throws IOException {
            MiniFrontEnd f = session();
            try {
                return c.run(f);
            } catch (IOException e) {
                if (f.dropped(0)) {
                    dropped = true;
                    release();
                }
                throw e;
            }
        }

        /** virtio-blk reads whole sectors: a byte range is read as the sectors that cover it (as a kernel would). */
        @Override
        public byte[] read(long offset, int length) throws IOException {
            long start = offset & ~511L;
            long end = (offset + length + 511) & ~511L;
            byte[] sectors = checked(f -> f.read(start, (int) (end - start)));
            return java.util.Arrays.copyOfRange(sectors, (int) (offset - start), (int) (offset - start) + length);
        }

        @Override
        public void write(long offset, byte[] data) throws IOException {
            checked(f -> {
                f.write(offset, data);
                return null;
            });
        }

        @Override
        public long size() throws IOException {
            return checked(MiniFrontEnd::size);
        }

        @Override
        public boolean droppedWithin(long millis) {
            if (fe == null) {
                try {
                    fe = new MiniFrontEnd(path); // waits in the backlog, or is refused once the export is gone
                } catch (IOException e) {
                    dropped = true;
                    return true;
                }
            }
            if (fe.dropped((int) millis)) {
                dropped = true;
                release();
                return true;
            }
            return false;
        }

        @Override
        public void close() {
            release();
        }
    }

    private interface IoCall<T> {
        T run(MiniFrontEnd f) throws IOException;
    }
}
