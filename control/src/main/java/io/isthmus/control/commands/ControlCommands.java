package io.isthmus.control.commands;

import io.isthmus.control.Daemon;
import io.isthmus.control.QmpError;
import io.isthmus.control.Version;
import io.isthmus.control.qmp.QmpSession;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The control group: qmp_capabilities, query-version, query-commands, quit, and the introspection
 * command query-qmp-schema.
 */
public final class ControlCommands implements CommandGroup {
    private final Daemon daemon;

    public ControlCommands(Daemon daemon) {
        this.daemon = daemon;
    }

    @Override
    public void register(CommandRegistry r) {
        r.register("qmp_capabilities", this::qmpCapabilities);
        r.register("query-version", args -> Version.versionInfo());
        r.register("query-commands", args -> queryCommands());
        r.register("quit", args -> {
            daemon.requestShutdown();
            return null;
        });
        r.register("query-qmp-schema", args -> daemon.schema().introspect());
    }

    private Object qmpCapabilities(Map<String, Object> args) {
        QmpSession session = daemon.currentSession();
        if (session == null) {
            throw QmpError.generic("qmp_capabilities is only available on a QMP monitor");
        }
        List<String> enable = new ArrayList<>();
        if (args.get("enable") instanceof List<?> l) {
            for (Object o : l) {
                enable.add((String) o);
            }
        }
        session.negotiate(enable);
        return null;
    }

    private Object queryCommands() {
        List<Object> list = new ArrayList<>();
        for (String name : daemon.schema().commandNames()) {
            if (daemon.commands().has(name)) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", name);
                list.add(m);
            }
        }
        return list;
    }
}
