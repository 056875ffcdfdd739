package io.isthmus.control.qmp;

import io.isthmus.control.ControlLoop;
import io.isthmus.control.QmpError;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The daemon's QMP monitors ({@code --monitor}): each serves the clients of one chardev, hands their commands to
 * the dispatcher on the control loop, and sends them the events. Control thread only.
 */
public final class QmpMonitors {
    private final Chardevs chardevs;
    private final QmpEvents events;
    private final QmpDispatcher dispatcher;
    private final ControlLoop loop;
    private final List<QmpMonitor> monitors = new ArrayList<>();

    public QmpMonitors(Chardevs chardevs, QmpEvents events, QmpDispatcher dispatcher, ControlLoop loop) {
        this.chardevs = chardevs;
        this.events = events;
        this.dispatcher = dispatcher;
        this.loop = loop;
    }

    /** Creates and starts a monitor from validated MonitorOptions ({@code chardev, mode?, pretty?, id?}). */
    public void create(Map<String, Object> options) throws QmpError {
        String chardevId = (String) options.get("chardev");
        if ("readline".equals(options.get("mode"))) {
            throw QmpError.generic("Only QMP is supported");
        }
        Chardev c = chardevs.get(chardevId);
        if (c == null) {
            throw QmpError.generic("chardev \"" + chardevId + "\" not found");
        }
        if (!c.claim()) {
            throw QmpError.generic("Device '" + chardevId + "' is in use");
        }
        QmpMonitor m = new QmpMonitor(c, Boolean.TRUE.equals(options.get("pretty")), events, dispatcher, loop);
        monitors.add(m);
        m.start();
    }

    /** Flushes and closes every monitor's client. */
    public void closeAll() {
        for (QmpMonitor m : monitors) {
            m.close();
        }
        monitors.clear();
    }
}
