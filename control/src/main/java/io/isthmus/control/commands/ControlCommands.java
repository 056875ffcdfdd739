package io.isthmus.control.commands;

import io.isthmus.control.Version;
import io.isthmus.control.qapi.QapiSchema;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The control group: query-version, query-commands, quit, and the introspection command query-qmp-schema.
 * ({@code qmp_capabilities} belongs to the QMP dispatcher: it acts on the client that sends it.)
 */
public final class ControlCommands implements CommandGroup {
    private final QapiSchema schema;
    private final CommandRegistry commands;
    private final Runnable requestShutdown;

    /**
     * @param commands        the registry query-commands reports (it holds every group's handlers once all
     *                        registered)
     * @param requestShutdown what quit does: closes the exports and stops the control loop (control thread)
     */
    public ControlCommands(QapiSchema schema, CommandRegistry commands, Runnable requestShutdown) {
        this.schema = schema;
        this.commands = commands;
        this.requestShutdown = requestShutdown;
    }

    @Override
    public void register(CommandRegistry r) {
        r.register("query-version", args -> Version.versionInfo());
        r.register("query-commands", args -> queryCommands());
        r.register("quit", args -> {
            requestShutdown.run();
            return null;
        });
        r.register("query-qmp-schema", args -> schema.introspect());
    }

    private Object queryCommands() {
        List<Object> list = new ArrayList<>();
        for (String name : schema.commandNames()) {
            if (commands.has(name)) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", name);
                list.add(m);
            }
        }
        return list;
    }
}
