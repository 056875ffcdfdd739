package io.isthmus.control.json;

/** One lexical token: its {@link JsonLexer} type and its raw bytes as they appeared in the input. */
record JsonToken(int type, byte[] text) {
}
