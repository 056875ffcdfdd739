package io.isthmus.engine;

/**
 * A refused engine operation. The message is QEMU's error text for the same situation, verbatim, so
 * the control plane can hand it to the client as a GenericError without rewording it.
 */
public class EngineException extends RuntimeException {
    public EngineException(String message) {
        super(message);
    }

    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }
}
