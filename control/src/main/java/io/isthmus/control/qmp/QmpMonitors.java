package io.isthmus.control.qmp;

import io.isthmus.control.Daemon;
import io.isthmus.control.QmpError;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The daemon's QMP monitors ({@code --monitor}). Control thread only. */
public final class QmpMonitors {
    private final Daemon daemon;
    private final List<QmpMonitor> monitors = new ArrayList<>();

    public QmpMonitors(Daemon daemon) {
        this.daemon = daemon;
    }

    /** Creates and starts a monitor from validated MonitorOptions ({@code chardev, mode?, pretty?, id?}). */
    public QmpMonitor create(Map<String, Object> options) throws QmpError {
        String chardevId = (String) options.get("chardev");
        if ("readline".equals(options.get("mode"))) {
            throw QmpError.generic("Only QMP is supported");
        }
        Chardev c = daemon.chardevs().get(chardevId);
        if (c == null) {
            throw QmpError.generic("chardev \"" + chardevId + "\" not found");
        }
        if (!c.claim()) {
            throw QmpError.generic("Device '" + chardevId + "' is in use");
        }
        QmpMonitor m = new QmpMonitor(daemon, c, Boolean.TRUE.equals(options.get("pretty")));
        monitors.add(m);
        m.start();
        return m;
    }

    /** Flushes and closes every monitor's client. */
    public void closeAll() {
        for (QmpMonitor m : monitors) {
            m.close();
        }
        monitors.clear();
    }
}
