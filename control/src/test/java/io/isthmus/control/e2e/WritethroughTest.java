package io.isthmus.control.e2e;

import static io.isthmus.control.e2e.Tools.nbdUri;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Done-when: a write acknowledged by a {@code writethrough=on} export is durable, and so is one sent with
 * FUA or followed by FLUSH on an ordinary export. Observed from outside through the page cache: Isthmus
 * flushes with io_uring (IORING_OP_FSYNC), which strace cannot see, but once fdatasync has returned none
 * of the file's pages are dirty or under writeback (cachestat(2)). The client is an interactive qemu-io
 * that stays connected, so its exit-time flush comes only after each measurement. The control case, a plain
 * write on an ordinary export, must leave dirty pages: that shows the observation tells the cases apart.
 */
@Timeout(60)
class WritethroughTest {
    private static final String WROTE = "bytes at offset";

    @Test
    void writethroughFuaAndFlushLeaveNoDirtyPages() throws Exception {
        Tools.require("qemu-io");
        assumeTrue(PageCacheState.supported(), "cachestat(2) is called with x86_64 syscall numbers");
        Path dir = Tools.tempDir();
        Daemon d = null;
        try {
            Path wt = Tools.sparseFile(dir, "wt.img", 8 << 20);
            Path wb = Tools.sparseFile(dir, "wb.img", 8 << 20);
            Path nbd = dir.resolve("nbd.sock");
            d = Daemon.isthmus(dir, List.of(
                    "--blockdev", "driver=file,node-name=fwt,filename=" + wt,
                    "--blockdev", "driver=file,node-name=fwb,filename=" + wb,
                    "--nbd-server", "addr.type=unix,addr.path=" + nbd,
                    "--export", "type=nbd,id=ewt,node-name=fwt,name=wt,writable=on,writethrough=on",
                    "--export", "type=nbd,id=ewb,node-name=fwb,name=wb,writable=on"), nbd);
            // qemu-io defaults to cache=writethrough (FUA on every write): writeback sends plain writes
            List<String> raw = List.of("-f", "raw", "-t", "writeback");

            try (InteractiveQemuIo c = new InteractiveQemuIo(raw, nbdUri(nbd, "wb")).awaitOpen()) {
                // control: a plain write on an ordinary export leaves the pages dirty
                c.command("write -P 0x41 0 1M", WROTE);
                PageCacheState.Stat s = PageCacheState.of(wb, 0, 0);
                assertTrue(s.cached() >= 256, "the written pages are in the page cache: " + s);
                assumeTrue(s.dirty() + s.writeback() > 0,
                        "the kernel wrote the control pages back by itself; the observation is inconclusive: " + s);

                // FUA: the write is flushed before it is acknowledged (fdatasync cleans the whole file)
                c.command("write -f -P 0x44 2M 1M", WROTE);
                s = PageCacheState.of(wb, 0, 0);
                assertEquals(0, s.dirty() + s.writeback(), "a FUA write left dirty pages: " + s);

                // FLUSH
                c.command("write -P 0x45 4M 1M", WROTE);
                s = PageCacheState.of(wb, 0, 0);
                assumeTrue(s.dirty() + s.writeback() > 0, "the kernel wrote the pages back by itself: " + s);
                c.command("flush");
                s = PageCacheState.of(wb, 0, 0);
                assertEquals(0, s.dirty() + s.writeback(), "NBD_CMD_FLUSH left dirty pages: " + s);
            }

            try (InteractiveQemuIo c = new InteractiveQemuIo(raw, nbdUri(nbd, "wt")).awaitOpen()) {
                // writethrough=on: every acknowledged write is flushed, without FUA from the client
                c.command("write -P 0x42 0 1M", WROTE);
                PageCacheState.Stat s = PageCacheState.of(wt, 0, 0);
                assertTrue(s.cached() >= 256, "the written pages are in the page cache: " + s);
                assertEquals(0, s.dirty() + s.writeback(), "writethrough export left dirty pages: " + s);
                c.command("write -z 3M 512k", WROTE);
                c.command("write -P 0x43 5M 4k", WROTE);
                s = PageCacheState.of(wt, 0, 0);
                assertEquals(0, s.dirty() + s.writeback(), "writethrough export left dirty pages: " + s);
            }

            // and what was written is there
            QemuIoDataTest.assertNoFailure(Tools.qemuIo(List.of("-r", "-U", "-f", "raw"), wt.toString(),
                    "read -P 0x42 0 1M", "read -P 0 3M 512k", "read -P 0x43 5M 4k").ok());
            QemuIoDataTest.assertNoFailure(Tools.qemuIo(List.of("-r", "-U", "-f", "raw"), wb.toString(),
                    "read -P 0x41 0 1M", "read -P 0x44 2M 1M", "read -P 0x45 4M 1M").ok());
        } finally {
            if (d != null) {
                d.close();
            }
            Tools.deleteTree(dir);
        }
    }
}
