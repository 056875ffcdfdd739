package io.isthmus.engine.export.nbd;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The server side of the fixed-newstyle NBD handshake as a pure state machine: bytes from the client go in
 * ({@link #feed}), reply bytes come out ({@link #takeOutput}), and {@link #process} says what the connection
 * must do next. No I/O, no threads: one instance per connection, used by its IoThread (or a test).
 *
 * <p>Behaviour follows QEMU's {@code nbd_negotiate_options} (check order, reply types and message texts).
 * Every length from the client is checked before it is used: option payloads larger than 32 MiB end the
 * connection; payloads of options that must be empty, and of unknown options, are skipped as they arrive
 * without being buffered; payloads of the options that carry data (INFO, GO, LIST/SET_META_CONTEXT) are
 * buffered only up to {@link #MAX_BUFFERED_OPTION} (a larger one is skipped and refused with
 * NBD_REP_ERR_TOO_BIG; QEMU would read it in full).
 */
public final class NbdHandshake {
    /** Largest option payload that is buffered and parsed (INFO/GO/meta-context options). */
    public static final int MAX_BUFFERED_OPTION = 1024 * 1024;
    /** An option header: magic, option, length. */
    static final int OPTION_HEADER_SIZE = 16;
    /**
     * The most input the handshake ever buffers: one buffered option payload and the next header. A client
     * that pipelines more waits (the socket's own buffer holds it) until the handshake has consumed some.
     */
    public static final int MAX_INPUT = MAX_BUFFERED_OPTION + OPTION_HEADER_SIZE;

    /** What the connection does after {@link #process}. */
    public enum Action {
        /** Send the output (if any) and feed more input. */
        NEED_INPUT,
        /** Send the output, then switch the socket to TLS (server side); then {@link #tlsStarted()}. */
        START_TLS,
        /** Send the output, then enter transmission with {@link #export()}, {@link #contexts()}, ... */
        TRANSMISSION,
        /** Send the output (best effort), then close: the client aborted or broke the protocol. */
        CLOSE
    }

    private enum State { CLIENT_FLAGS, OPTION_HEADER, OPTION_PAYLOAD, SKIP, DONE }

    private final NbdExportTable exports;
    private final boolean tlsRequired;
    private boolean tlsActive;

    private State state = State.CLIENT_FLAGS;
    private byte[] in = new byte[256];
    private int inStart, inEnd;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

    private boolean fixedNewstyle, noZeroes, structured, extended;
    private int option;
    private long optLength;
    private long skipRemaining;
    private Runnable afterSkip;

    private final NbdMetaContexts contexts = new NbdMetaContexts();
    private NbdExportInfo chosen;
    private int checkAlign;
    private int transmissionFlags;
    private String error;

    /**
     * Starts a handshake: the greeting is already in the output.
     *
     * @param tlsRequired the server has TLS credentials (every option but STARTTLS/ABORT needs TLS first)
     */
    public NbdHandshake(NbdExportTable exports, boolean tlsRequired) {
        this.exports = exports;
        this.tlsRequired = tlsRequired;
        putLong(Nbd.INIT_MAGIC);
        putLong(Nbd.OPTS_MAGIC);
        putShort(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
    }

    // =====================================================================================================
    // input and output

    /**
     * Appends client bytes, at most as many as fit under {@link #MAX_INPUT}; returns how many were taken. The
     * caller processes ({@link #process}) and feeds the rest while the answer is {@link Action#NEED_INPUT}:
     * after {@code process} at most one incomplete message is buffered (under 16 header bytes, or an option
     * payload of at most {@link #MAX_BUFFERED_OPTION} bytes still arriving), so at least one byte always fits
     * and the buffer never holds more than the largest legitimate handshake input. Once the handshake ended
     * (TLS or transmission), the bytes that did not fit belong to the next layer, as {@link #takeUnconsumed}'s do.
     */
    public int feed(byte[] data, int off, int len) {
        int live = inEnd - inStart;
        int n = Math.min(len, MAX_INPUT - live);
        if (n <= 0) {
            return 0;
        }
        if (inEnd + n > in.length) {
            if (live + n <= in.length) {
                System.arraycopy(in, inStart, in, 0, live);
            } else {
                byte[] bigger = new byte[Math.min(MAX_INPUT, Math.max(in.length * 2, live + n))];
                System.arraycopy(in, inStart, bigger, 0, live);
                in = bigger;
            }
            inStart = 0;
            inEnd = live;
        }
        System.arraycopy(data, off, in, inEnd, n);
        inEnd += n;
        return n;
    }

    /** Bytes buffered and not yet consumed (for tests of the bound). */
    int buffered() {
        return inEnd - inStart;
    }

    /** The size of the input buffer (for tests of the bound: never above {@link #MAX_INPUT}). */
    int bufferCapacity() {
        return in.length;
    }

    /** The reply bytes produced so far (and clears them). */
    public byte[] takeOutput() {
        byte[] b = out.toByteArray();
        out.reset();
        return b;
    }

    public boolean hasOutput() {
        return out.size() > 0;
    }

    /**
     * Input received after the handshake ended (after the option that started TLS or transmission): it belongs
     * to the next layer (the TLS session, or the transmission phase). Clears it.
     */
    public byte[] takeUnconsumed() {
        byte[] b = Arrays.copyOfRange(in, inStart, inEnd);
        inStart = inEnd = 0;
        return b;
    }

    /** Called once the TLS session is up after {@link Action#START_TLS}. */
    public void tlsStarted() {
        tlsActive = true;
    }

    // ---- results

    /** The export chosen by GO or EXPORT_NAME (after {@link Action#TRANSMISSION}). */
    public NbdExportInfo export() {
        return chosen;
    }

    public NbdMetaContexts contexts() {
        return contexts;
    }

    public boolean structuredReplies() {
        return structured;
    }

    public boolean extendedHeaders() {
        return extended;
    }

    /** The transmission flags sent to the client. */
    public int transmissionFlags() {
        return transmissionFlags;
    }

    /** The request alignment the client promised to honour (0 when it did not ask for block sizes). */
    public int checkAlign() {
        return checkAlign;
    }

    /** Why the handshake ended in {@link Action#CLOSE} (QEMU's message), or null after ABORT. */
    public String error() {
        return error;
    }

    // =====================================================================================================
    // the state machine

    /** Consumes as much input as forms complete messages and says what to do next. */
    public Action process() {
        while (true) {
            switch (state) {
                case DONE -> {
                    return chosen != null ? Action.TRANSMISSION : Action.CLOSE;
                }
                case CLIENT_FLAGS -> {
                    if (available() < 4) {
                        return Action.NEED_INPUT;
                    }
                    int flags = getInt();
                    if ((flags & Nbd.FLAG_C_FIXED_NEWSTYLE) != 0) {
                        fixedNewstyle = true;
                        flags &= ~Nbd.FLAG_C_FIXED_NEWSTYLE;
                    }
                    if ((flags & Nbd.FLAG_C_NO_ZEROES) != 0) {
                        noZeroes = true;
                        flags &= ~Nbd.FLAG_C_NO_ZEROES;
                    }
                    if (flags != 0) {
                        return close("Unknown client flags 0x" + Integer.toHexString(flags) + " received");
                    }
                    state = State.OPTION_HEADER;
                }
                case OPTION_HEADER -> {
                    if (available() < OPTION_HEADER_SIZE) {
                        return Action.NEED_INPUT;
                    }
                    long magic = getLong();
                    if (magic != Nbd.OPTS_MAGIC) {
                        return close("Bad magic received");
                    }
                    option = getInt();
                    optLength = getInt() & 0xFFFFFFFFL;
                    if (optLength > Nbd.MAX_BUFFER_SIZE) {
                        return close("len (" + optLength + ") is larger than max len (" + Nbd.MAX_BUFFER_SIZE + ")");
                    }
                    Action a = dispatchOption();
                    if (a != null) {
                        return a;
                    }
                }
                case OPTION_PAYLOAD -> {
                    if (available() < optLength) {
                        return Action.NEED_INPUT;
                    }
                    Action a = handleBufferedOption();
                    if (a != null) {
                        return a;
                    }
                    if (state == State.OPTION_PAYLOAD) {
                        state = State.OPTION_HEADER;
                    }
                }
                case SKIP -> {
                    int n = (int) Math.min(available(), skipRemaining);
                    inStart += n;
                    skipRemaining -= n;
                    if (skipRemaining > 0) {
                        return Action.NEED_INPUT;
                    }
                    state = State.OPTION_HEADER;
                    Runnable r = afterSkip;
                    afterSkip = null;
                    if (r != null) {
                        r.run();
                    }
                }
            }
        }
    }

    /** Handles an option whose header has just been read; null means go on processing. */
    private Action dispatchOption() {
        int opt = option;
        if (tlsRequired && !tlsActive) {
            if (!fixedNewstyle) {
                return close("Unsupported option 0x" + Integer.toHexString(opt));
            }
            switch (opt) {
                case Nbd.OPT_STARTTLS -> {
                    if (optLength != 0) {
                        // QEMU drops the connection if the client cannot start TLS correctly
                        skipThen(() -> {
                            rejectLength();
                            state = State.DONE;
                            error = "option 'starttls' has unexpected length";
                        });
                        return null;
                    }
                    sendRep(opt, Nbd.REP_ACK, null);
                    return Action.START_TLS;
                }
                case Nbd.OPT_EXPORT_NAME -> {
                    return close("Option 0x" + Integer.toHexString(opt) + " not permitted before TLS");
                }
                default -> {
                    boolean abort = opt == Nbd.OPT_ABORT;
                    skipThen(() -> {
                        sendRep(opt, Nbd.REP_ERR_TLS_REQD, "Option 0x" + Integer.toHexString(opt)
                                + " not permitted before TLS");
                        if (abort) {
                            state = State.DONE;
                        }
                    });
                    return null;
                }
            }
        }
        if (!fixedNewstyle) {
            if (opt == Nbd.OPT_EXPORT_NAME) {
                return bufferPayload();
            }
            return close("Unsupported option " + Integer.toUnsignedString(opt) + " (" + Nbd.optName(opt) + ")");
        }
        switch (opt) {
            case Nbd.OPT_LIST, Nbd.OPT_STARTTLS, Nbd.OPT_STRUCTURED_REPLY, Nbd.OPT_EXTENDED_HEADERS -> {
                if (optLength != 0) {
                    skipThen(this::rejectLength);
                    return null;
                }
                handleEmptyOption(opt);
                return null;
            }
            case Nbd.OPT_ABORT -> {
                // reply, then close; the payload (if any) is irrelevant
                sendRep(opt, Nbd.REP_ACK, null);
                return close(null);
            }
            case Nbd.OPT_EXPORT_NAME, Nbd.OPT_INFO, Nbd.OPT_GO, Nbd.OPT_LIST_META_CONTEXT,
                    Nbd.OPT_SET_META_CONTEXT -> {
                return bufferPayload();
            }
            default -> {
                skipThen(() -> sendRep(opt, Nbd.REP_ERR_UNSUP, "Unsupported option "
                        + Integer.toUnsignedString(opt) + " (" + Nbd.optName(opt) + ")"));
                return null;
            }
        }
    }

    private Action bufferPayload() {
        if (optLength > MAX_BUFFERED_OPTION) {
            if (option == Nbd.OPT_EXPORT_NAME) {
                return close("Bad length received");
            }
            int opt = option;
            skipThen(() -> sendRep(opt, Nbd.REP_ERR_TOO_BIG, "option '" + Nbd.optName(opt) + "' is too long"));
            return null;
        }
        state = State.OPTION_PAYLOAD;
        return null;
    }

    private void skipThen(Runnable then) {
        skipRemaining = optLength;
        afterSkip = then;
        state = State.SKIP;
    }

    private void rejectLength() {
        sendRep(option, Nbd.REP_ERR_INVALID, "option '" + Nbd.optName(option) + "' has unexpected length");
    }

    private void handleEmptyOption(int opt) {
        switch (opt) {
            case Nbd.OPT_LIST -> {
                for (NbdExportInfo e : exports.list()) {
                    byte[] name = utf8(e.name());
                    byte[] desc = e.description() == null ? new byte[0] : utf8(e.description());
                    repHeader(opt, Nbd.REP_SERVER, 4 + name.length + desc.length);
                    putInt(name.length);
                    out.writeBytes(name);
                    out.writeBytes(desc);
                }
                sendRep(opt, Nbd.REP_ACK, null);
            }
            case Nbd.OPT_STARTTLS -> {
                if (tlsRequired) {
                    sendRep(opt, Nbd.REP_ERR_INVALID, "TLS already enabled");
                } else {
                    sendRep(opt, Nbd.REP_ERR_POLICY, "TLS not configured");
                }
            }
            case Nbd.OPT_STRUCTURED_REPLY -> {
                if (extended) {
                    sendRep(opt, Nbd.REP_ERR_EXT_HEADER_REQD, "extended headers already negotiated");
                } else if (structured) {
                    sendRep(opt, Nbd.REP_ERR_INVALID, "structured reply already negotiated");
                } else {
                    sendRep(opt, Nbd.REP_ACK, null);
                    structured = true;
                }
            }
            case Nbd.OPT_EXTENDED_HEADERS -> {
                if (extended) {
                    sendRep(opt, Nbd.REP_ERR_INVALID, "extended headers already negotiated");
                } else {
                    sendRep(opt, Nbd.REP_ACK, null);
                    structured = true;
                    extended = true;
                }
            }
            default -> throw new IllegalStateException("option " + opt);
        }
    }

    // ---- options with a buffered payload: [inStart, inStart + optLength) holds it

    private int optEnd;

    private Action handleBufferedOption() {
        optEnd = inStart + (int) optLength;
        try {
            return switch (option) {
                case Nbd.OPT_EXPORT_NAME -> exportName();
                case Nbd.OPT_INFO, Nbd.OPT_GO -> info();
                default -> {
                    metaQueries();
                    yield null;
                }
            };
        } finally {
            if (state != State.DONE) {
                inStart = optEnd; // whatever the handler did not read is dropped
            } else if (inStart < optEnd) {
                inStart = optEnd;
            }
        }
    }

    private int optRemaining() {
        return optEnd - inStart;
    }

    private Action exportName() {
        if (extended) {
            return close("Extended headers already negotiated");
        }
        if (optLength > Nbd.MAX_STRING_SIZE) {
            return close("Bad length received");
        }
        String name = new String(in, inStart, (int) optLength, StandardCharsets.UTF_8);
        inStart = optEnd;
        NbdExportInfo exp = exports.find(name);
        if (exp == null) {
            return close("export not found");
        }
        checkMetaExport(exp);
        int myflags = clientFlags(exp, false);
        putLong(exp.size());
        putShort(myflags);
        if (!noZeroes) {
            out.writeBytes(new byte[124]);
        }
        chosen = exp;
        transmissionFlags = myflags;
        checkAlign = 0;
        state = State.DONE;
        return Action.TRANSMISSION;
    }

    private int clientFlags(NbdExportInfo exp, boolean isInfo) {
        int f = exp.flags();
        if (structured) {
            f |= Nbd.FLAG_SEND_DF;
        }
        if (extended && (contexts.count > 0 || isInfo)) {
            f |= Nbd.FLAG_BLOCK_STAT_PAYLOAD;
        }
        return f;
    }

    private void checkMetaExport(NbdExportInfo exp) {
        if (exp != contexts.export) {
            contexts.count = 0;
        }
    }

    /** Sends ERR_INVALID with the message, dropping the rest of the option. */
    private Action invalid(String msg) {
        inStart = optEnd;
        sendRep(option, Nbd.REP_ERR_INVALID, msg);
        return null;
    }

    private Action info() {
        // name length, name, number of info requests, requests
        if (optRemaining() < 4) {
            return invalid("Inconsistent lengths in option " + Nbd.optName(option));
        }
        long nameLen = getInt() & 0xFFFFFFFFL;
        if (nameLen > Nbd.MAX_STRING_SIZE) {
            return invalid("Invalid name length: " + nameLen);
        }
        if (nameLen > optRemaining()) {
            return invalid("Inconsistent lengths in option " + Nbd.optName(option));
        }
        String name = new String(in, inStart, (int) nameLen, StandardCharsets.UTF_8);
        inStart += (int) nameLen;
        if (optRemaining() < 2) {
            return invalid("Inconsistent lengths in option " + Nbd.optName(option));
        }
        int requests = getShort() & 0xFFFF;
        if (requests != optRemaining() / 2) {
            return invalid("Inconsistent lengths in option " + Nbd.optName(option));
        }
        boolean sendName = false, blockSize = false;
        for (int i = 0; i < requests; i++) {
            int req = getShort() & 0xFFFF;
            if (req == Nbd.INFO_NAME) {
                sendName = true;
            } else if (req == Nbd.INFO_BLOCK_SIZE) {
                blockSize = true;
            }
        }
        inStart = optEnd;
        NbdExportInfo exp = exports.find(name);
        if (exp == null) {
            sendRep(option, Nbd.REP_ERR_UNKNOWN, "export '" + sanitize(name) + "' not present");
            return null;
        }
        boolean go = option == Nbd.OPT_GO;
        if (go) {
            checkMetaExport(exp);
        }
        if (sendName) {
            byte[] n = utf8(name);
            repHeader(option, Nbd.REP_INFO, 2 + n.length);
            putShort(Nbd.INFO_NAME);
            out.writeBytes(n);
        }
        if (exp.description() != null) {
            byte[] d = utf8(exp.description());
            repHeader(option, Nbd.REP_INFO, 2 + d.length);
            putShort(Nbd.INFO_DESCRIPTION);
            out.writeBytes(d);
        }
        int align = exp.requestAlignment();
        int min = (!go || blockSize) ? align : 1;
        int preferred = Math.max(4096, min);
        int max = Math.min(exp.maxTransfer(), Nbd.MAX_BUFFER_SIZE);
        repHeader(option, Nbd.REP_INFO, 14);
        putShort(Nbd.INFO_BLOCK_SIZE);
        putInt(min);
        putInt(preferred);
        putInt(max);
        int myflags = clientFlags(exp, !go);
        repHeader(option, Nbd.REP_INFO, 12);
        putShort(Nbd.INFO_EXPORT);
        putLong(exp.size());
        putShort(myflags);
        if (!go && !blockSize && align > 1) {
            sendRep(option, Nbd.REP_ERR_BLOCK_SIZE_REQD, "request NBD_INFO_BLOCK_SIZE to use this export");
            return null;
        }
        sendRep(option, Nbd.REP_ACK, null);
        if (go) {
            chosen = exp;
            transmissionFlags = myflags;
            checkAlign = blockSize ? align : 0;
            state = State.DONE;
            return Action.TRANSMISSION;
        }
        return null;
    }

    private void metaQueries() {
        boolean list = option == Nbd.OPT_LIST_META_CONTEXT;
        if (!list && !structured) {
            invalid("request option '" + Nbd.optName(option) + "' when structured reply is not negotiated");
            return;
        }
        NbdMetaContexts meta = list ? new NbdMetaContexts() : contexts;
        meta.reset(null);
        if (optRemaining() < 4) {
            invalid("Inconsistent lengths in option " + Nbd.optName(option));
            return;
        }
        long nameLen = getInt() & 0xFFFFFFFFL;
        if (nameLen > Nbd.MAX_STRING_SIZE) {
            invalid("Invalid name length: " + nameLen);
            return;
        }
        if (nameLen > optRemaining()) {
            invalid("Inconsistent lengths in option " + Nbd.optName(option));
            return;
        }
        String name = new String(in, inStart, (int) nameLen, StandardCharsets.UTF_8);
        inStart += (int) nameLen;
        NbdExportInfo exp = exports.find(name);
        if (exp == null) {
            inStart = optEnd;
            sendRep(option, Nbd.REP_ERR_UNKNOWN, "export '" + sanitize(name) + "' not present");
            return;
        }
        meta.reset(exp);
        if (optRemaining() < 4) {
            invalid("Inconsistent lengths in option " + Nbd.optName(option));
            return;
        }
        long queries = getInt() & 0xFFFFFFFFL;
        if (list && queries == 0) {
            meta.selectAll();
        } else {
            for (long q = 0; q < queries; q++) {
                if (optRemaining() < 4) {
                    invalid("Inconsistent lengths in option " + Nbd.optName(option));
                    meta.reset(null);
                    return;
                }
                long len = getInt() & 0xFFFFFFFFL;
                if (len > optRemaining()) {
                    invalid("Inconsistent lengths in option " + Nbd.optName(option));
                    meta.reset(null);
                    return;
                }
                if (len > Nbd.MAX_STRING_SIZE) {
                    inStart += (int) len; // QEMU skips queries that are too long
                    continue;
                }
                String query = new String(in, inStart, (int) len, StandardCharsets.UTF_8);
                inStart += (int) len;
                metaQuery(meta, query, list);
            }
        }
        inStart = optEnd;
        if (meta.baseAllocation) {
            sendMetaContext(Nbd.META_ID_BASE_ALLOCATION, "base:allocation");
        }
        if (meta.allocationDepth) {
            sendMetaContext(Nbd.META_ID_ALLOCATION_DEPTH, "qemu:allocation-depth");
        }
        for (int i = 0; i < meta.bitmaps.length; i++) {
            if (meta.bitmaps[i]) {
                sendMetaContext(Nbd.META_ID_DIRTY_BITMAP + i, "qemu:dirty-bitmap:" + exp.bitmapNames().get(i));
            }
        }
        sendRep(option, Nbd.REP_ACK, null);
        meta.count = meta.selected();
    }

    private static void metaQuery(NbdMetaContexts meta, String query, boolean list) {
        if (query.startsWith("base:")) {
            String rest = query.substring(5);
            if (rest.isEmpty() ? list : rest.equals("allocation")) {
                meta.baseAllocation = true;
            }
        } else if (query.startsWith("qemu:")) {
            String rest = query.substring(5);
            if (rest.isEmpty()) {
                if (list) {
                    meta.allocationDepth = meta.export.allocationDepth();
                    Arrays.fill(meta.bitmaps, true);
                }
            } else if (rest.equals("allocation-depth")) {
                meta.allocationDepth = meta.export.allocationDepth();
            } else if (rest.startsWith("dirty-bitmap:")) {
                String bm = rest.substring(13);
                if (bm.isEmpty()) {
                    if (list) {
                        Arrays.fill(meta.bitmaps, true);
                    }
                } else {
                    int i = meta.export.bitmapNames().indexOf(bm);
                    if (i >= 0) {
                        meta.bitmaps[i] = true;
                    }
                }
            }
        }
        // unknown namespaces are ignored
    }

    private void sendMetaContext(int id, String name) {
        byte[] n = utf8(name);
        repHeader(option, Nbd.REP_META_CONTEXT, 4 + n.length);
        putInt(id);
        out.writeBytes(n);
    }

    private Action close(String why) {
        error = why;
        state = State.DONE;
        chosen = null;
        return Action.CLOSE;
    }

    /** QEMU's nbd_sanitize_name: at most 80 characters of the name, with "..." when cut. */
    static String sanitize(String name) {
        if (name.length() > 80) {
            return name.substring(0, 80) + "...";
        }
        return name;
    }

    // =====================================================================================================
    // encoding helpers (big-endian)

    private void sendRep(int opt, int type, String msg) {
        byte[] m = msg == null ? new byte[0] : utf8(msg);
        repHeader(opt, type, m.length);
        out.writeBytes(m);
    }

    private void repHeader(int opt, int type, int len) {
        putLong(Nbd.REP_MAGIC);
        putInt(opt);
        putInt(type);
        putInt(len);
    }

    private void putLong(long v) {
        putInt((int) (v >>> 32));
        putInt((int) v);
    }

    private void putInt(int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    private void putShort(int v) {
        out.write(v >>> 8);
        out.write(v);
    }

    private int available() {
        return inEnd - inStart;
    }

    private int getInt() {
        int v = ((in[inStart] & 0xFF) << 24) | ((in[inStart + 1] & 0xFF) << 16) | ((in[inStart + 2] & 0xFF) << 8)
                | (in[inStart + 3] & 0xFF);
        inStart += 4;
        return v;
    }

    private int getShort() {
        int v = ((in[inStart] & 0xFF) << 8) | (in[inStart + 1] & 0xFF);
        inStart += 2;
        return v;
    }

    private long getLong() {
        long hi = getInt() & 0xFFFFFFFFL;
        long lo = getInt() & 0xFFFFFFFFL;
        return (hi << 32) | lo;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
