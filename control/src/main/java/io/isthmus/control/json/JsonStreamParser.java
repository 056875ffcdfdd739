package io.isthmus.control.json;

import java.util.ArrayList;
import java.util.Arrays;

/**
 * QEMU's JSON message stream (qobject/json-streamer.c): bytes in, one top-level value or one error out
 * per message, with no framing other than the JSON itself. Input may be split anywhere and several
 * messages may share one read.
 *
 * <p>A message is complete when its brackets balance (or go negative). Limits, with QEMU's texts: 64 MiB
 * of token text per message ({@code JSON token size limit exceeded}), 2 Mi tokens ({@code JSON token
 * count limit exceeded}), nesting depth 1024 ({@code JSON nesting depth limit exceeded}). A lexical error
 * ({@code JSON parse error, stray '...'}) or a limit error drops the message so far and starts over.
 *
 * <p>Not thread-safe: one parser per input stream. The listener runs on the feeding thread.
 */
public final class JsonStreamParser {
    static final int MAX_TOKEN_COUNT = 2 << 20;
    static final int MAX_NESTING = 1 << 10;

    /** Receives each message: exactly one of value and error is non-null. */
    @FunctionalInterface
    public interface Listener {
        void message(Object value, JsonParseException error);
    }

    private final Listener listener;
    private final JsonLexer lexer = new JsonLexer(this::token);
    private ArrayList<JsonToken> tokens = new ArrayList<>();
    private int braceCount;
    private int bracketCount;
    private long tokenSize;

    public JsonStreamParser(Listener listener) {
        this.listener = listener;
    }

    public void feed(byte[] buf, int off, int len) {
        lexer.feed(buf, off, len);
    }

    /** End of input: a pending partial message is completed or reported as an error. */
    public void flush() {
        lexer.flush();
    }

    /** Discards partial input. */
    public void reset() {
        lexer.reset();
        clear();
    }

    private void token(int type, byte[] buf, int len) {
        switch (type) {
            case JsonLexer.LCURLY -> braceCount++;
            case JsonLexer.RCURLY -> braceCount--;
            case JsonLexer.LSQUARE -> bracketCount++;
            case JsonLexer.RSQUARE -> bracketCount--;
            case JsonLexer.JSON_ERROR -> {
                emit(null, new JsonParseException(
                        "JSON parse error, stray '" + ModUtf8.lenientString(buf, 0, len) + "'"));
                return;
            }
            case JsonLexer.END_OF_INPUT -> {
                if (tokens.isEmpty()) {
                    return;
                }
                parseAndEmit();
                return;
            }
            default -> {
            }
        }
        if (tokenSize + len + 1 > JsonLexer.MAX_TOKEN_SIZE) {
            emit(null, new JsonParseException("JSON token size limit exceeded"));
            return;
        }
        if (tokens.size() + 1 > MAX_TOKEN_COUNT) {
            emit(null, new JsonParseException("JSON token count limit exceeded"));
            return;
        }
        if (bracketCount + braceCount > MAX_NESTING) {
            emit(null, new JsonParseException("JSON nesting depth limit exceeded"));
            return;
        }
        tokens.add(new JsonToken(type, Arrays.copyOf(buf, len)));
        tokenSize += len;
        if ((braceCount > 0 || bracketCount > 0) && braceCount >= 0 && bracketCount >= 0) {
            return;
        }
        parseAndEmit();
    }

    private void parseAndEmit() {
        Object value = null;
        JsonParseException error = null;
        try {
            value = JsonTokenParser.parse(tokens);
        } catch (JsonParseException e) {
            error = e;
        }
        emit(value, error);
    }

    private void emit(Object value, JsonParseException error) {
        clear();
        listener.message(value, error);
    }

    private void clear() {
        braceCount = 0;
        bracketCount = 0;
        tokenSize = 0;
        if (tokens.size() > 1024) {
            tokens = new ArrayList<>();
        } else {
            tokens.clear();
        }
    }
}
