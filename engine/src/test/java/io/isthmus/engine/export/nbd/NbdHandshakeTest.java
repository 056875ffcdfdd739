package io.isthmus.engine.export.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The handshake state machine without sockets: well-formed and hostile clients. */
class NbdHandshakeTest {
    record Exp(String name, String description, long size, int flags, int requestAlignment, int maxTransfer,
            boolean allocationDepth, List<String> bitmapNames) implements NbdExportInfo {
    }

    static final Exp DISK = new Exp("disk", "a disk", 1 << 20, Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_SEND_FLUSH, 1,
            Nbd.MAX_BUFFER_SIZE, true, List.of("b0", "b1"));
    static final Exp ALIGNED = new Exp("aligned", null, 4096, Nbd.FLAG_HAS_FLAGS, 512, 65536, false, List.of());

    static final NbdExportTable TABLE = new NbdExportTable() {
        @Override
        public NbdExportInfo find(String name) {
            return name.equals("disk") ? DISK : name.equals("aligned") ? ALIGNED : null;
        }

        @Override
        public List<? extends NbdExportInfo> list() {
            return List.of(DISK, ALIGNED);
        }
    };

    // ---- client-side encoding helpers

    static byte[] opt(int option, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(16 + data.length);
        b.putLong(Nbd.OPTS_MAGIC).putInt(option).putInt(data.length).put(data);
        return b.array();
    }

    static byte[] flags(int f) {
        return ByteBuffer.allocate(4).putInt(f).array();
    }

    static byte[] infoData(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length);
        b.putInt(n.length).put(n).putShort((short) infos.length);
        for (int i : infos) {
            b.putShort((short) i);
        }
        return b.array();
    }

    static byte[] metaData(String name, String... queries) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        o.writeBytes(ByteBuffer.allocate(4).putInt(n.length).array());
        o.writeBytes(n);
        o.writeBytes(ByteBuffer.allocate(4).putInt(queries.length).array());
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            o.writeBytes(ByteBuffer.allocate(4).putInt(qb.length).array());
            o.writeBytes(qb);
        }
        return o.toByteArray();
    }

    record Rep(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    static List<Rep> replies(byte[] out) {
        ByteBuffer b = ByteBuffer.wrap(out);
        List<Rep> r = new ArrayList<>();
        while (b.remaining() >= 20) {
            assertEquals(Nbd.REP_MAGIC, b.getLong());
            int o = b.getInt(), t = b.getInt(), l = b.getInt();
            byte[] d = new byte[l];
            b.get(d);
            r.add(new Rep(o, t, d));
        }
        assertEquals(0, b.remaining(), "trailing bytes");
        return r;
    }

    static NbdHandshake started(boolean tls) {
        NbdHandshake h = new NbdHandshake(TABLE, tls);
        byte[] greet = h.takeOutput();
        ByteBuffer g = ByteBuffer.wrap(greet);
        assertEquals(18, greet.length);
        assertEquals(Nbd.INIT_MAGIC, g.getLong());
        assertEquals(Nbd.OPTS_MAGIC, g.getLong());
        assertEquals(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES, g.getShort());
        return h;
    }

    static NbdHandshake.Action feed(NbdHandshake h, byte[]... parts) {
        NbdHandshake.Action a = NbdHandshake.Action.NEED_INPUT;
        for (byte[] p : parts) {
            int off = 0;
            do {
                off += h.feed(p, off, p.length - off);
                a = h.process();
                assertTrue(h.buffered() <= NbdHandshake.MAX_INPUT, "buffered " + h.buffered());
            } while (a == NbdHandshake.Action.NEED_INPUT && off < p.length);
        }
        return a;
    }

    static final byte[] FIXED = flags(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES);

    @Test
    void goWithInfoRequestsEntersTransmission() {
        NbdHandshake h = started(false);
        NbdHandshake.Action a = feed(h, FIXED, opt(Nbd.OPT_STRUCTURED_REPLY, new byte[0]),
                opt(Nbd.OPT_GO, infoData("disk", Nbd.INFO_NAME, Nbd.INFO_BLOCK_SIZE)));
        assertEquals(NbdHandshake.Action.TRANSMISSION, a);
        List<Rep> r = replies(h.takeOutput());
        assertEquals(Nbd.REP_ACK, r.get(0).type());
        assertEquals(Nbd.REP_INFO, r.get(1).type()); // name
        assertEquals("\0\1disk", r.get(1).text());
        assertEquals(Nbd.REP_INFO, r.get(2).type()); // description
        ByteBuffer bs = ByteBuffer.wrap(r.get(3).data());
        assertEquals(Nbd.INFO_BLOCK_SIZE, bs.getShort());
        assertEquals(1, bs.getInt());
        assertEquals(4096, bs.getInt());
        assertEquals(Nbd.MAX_BUFFER_SIZE, bs.getInt());
        ByteBuffer ex = ByteBuffer.wrap(r.get(4).data());
        assertEquals(Nbd.INFO_EXPORT, ex.getShort());
        assertEquals(1 << 20, ex.getLong());
        assertEquals(DISK.flags() | Nbd.FLAG_SEND_DF, ex.getShort());
        assertEquals(Nbd.REP_ACK, r.get(5).type());
        assertEquals(DISK, h.export());
        assertTrue(h.structuredReplies());
    }

    @Test
    void exportNameWithZeroesPadding() {
        NbdHandshake h = started(false);
        byte[] name = "disk".getBytes();
        assertEquals(NbdHandshake.Action.TRANSMISSION, feed(h, flags(Nbd.FLAG_C_FIXED_NEWSTYLE),
                opt(Nbd.OPT_EXPORT_NAME, name)));
        byte[] out = h.takeOutput();
        assertEquals(8 + 2 + 124, out.length);
        assertEquals(1 << 20, ByteBuffer.wrap(out).getLong());
    }

    @Test
    void unknownExportNameDisconnects() {
        NbdHandshake h = started(false);
        assertEquals(NbdHandshake.Action.CLOSE, feed(h, FIXED, opt(Nbd.OPT_EXPORT_NAME, "nope".getBytes())));
        assertEquals("export not found", h.error());
    }

    @Test
    void listRepliesOneServerPerExportThenAck() {
        NbdHandshake h = started(false);
        assertEquals(NbdHandshake.Action.NEED_INPUT, feed(h, FIXED, opt(Nbd.OPT_LIST, new byte[0])));
        List<Rep> r = replies(h.takeOutput());
        assertEquals(3, r.size());
        assertEquals(Nbd.REP_SERVER, r.get(0).type());
        assertEquals("\0\0\0\4diska disk", r.get(0).text());
        assertEquals(Nbd.REP_ACK, r.get(2).type());
    }

    @Test
    void listWithPayloadIsInvalidAndConnectionStays() {
        NbdHandshake h = started(false);
        assertEquals(NbdHandshake.Action.NEED_INPUT, feed(h, FIXED, opt(Nbd.OPT_LIST, new byte[3])));
        Rep r = replies(h.takeOutput()).get(0);
        assertEquals(Nbd.REP_ERR_INVALID, r.type());
        assertEquals("option 'list' has unexpected length", r.text());
    }

    @Test
    void unknownOptionIsUnsupportedAndSkipped() {
        NbdHandshake h = started(false);
        assertEquals(NbdHandshake.Action.NEED_INPUT, feed(h, FIXED, opt(99, new byte[5000]),
                opt(Nbd.OPT_LIST, new byte[0])));
        List<Rep> r = replies(h.takeOutput());
        assertEquals(Nbd.REP_ERR_UNSUP, r.get(0).type());
        assertEquals("Unsupported option 99 (<unknown>)", r.get(0).text());
        assertEquals(Nbd.REP_SERVER, r.get(1).type());
    }

    @Test
    void oversizedOptionLengthDisconnectsBeforeAnyAllocation() {
        NbdHandshake h = started(false);
        byte[] hdr = ByteBuffer.allocate(16).putLong(Nbd.OPTS_MAGIC).putInt(Nbd.OPT_GO).putInt(-1).array();
        assertEquals(NbdHandshake.Action.CLOSE, feed(h, FIXED, hdr));
        assertTrue(h.error().startsWith("len (4294967295) is larger than max len"), h.error());
    }

    @Test
    void bigButLegalGoPayloadIsRefusedWithoutBuffering() {
        NbdHandshake h = started(false);
        int len = NbdHandshake.MAX_BUFFERED_OPTION + 1;
        byte[] hdr = ByteBuffer.allocate(16).putLong(Nbd.OPTS_MAGIC).putInt(Nbd.OPT_GO).putInt(len).array();
        feed(h, FIXED, hdr);
        byte[] chunk = new byte[64 * 1024];
        NbdHandshake.Action a = NbdHandshake.Action.NEED_INPUT;
        for (int sent = 0; sent < len; sent += chunk.length) {
            int n = Math.min(chunk.length, len - sent);
            assertEquals(n, h.feed(chunk, 0, n), "a skipped payload is never buffered");
            a = h.process();
            assertEquals(0, h.buffered());
        }
        assertEquals(NbdHandshake.Action.NEED_INPUT, a);
        assertEquals(Nbd.REP_ERR_TOO_BIG, replies(h.takeOutput()).get(0).type());
    }

    @Test
    void anOversizedStreamIsNeverBufferedBeyondTheLargestLegitimateInput() {
        // a GO payload of the largest buffered size that never completes, then a flood: the buffer stops at
        // one option payload plus one header, and feed takes no more until the handshake consumed some
        NbdHandshake h = started(false);
        feed(h, FIXED);
        int len = NbdHandshake.MAX_BUFFERED_OPTION;
        byte[] hdr = ByteBuffer.allocate(16).putLong(Nbd.OPTS_MAGIC).putInt(Nbd.OPT_LIST_META_CONTEXT)
                .putInt(len).array();
        assertEquals(16, h.feed(hdr, 0, 16));
        assertEquals(NbdHandshake.Action.NEED_INPUT, h.process());
        byte[] flood = new byte[256 * 1024];
        long taken = 0;
        for (int i = 0; i < 8; i++) {
            int n = h.feed(flood, 0, flood.length);
            taken += n;
            assertTrue(h.buffered() <= NbdHandshake.MAX_INPUT, "buffered " + h.buffered());
            assertTrue(h.bufferCapacity() <= NbdHandshake.MAX_INPUT, "capacity " + h.bufferCapacity());
        }
        assertEquals(NbdHandshake.MAX_INPUT, taken, "the payload and one more header, then nothing");
        assertEquals(0, h.feed(flood, 0, flood.length));
        // processing consumes the (malformed) payload, then reads the zero header that followed: bad magic
        assertEquals(NbdHandshake.Action.CLOSE, h.process());
        assertEquals("Bad magic received", h.error());
    }

    @Test
    void badMagicAndUnknownClientFlagsDisconnect() {
        NbdHandshake h = started(false);
        assertEquals(NbdHandshake.Action.CLOSE, feed(h, flags(0x80)));
        assertEquals("Unknown client flags 0x80 received", h.error());
        NbdHandshake h2 = started(false);
        byte[] bad = ByteBuffer.allocate(16).putLong(0x1234).putInt(1).putInt(0).array();
        assertEquals(NbdHandshake.Action.CLOSE, feed(h2, FIXED, bad));
        assertEquals("Bad magic received", h2.error());
    }

    @Test
    void nonFixedNewstyleAcceptsOnlyExportName() {
        NbdHandshake h = started(false);
        assertEquals(NbdHandshake.Action.CLOSE, feed(h, flags(0), opt(Nbd.OPT_LIST, new byte[0])));
        assertEquals("Unsupported option 3 (list)", h.error());
    }

    @Test
    void abortIsAcknowledgedThenClosed() {
        NbdHandshake h = started(false);
        assertEquals(NbdHandshake.Action.CLOSE, feed(h, FIXED, opt(Nbd.OPT_ABORT, new byte[0])));
        assertEquals(Nbd.REP_ACK, replies(h.takeOutput()).get(0).type());
        assertNull(h.error());
    }

    @Test
    void starttlsWithoutCredsIsPolicyAndWithCredsGatesOtherOptions() {
        NbdHandshake h = started(false);
        feed(h, FIXED, opt(Nbd.OPT_STARTTLS, new byte[0]));
        Rep r = replies(h.takeOutput()).get(0);
        assertEquals(Nbd.REP_ERR_POLICY, r.type());
        assertEquals("TLS not configured", r.text());

        NbdHandshake t = started(true);
        feed(t, FIXED, opt(Nbd.OPT_LIST, new byte[0]));
        Rep tr = replies(t.takeOutput()).get(0);
        assertEquals(Nbd.REP_ERR_TLS_REQD, tr.type());
        assertEquals("Option 0x3 not permitted before TLS", tr.text());
        assertEquals(NbdHandshake.Action.START_TLS, feed(t, opt(Nbd.OPT_STARTTLS, new byte[0])));
        assertEquals(Nbd.REP_ACK, replies(t.takeOutput()).get(0).type());
        t.tlsStarted();
        feed(t, opt(Nbd.OPT_STARTTLS, new byte[0]));
        assertEquals(Nbd.REP_ERR_INVALID, replies(t.takeOutput()).get(0).type());

        NbdHandshake t2 = started(true);
        assertEquals(NbdHandshake.Action.CLOSE, feed(t2, FIXED, opt(Nbd.OPT_EXPORT_NAME, "disk".getBytes())));
    }

    @Test
    void bytesAfterStarttlsAreLeftForTheTlsLayer() {
        NbdHandshake t = started(true);
        byte[] clientHello = {0x16, 3, 1, 0, 5};
        byte[] st = opt(Nbd.OPT_STARTTLS, new byte[0]);
        byte[] both = new byte[st.length + clientHello.length];
        System.arraycopy(st, 0, both, 0, st.length);
        System.arraycopy(clientHello, 0, both, st.length, clientHello.length);
        assertEquals(NbdHandshake.Action.START_TLS, feed(t, FIXED, both));
        assertArrayEquals(clientHello, t.takeUnconsumed());
    }

    @Test
    void infoErrors() {
        NbdHandshake h = started(false);
        feed(h, FIXED, opt(Nbd.OPT_INFO, infoData("nope")));
        Rep r = replies(h.takeOutput()).get(0);
        assertEquals(Nbd.REP_ERR_UNKNOWN, r.type());
        assertEquals("export 'nope' not present", r.text());
        // inconsistent request count
        byte[] bad = infoData("disk", 1, 3);
        bad[4 + 4 + 1] = 5;
        feed(h, opt(Nbd.OPT_INFO, bad));
        r = replies(h.takeOutput()).get(0);
        assertEquals(Nbd.REP_ERR_INVALID, r.type());
        assertEquals("Inconsistent lengths in option info", r.text());
        // name length pointing past the payload
        byte[] past = ByteBuffer.allocate(6).putInt(100).putShort((short) 0).array();
        feed(h, opt(Nbd.OPT_GO, past));
        assertEquals(Nbd.REP_ERR_INVALID, replies(h.takeOutput()).get(0).type());
        // OPT_INFO without block size on an aligned export
        feed(h, opt(Nbd.OPT_INFO, infoData("aligned")));
        List<Rep> rs = replies(h.takeOutput());
        assertEquals(Nbd.REP_ERR_BLOCK_SIZE_REQD, rs.get(rs.size() - 1).type());
        ByteBuffer bs = ByteBuffer.wrap(rs.get(0).data());
        bs.getShort();
        assertEquals(512, bs.getInt(), "OPT_INFO always advertises the real minimum");
    }

    @Test
    void metaContextsIdsAndPatterns() {
        NbdHandshake h = started(false);
        // SET before structured replies is invalid
        feed(h, FIXED, opt(Nbd.OPT_SET_META_CONTEXT, metaData("disk", "base:allocation")));
        Rep r = replies(h.takeOutput()).get(0);
        assertEquals(Nbd.REP_ERR_INVALID, r.type());
        assertEquals("request option 'set meta context' when structured reply is not negotiated", r.text());
        // LIST with no queries lists everything
        feed(h, opt(Nbd.OPT_LIST_META_CONTEXT, metaData("disk")));
        List<Rep> l = replies(h.takeOutput());
        assertEquals(5, l.size());
        assertEquals("\0\0\0\0base:allocation", l.get(0).text());
        assertEquals("\0\0\0\1qemu:allocation-depth", l.get(1).text());
        assertEquals("\0\0\0\2qemu:dirty-bitmap:b0", l.get(2).text());
        assertEquals("\0\0\0\3qemu:dirty-bitmap:b1", l.get(3).text());
        // LIST patterns: qemu:dirty-bitmap: (all bitmaps); unknown namespace ignored
        feed(h, opt(Nbd.OPT_LIST_META_CONTEXT, metaData("disk", "qemu:dirty-bitmap:", "x:y")));
        assertEquals(3, replies(h.takeOutput()).size());
        // SET with a pattern selects nothing, exact names select
        feed(h, opt(Nbd.OPT_STRUCTURED_REPLY, new byte[0]));
        h.takeOutput();
        feed(h, opt(Nbd.OPT_SET_META_CONTEXT, metaData("disk", "qemu:", "base:allocation",
                "qemu:dirty-bitmap:b1", "qemu:dirty-bitmap:nope")));
        l = replies(h.takeOutput());
        assertEquals(3, l.size());
        assertEquals("\0\0\0\3qemu:dirty-bitmap:b1", l.get(1).text());
        assertEquals(2, h.contexts().count);
        // GO on another export resets the contexts
        feed(h, opt(Nbd.OPT_GO, infoData("aligned")));
        assertEquals(0, h.contexts().count);
    }

    @Test
    void metaQueryLongerThanLimitIsSkippedAndLyingCountsAreInvalid() {
        NbdHandshake h = started(false);
        feed(h, FIXED, opt(Nbd.OPT_STRUCTURED_REPLY, new byte[0]));
        h.takeOutput();
        String huge = "base:" + "a".repeat(5000);
        feed(h, opt(Nbd.OPT_SET_META_CONTEXT, metaData("disk", huge, "base:allocation")));
        List<Rep> l = replies(h.takeOutput());
        assertEquals(2, l.size());
        byte[] lie = metaData("disk", "base:allocation");
        lie[4 + 4 + 3] = 9; // claims 9 queries
        feed(h, opt(Nbd.OPT_SET_META_CONTEXT, lie));
        Rep r = replies(h.takeOutput()).get(0);
        assertEquals(Nbd.REP_ERR_INVALID, r.type());
        assertEquals(0, h.contexts().count);
    }

    @Test
    void extendedHeadersRules() {
        NbdHandshake h = started(false);
        feed(h, FIXED, opt(Nbd.OPT_EXTENDED_HEADERS, new byte[0]));
        assertEquals(Nbd.REP_ACK, replies(h.takeOutput()).get(0).type());
        feed(h, opt(Nbd.OPT_STRUCTURED_REPLY, new byte[0]));
        assertEquals(Nbd.REP_ERR_EXT_HEADER_REQD, replies(h.takeOutput()).get(0).type());
        feed(h, opt(Nbd.OPT_EXTENDED_HEADERS, new byte[0]));
        assertEquals(Nbd.REP_ERR_INVALID, replies(h.takeOutput()).get(0).type());
        feed(h, opt(Nbd.OPT_INFO, infoData("disk")));
        List<Rep> l = replies(h.takeOutput());
        ByteBuffer ex = ByteBuffer.wrap(l.get(2).data());
        ex.getShort();
        ex.getLong();
        assertTrue((ex.getShort() & Nbd.FLAG_BLOCK_STAT_PAYLOAD) != 0);
        assertEquals(NbdHandshake.Action.CLOSE, feed(h, opt(Nbd.OPT_EXPORT_NAME, "disk".getBytes())));
        assertEquals("Extended headers already negotiated", h.error());
    }

    @Test
    void byteAtATimeGivesTheSameResult() {
        NbdHandshake h = started(false);
        byte[] all = concat(FIXED, opt(Nbd.OPT_STRUCTURED_REPLY, new byte[0]),
                opt(Nbd.OPT_GO, infoData("disk")), new byte[] {1, 2, 3});
        NbdHandshake.Action a = NbdHandshake.Action.NEED_INPUT;
        for (byte b : all) {
            if (a != NbdHandshake.Action.NEED_INPUT) {
                assertEquals(1, h.feed(new byte[] {b}, 0, 1));
                continue;
            }
            assertEquals(1, h.feed(new byte[] {b}, 0, 1));
            a = h.process();
        }
        assertEquals(NbdHandshake.Action.TRANSMISSION, a);
        assertArrayEquals(new byte[] {1, 2, 3}, h.takeUnconsumed(), "pipelined request bytes are kept");
        assertFalse(h.extendedHeaders());
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }
}
