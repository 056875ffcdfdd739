package io.isthmus.control;

import io.isthmus.control.commands.CommandGroups;
import io.isthmus.control.commands.CommandRegistry;
import io.isthmus.control.commands.OptionHooks;
import io.isthmus.control.commands.qom.ObjectRegistry;
import io.isthmus.control.commands.qom.ObjectTypes;
import io.isthmus.control.qapi.QapiSchema;
import io.isthmus.control.qmp.Chardevs;
import io.isthmus.control.qmp.QmpEvents;
import io.isthmus.control.qmp.QmpMonitors;
import io.isthmus.control.qmp.QmpSession;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Everything command handlers need, in one place: the schema, the command registry, the QOM object
 * registry, the event emitter, chardevs and monitors, the command-line option hooks, the control loop
 * and the shutdown sequence. Later subsystems (block graph, exports, NBD server) hang off it as
 * components ({@link #putComponent}) created by their command group.
 *
 * <p>Control thread only, except {@link #events()} and {@link #loop()}, which any thread may use.
 */
public final class Daemon {
    /** Shutdown runs these phases in order; steps within a phase run in registration order. */
    public enum ShutdownPhase { EXPORTS, BLOCK, MONITORS, OBJECTS }

    private final QapiSchema schema;
    private final ControlLoop loop = new ControlLoop();
    private final QmpEvents events = new QmpEvents();
    private final CommandRegistry commands;
    private final ObjectRegistry objects = new ObjectRegistry();
    private final ObjectTypes objectTypes = new ObjectTypes();
    private final OptionHooks optionHooks;
    private final Chardevs chardevs = new Chardevs();
    private final QmpMonitors monitors;
    private final Map<Class<?>, Object> components = new ConcurrentHashMap<>();
    private final EnumMap<ShutdownPhase, List<Runnable>> shutdownSteps = new EnumMap<>(ShutdownPhase.class);
    private final Runnable shutdownListener;
    private String warningLocation = "";
    private QmpSession currentSession;
    private boolean shutdownStarted;
    private boolean exportsClosed;

    /**
     * @param shutdownListener called (on the control thread) when quit or a signal asks the daemon to
     *                         stop; the owner stops the loop and finishes the shutdown
     */
    public Daemon(QapiSchema schema, Runnable shutdownListener) {
        this.schema = schema;
        this.shutdownListener = shutdownListener;
        this.commands = new CommandRegistry(schema);
        this.optionHooks = new OptionHooks(commands);
        this.monitors = new QmpMonitors(this);
        for (ShutdownPhase p : ShutdownPhase.values()) {
            shutdownSteps.put(p, new ArrayList<>());
        }
        CommandGroups.registerAll(this, commands);
    }

    public QapiSchema schema() {
        return schema;
    }

    public ControlLoop loop() {
        return loop;
    }

    public QmpEvents events() {
        return events;
    }

    public CommandRegistry commands() {
        return commands;
    }

    public ObjectRegistry objects() {
        return objects;
    }

    /** Factories for object-add / --object types; tls-creds-* are registered by the NBD group. */
    public ObjectTypes objectTypes() {
        return objectTypes;
    }

    public OptionHooks optionHooks() {
        return optionHooks;
    }

    public Chardevs chardevs() {
        return chardevs;
    }

    public QmpMonitors monitors() {
        return monitors;
    }

    /** Registers a subsystem (block graph, export registry, NBD server ...) under its class. */
    public <T> void putComponent(Class<T> type, T component) {
        if (components.putIfAbsent(type, component) != null) {
            throw new IllegalStateException("component registered twice: " + type.getName());
        }
    }

    /** The subsystem registered under type, or null. */
    public <T> T component(Class<T> type) {
        return type.cast(components.get(type));
    }

    public void addShutdownStep(ShutdownPhase phase, Runnable step) {
        shutdownSteps.get(phase).add(step);
    }

    /** The monitor session whose command is running now (null for command-line options). */
    /**
     * Prints a warning to stderr as QEMU's warn_report does: behind the location of the command-line option being
     * applied ("isthmus: --blockdev ...: warning: ..."), or bare while a QMP command runs. Control thread.
     */
    public void warn(String message) {
        System.err.println(warningLocation + "warning: " + message);
        System.err.flush();
    }

    /** The prefix {@link #warn} puts before "warning:" (a program name and option location), "" for none. */
    public void setWarningLocation(String prefix) {
        warningLocation = prefix == null ? "" : prefix;
    }

    public QmpSession currentSession() {
        return currentSession;
    }

    public void setCurrentSession(QmpSession session) {
        this.currentSession = session;
    }

    /**
     * quit / SIGINT / SIGTERM / SIGHUP: closes the exports first (their BLOCK_EXPORT_DELETED events go
     * out before quit's reply, as in QSD 7.2), then tells the owner to stop the loop.
     */
    public void requestShutdown() {
        if (shutdownStarted) {
            return;
        }
        shutdownStarted = true;
        closeExports();
        shutdownListener.run();
    }

    public boolean shutdownRequested() {
        return shutdownStarted;
    }

    private void closeExports() {
        if (!exportsClosed) {
            exportsClosed = true;
            runPhase(ShutdownPhase.EXPORTS);
        }
    }

    /** The rest of the shutdown after the loop stopped: block layer, monitors (flushed), objects. */
    public void finishShutdown() {
        closeExports();
        runPhase(ShutdownPhase.BLOCK);
        monitors.closeAll();
        runPhase(ShutdownPhase.MONITORS);
        chardevs.closeAll();
        objects.closeAll();
        runPhase(ShutdownPhase.OBJECTS);
    }

    private void runPhase(ShutdownPhase phase) {
        for (Runnable r : shutdownSteps.get(phase)) {
            try {
                r.run();
            } catch (RuntimeException e) {
                System.err.println("isthmus: shutdown step failed: " + e.getMessage());
            }
        }
    }
}
