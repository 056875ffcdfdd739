package io.isthmus.control.cli;

import io.isthmus.control.Daemon;
import io.isthmus.control.QmpError;
import io.isthmus.control.commands.OptionHooks;
import io.isthmus.control.json.Json;
import io.isthmus.control.json.JsonParseException;
import io.isthmus.control.qapi.Keyval;
import io.isthmus.control.qapi.QapiMember;
import io.isthmus.control.qapi.QapiType;
import io.isthmus.engine.EngineException;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * Applies the daemon-building options to a {@link Daemon}, strictly in command-line order, as QSD's
 * second option pass does: {@code --chardev} (QemuOpts), {@code --monitor}, {@code --object},
 * {@code --blockdev}, {@code --export}, {@code --nbd-server} (keyval, or JSON when the argument starts
 * with <code>{</code>). Runs on the control thread before the loop starts.
 */
public final class StartupOptions {
    private final Daemon daemon;
    private final String prog;
    private final PrintStream err;
    private final boolean daemonize;

    public StartupOptions(Daemon daemon, String prog, PrintStream err, boolean daemonize) {
        this.daemon = daemon;
        this.prog = prog;
        this.err = err;
        this.daemonize = daemonize;
    }

    public void apply(List<Getopt.Item> items) throws OptionError {
        for (Getopt.Item item : items) {
            if (item.opt() == null) {
                throw new OptionError(item.location(), "Unexpected argument");
            }
            daemon.warnings().setLocation(prog + ": " + item.location() + ": ");
            try {
                applyOne(item);
            } catch (QmpError e) {
                throw new OptionError(item.location(), e.desc(), e.hint());
            } catch (EngineException e) {
                throw new OptionError(item.location(), e.getMessage());
            } finally {
                daemon.warnings().setLocation(null);
            }
        }
    }

    private void applyOne(Getopt.Item item) throws QmpError, OptionError {
        String arg = item.arg();
        switch (item.opt()) {
            case CHARDEV -> {
                Map<String, String> opts = QemuOptsParser.parseChardev(arg);
                if (daemonize && "stdio".equals(opts.get("backend"))) {
                    throw QmpError.generic("cannot use stdio with -daemonize");
                }
                daemon.chardevs().create(opts, info -> err.println(prog + ": " + item.location() + ": " + info));
            }
            case MONITOR -> daemon.monitors().create(typed("monitor", arg, "chardev"));
            case OBJECT -> {
                if (objectHelp(arg)) {
                    throw new HelpPrinted();
                }
                daemon.commands().executeValidated("object-add", typed("object", arg, "qom-type"));
            }
            case BLOCKDEV -> daemon.optionHooks().apply("blockdev", typed("blockdev", arg, "driver"));
            case EXPORT -> daemon.optionHooks().apply("export", typed("export", arg, "type"));
            case NBD_SERVER -> daemon.optionHooks().apply("nbd-server", typed("nbd-server", arg, null));
            default -> {
                // handled in the first pass (help, version, trace, pidfile, daemonize)
            }
        }
    }

    /** The option's argument as its QAPI type: JSON if it starts with '{', else keyval. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> typed(String option, String arg, String impliedKey) throws QmpError {
        String type = OptionHooks.OPTION_TYPES.get(option);
        if (arg.startsWith("{")) {
            Object v;
            try {
                v = Json.parse(arg);
            } catch (JsonParseException e) {
                throw QmpError.generic(e.getMessage());
            }
            if (!(v instanceof Map)) {
                throw QmpError.generic("JSON argument must be an object");
            }
            return (Map<String, Object>) daemon.schema().parseType(type, v);
        }
        return daemon.schema().keyvalToArguments(type, Keyval.parse(arg, impliedKey));
    }

    /**
     * {@code --object help}, {@code --object TYPE,help} (also {@code ?}, and with other properties
     * given): prints what qemu-storage-daemon 7.2 prints and reports true. For a type Isthmus serves,
     * its settable properties as {@code name=<type>} lines, sorted; for no type or an unknown one, the list
     * of types.
     */
    private boolean objectHelp(String arg) {
        String type = null;
        boolean help = false;
        String[] parts = arg.split(",", -1);
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.equals("help") || p.equals("?")) {
                help = true;
            } else if (p.startsWith("qom-type=")) {
                type = p.substring("qom-type=".length());
            } else if (i == 0 && !p.contains("=")) {
                type = p;
            }
        }
        if (!help) {
            return false;
        }
        String props = type == null || !daemon.objectTypes().names().contains(type) ? null : objectProperties(type);
        if (props != null) {
            System.out.print(props);
        } else {
            StringBuilder sb = new StringBuilder("List of user creatable objects:\n");
            for (String t : daemon.objectTypes().names()) {
                sb.append("  ").append(t).append('\n');
            }
            System.out.print(sb);
        }
        return true;
    }

    /**
     * The help text of one object type, from the schema's ObjectOptions branch for it. Deprecated
     * members are left out (QSD 7.2's classes no longer have the deprecated {@code loaded} property);
     * type names are QOM's ({@code string}, {@code int} for QAPI's str and int, a list by its element).
     * Null if the schema has no branch for the type.
     */
    String objectProperties(String type) {
        if (!(daemon.schema().type("ObjectOptions") instanceof QapiType.Struct union) || union.variants() == null) {
            return null;
        }
        String branchName = union.variants().get(type);
        if (branchName == null || !(daemon.schema().type(branchName) instanceof QapiType.Struct branch)) {
            return null;
        }
        // QEMU sorts the formatted lines, not the names: "x-bps-read-max-length=<int>" before "x-bps-read-max=<int>"
        java.util.TreeSet<String> lines = new java.util.TreeSet<>();
        for (QapiMember m : branch.members()) {
            if (!m.features().contains("deprecated")) {
                lines.add(m.name() + "=<" + qomTypeName(m.type()) + ">");
            }
        }
        StringBuilder sb = new StringBuilder(type).append(" options:\n");
        lines.forEach(l -> sb.append("  ").append(l).append('\n'));
        return sb.toString();
    }

    private String qomTypeName(String qapiType) {
        QapiType t = daemon.schema().type(qapiType);
        if (t instanceof QapiType.Array a) {
            return qomTypeName(a.elementType());
        }
        return switch (qapiType) {
            case "str" -> "string";
            case "int64" -> "int";
            default -> qapiType;
        };
    }

    /** Thrown after help text was printed: the daemon exits with status 0. */
    public static final class HelpPrinted extends RuntimeException {
        HelpPrinted() {
            super(null, null, false, false);
        }
    }
}
