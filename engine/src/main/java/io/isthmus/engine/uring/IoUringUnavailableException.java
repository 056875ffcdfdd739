package io.isthmus.engine.uring;

import io.isthmus.engine.EngineException;

/** io_uring cannot be used on this machine; the message names the cause in one line. */
public final class IoUringUnavailableException extends EngineException {
    public IoUringUnavailableException(String message) {
        super(message);
    }
}
