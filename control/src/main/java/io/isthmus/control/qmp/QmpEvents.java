package io.isthmus.control.qmp;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Sends QMP events to every negotiated monitor client:
 * {@code {"timestamp": {"seconds": S, "microseconds": US}, "event": NAME, "data": {...}}}, wall-clock
 * time. Never dropped (a client that stops reading is disconnected instead). Any thread may emit.
 */
public final class QmpEvents {
    private final CopyOnWriteArrayList<QmpSession> sessions = new CopyOnWriteArrayList<>();

    void attach(QmpSession s) {
        sessions.add(s);
    }

    void detach(QmpSession s) {
        sessions.remove(s);
    }

    /** Emits an event; data may be null (then the message has no "data" member). */
    public void emit(String event, Map<String, Object> data) {
        java.time.Instant now = java.time.Instant.now();
        Map<String, Object> ts = new LinkedHashMap<>();
        ts.put("seconds", now.getEpochSecond());
        ts.put("microseconds", (long) (now.getNano() / 1000));
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("timestamp", ts);
        msg.put("event", event);
        if (data != null) {
            msg.put("data", data);
        }
        for (QmpSession s : sessions) {
            if (s.negotiated()) {
                s.send(msg);
            }
        }
    }
}
