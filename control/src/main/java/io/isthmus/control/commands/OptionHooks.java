package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import java.util.HashMap;
import java.util.Map;

/**
 * What the command-line options {@code --blockdev}, {@code --export} and {@code --nbd-server} do with
 * their validated options. By default {@code --blockdev} runs {@code blockdev-add} and {@code --export}
 * runs {@code block-export-add} when those commands have handlers; {@code --nbd-server} (whose
 * NbdServerOptions differ from nbd-server-start's arguments) needs a hook of its own, set by the NBD
 * command group with {@link #set}.
 *
 * <p>Until a subsystem is there, the option fails with QEMU's wording for a driver or type it lacks.
 */
public final class OptionHooks {
    /** The QAPI type each option's argument is visited as (QSD: qobject_input_visitor_new_str). */
    public static final Map<String, String> OPTION_TYPES = Map.of(
            "blockdev", "BlockdevOptions",
            "export", "BlockExportOptions",
            "nbd-server", "NbdServerOptions",
            "object", "ObjectOptions",
            "monitor", "MonitorOptions");

    private final CommandRegistry commands;
    private final Map<String, CommandHandler> hooks = new HashMap<>();

    public OptionHooks(CommandRegistry commands) {
        this.commands = commands;
    }


    /** Installs the handler for option ("blockdev", "export" or "nbd-server"). */
    public void set(String option, CommandHandler handler) {
        if (hooks.putIfAbsent(option, handler) != null) {
            throw new IllegalStateException("option hook set twice: " + option);
        }
    }

    /** Applies an option whose argument has been validated as {@link #OPTION_TYPES}'s type. */
    public void apply(String option, Map<String, Object> options) throws QmpError {
        CommandHandler h = hooks.get(option);
        if (h != null) {
            h.handle(options);
            return;
        }
        switch (option) {
            case "blockdev" -> {
                if (!commands.has("blockdev-add")) {
                    throw QmpError.generic("Unknown driver: '" + options.get("driver") + "'");
                }
                commands.executeValidated("blockdev-add", options);
            }
            case "export" -> {
                if (!commands.has("block-export-add")) {
                    throw QmpError.generic("No driver found for the requested export type");
                }
                commands.executeValidated("block-export-add", options);
            }
            case "nbd-server" -> throw QmpError.generic("NBD server support is not available in this build");
            default -> throw new IllegalArgumentException("no hook for option " + option);
        }
    }
}
