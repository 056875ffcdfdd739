package io.isthmus.control.commands.qom;

import io.isthmus.control.QmpError;
import java.util.Map;

/**
 * iothread: a named I/O thread exports can be bound to. Holds its polling and batching properties.
 *
 * <p>Not yet backed by an engine IoThread: the engine's io_uring IoThread is being written on main; once
 * it lands, {@link #complete} starts one and {@link #close} drains it. Until then the object exists
 * (exports can name it) without a thread of its own.
 */
public final class IothreadObject extends AbstractQomObject {
    private final long pollMaxNs;
    private final long pollGrow;
    private final long pollShrink;
    private final long aioMaxBatch;

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
