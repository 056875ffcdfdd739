package io.isthmus.control.json;

/**
 * The byte-level JSON lexer with QEMU's exact state machine (qobject/json-lexer.c): the same token
 * boundaries, the same lexical errors, and the same error recovery (after an error, input is skipped up
 * to a structural character, an ASCII control character other than tab, or 0xFE/0xFF).
 *
 * <p>Extensions over RFC 8259 accepted as QEMU accepts them: single-quoted strings. Input bytes
 * 0x20..0xFD are taken inside strings unchecked; UTF-8 validity is checked later by the parser.
 *
 * <p>Not thread-safe: one lexer per input stream.
 */
final class JsonLexer {
    /** Token types: values at or above {@link #TOKEN_MIN} are complete tokens; 0 is an error. */
    static final int JSON_ERROR = 0;
    static final int TOKEN_MIN = 100;
    static final int LCURLY = 100;
    static final int RCURLY = 101;
    static final int LSQUARE = 102;
    static final int RSQUARE = 103;
    static final int COLON = 104;
    static final int COMMA = 105;
    static final int INTEGER = 106;
    static final int FLOAT = 107;
    static final int KEYWORD = 108;
    static final int STRING = 109;
    static final int END_OF_INPUT = 111;

    static final int MAX_TOKEN_SIZE = 64 << 20;

    private static final int LOOKAHEAD = 0x80;
    private static final int IN_RECOVERY = 1;
    private static final int IN_DQ_STRING_ESCAPE = 2;
    private static final int IN_DQ_STRING = 3;
    private static final int IN_SQ_STRING_ESCAPE = 4;
    private static final int IN_SQ_STRING = 5;
    private static final int IN_ZERO = 6;
    private static final int IN_EXP_DIGITS = 7;
    private static final int IN_EXP_SIGN = 8;
    private static final int IN_EXP_E = 9;
    private static final int IN_MANTISSA = 10;
    private static final int IN_MANTISSA_DIGITS = 11;
    private static final int IN_DIGITS = 12;
    private static final int IN_SIGN = 13;
    private static final int IN_KEYWORD = 14;
    private static final int IN_START = 15;
    private static final int STATES = 16;

    /** next = TABLE[state][byte]; the LOOKAHEAD bit means "do not consume the byte". */
    private static final short[][] TABLE = new short[STATES][256];

    static {
        for (int c = 0; c < 0x20; c++) {
            TABLE[IN_RECOVERY][c] = IN_START | LOOKAHEAD;
        }
        for (int c = 0x20; c <= 0xFD; c++) {
            TABLE[IN_RECOVERY][c] = IN_RECOVERY;
        }
        TABLE[IN_RECOVERY][0xFE] = IN_START | LOOKAHEAD;
        TABLE[IN_RECOVERY][0xFF] = IN_START | LOOKAHEAD;
        TABLE[IN_RECOVERY]['\t'] = IN_RECOVERY;
        for (char c : new char[] {'[', ']', '{', '}', ':', ','}) {
            TABLE[IN_RECOVERY][c] = IN_START | LOOKAHEAD;
        }

        for (int c = 0x20; c <= 0xFD; c++) {
            TABLE[IN_DQ_STRING_ESCAPE][c] = IN_DQ_STRING;
            TABLE[IN_DQ_STRING][c] = IN_DQ_STRING;
            TABLE[IN_SQ_STRING_ESCAPE][c] = IN_SQ_STRING;
            TABLE[IN_SQ_STRING][c] = IN_SQ_STRING;
        }
        TABLE[IN_DQ_STRING]['\\'] = IN_DQ_STRING_ESCAPE;
        TABLE[IN_DQ_STRING]['"'] = STRING;
        TABLE[IN_SQ_STRING]['\\'] = IN_SQ_STRING_ESCAPE;
        TABLE[IN_SQ_STRING]['\''] = STRING;

        terminal(IN_ZERO, INTEGER);
        digits(IN_ZERO, JSON_ERROR);
        TABLE[IN_ZERO]['.'] = IN_MANTISSA;
        TABLE[IN_ZERO]['e'] = IN_EXP_E;
        TABLE[IN_ZERO]['E'] = IN_EXP_E;

        terminal(IN_EXP_DIGITS, FLOAT);
        digits(IN_EXP_DIGITS, IN_EXP_DIGITS);
        digits(IN_EXP_SIGN, IN_EXP_DIGITS);
        TABLE[IN_EXP_E]['-'] = IN_EXP_SIGN;
        TABLE[IN_EXP_E]['+'] = IN_EXP_SIGN;
        digits(IN_EXP_E, IN_EXP_DIGITS);

        terminal(IN_MANTISSA_DIGITS, FLOAT);
        digits(IN_MANTISSA_DIGITS, IN_MANTISSA_DIGITS);
        TABLE[IN_MANTISSA_DIGITS]['e'] = IN_EXP_E;
        TABLE[IN_MANTISSA_DIGITS]['E'] = IN_EXP_E;
        digits(IN_MANTISSA, IN_MANTISSA_DIGITS);

        terminal(IN_DIGITS, INTEGER);
        digits(IN_DIGITS, IN_DIGITS);
        TABLE[IN_DIGITS]['e'] = IN_EXP_E;
        TABLE[IN_DIGITS]['E'] = IN_EXP_E;
        TABLE[IN_DIGITS]['.'] = IN_MANTISSA;

        TABLE[IN_SIGN]['0'] = IN_ZERO;
        for (int c = '1'; c <= '9'; c++) {
            TABLE[IN_SIGN][c] = IN_DIGITS;
        }

        terminal(IN_KEYWORD, KEYWORD);
        for (int c = 'a'; c <= 'z'; c++) {
            TABLE[IN_KEYWORD][c] = IN_KEYWORD;
            TABLE[IN_START][c] = IN_KEYWORD;
        }

        TABLE[IN_START]['"'] = IN_DQ_STRING;
        TABLE[IN_START]['\''] = IN_SQ_STRING;
        TABLE[IN_START]['0'] = IN_ZERO;
        for (int c = '1'; c <= '9'; c++) {
            TABLE[IN_START][c] = IN_DIGITS;
        }
        TABLE[IN_START]['-'] = IN_SIGN;
        TABLE[IN_START]['{'] = LCURLY;
        TABLE[IN_START]['}'] = RCURLY;
        TABLE[IN_START]['['] = LSQUARE;
        TABLE[IN_START][']'] = RSQUARE;
        TABLE[IN_START][','] = COMMA;
        TABLE[IN_START][':'] = COLON;
        TABLE[IN_START][' '] = IN_START;
        TABLE[IN_START]['\t'] = IN_START;
        TABLE[IN_START]['\r'] = IN_START;
        TABLE[IN_START]['\n'] = IN_START;
    }

    private static void terminal(int state, int token) {
        for (int c = 0; c <= 0xFF; c++) {
            TABLE[state][c] = (short) (token | LOOKAHEAD);
        }
    }

    private static void digits(int state, int next) {
        for (int c = '0'; c <= '9'; c++) {
            TABLE[state][c] = (short) next;
        }
    }

    /** Receives tokens (and errors, as type {@link #JSON_ERROR}) with their raw bytes. */
    interface TokenSink {
        void token(int type, byte[] buf, int len);
    }

    private final TokenSink sink;
    private int state = IN_START;
    private byte[] token = new byte[64];
    private int tokenLen;

    JsonLexer(TokenSink sink) {
        this.sink = sink;
    }

    void feed(byte[] buf, int off, int len) {
        for (int i = off; i < off + len; i++) {
            feedChar(buf[i] & 0xFF, false);
        }
    }

    /** End of input: completes or fails the pending token, then reports END_OF_INPUT. */
    void flush() {
        feedChar(0, true);
        sink.token(END_OF_INPUT, token, 0);
    }

    /** Forgets any partial token (a new client on the same monitor starts clean). */
    void reset() {
        state = IN_START;
        clearToken();
    }

    private void feedChar(int ch, boolean flush) {
        boolean consumed = false;
        while (flush ? state != IN_START : !consumed) {
            int next = TABLE[state][ch];
            consumed = !flush && (next & LOOKAHEAD) == 0;
            if (consumed) {
                append(ch);
            }
            next &= ~LOOKAHEAD;
            if (next >= TOKEN_MIN) {
                sink.token(next, token, tokenLen);
                clearToken();
                next = IN_START;
            } else if (next == IN_START) {
                clearToken();
            } else if (next == JSON_ERROR) {
                sink.token(JSON_ERROR, token, tokenLen);
                clearToken();
                next = IN_RECOVERY;
            } else if (next == IN_RECOVERY) {
                clearToken();
            }
            state = next;
        }
        // A single token may not grow without bound (QEMU hands it on as is; the streamer refuses it).
        if (tokenLen > MAX_TOKEN_SIZE) {
            sink.token(state, token, tokenLen);
            clearToken();
            state = IN_START;
        }
    }

    private void clearToken() {
        tokenLen = 0;
        if (token.length > 65536) {
            token = new byte[64];
        }
    }

    private void append(int ch) {
        if (tokenLen == token.length) {
            token = java.util.Arrays.copyOf(token, token.length * 2);
        }
        token[tokenLen++] = (byte) ch;
    }
}
