package io.isthmus.control.json;

/** A JSON text QEMU's parser would refuse; the message is QEMU's error text verbatim. */
public final class JsonParseException extends Exception {
    public JsonParseException(String message) {
        super(message, null, false, false);
    }
}
