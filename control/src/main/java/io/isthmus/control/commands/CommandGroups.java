package io.isthmus.control.commands;

import io.isthmus.control.Daemon;
import java.util.List;
import java.util.function.Function;

/**
 * Every command group of the daemon. Adding a group is one line here (its class registers its own
 * handlers, option hooks, object types and shutdown steps).
 */
public final class CommandGroups {
    private static final List<Function<Daemon, CommandGroup>> GROUPS = List.of(
            ControlCommands::new,
            QomCommands::new,
            TlsCredsObjects::new,
            BlockdevCommands::new,
            BitmapCommands::new,
            BlockExportCommands::new
    );

    private CommandGroups() {
    }

    public static void registerAll(Daemon daemon, CommandRegistry registry) {
        for (Function<Daemon, CommandGroup> g : GROUPS) {
            g.apply(daemon).register(registry);
        }
    }
}
