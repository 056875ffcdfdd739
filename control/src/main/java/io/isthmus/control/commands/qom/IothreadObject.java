package io.isthmus.control.commands.qom;

import io.isthmus.control.QmpError;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.loop.IoThread;
import java.util.Map;

/**
 * iothread: a named I/O thread exports can be bound to, backed by an engine {@link IoThread} (one
 * platform thread with its own io_uring) started when the object is completed and drained and stopped
 * when it is deleted or the daemon exits. The polling properties are kept for compatibility; an
 * io_uring loop does not busy-poll, so they have no effect.
 */
public final class IothreadObject extends AbstractQomObject {
    private final long pollMaxNs;
    private final long pollGrow;
    private final long pollShrink;
    private final long aioMaxBatch;
    private IoThread thread;

    public IothreadObject(String id, Map<String, Object> props) throws QmpError {
        super(id, "iothread");
        pollMaxNs = nonNegative(props, "poll-max-ns", 32768);
        pollGrow = nonNegative(props, "poll-grow", 0);
        pollShrink = nonNegative(props, "poll-shrink", 0);
        aioMaxBatch = nonNegative(props, "aio-max-batch", 0);
    }

    private static long nonNegative(Map<String, Object> props, String name, long dflt) throws QmpError {
        Object v = props.get(name);
        if (v == null) {
            return dflt;
        }
        long l = v instanceof Number n ? n.longValue() : dflt;
        if (l < 0 || !(v instanceof Long)) {
            throw QmpError.generic(name + " value must be in range [0, " + Long.MAX_VALUE + "]");
        }
        return l;
    }

    @Override
    public void complete() throws QmpError {
        try {
            thread = IoThread.start("iothread-" + id());
        } catch (EngineException e) {
            throw QmpError.generic(e.getMessage());
        }
    }

    /** The engine thread (control thread: after creation). */
    public IoThread ioThread() {
        return thread;
    }

    @Override
    public void close() {
        if (thread != null) {
            thread.close();
            thread = null;
        }
    }

    public long pollMaxNs() {
        return pollMaxNs;
    }

    public long pollGrow() {
        return pollGrow;
    }

    public long pollShrink() {
        return pollShrink;
    }

    public long aioMaxBatch() {
        return aioMaxBatch;
    }
}
