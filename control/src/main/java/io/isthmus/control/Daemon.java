package io.isthmus.control;

import io.isthmus.control.commands.BitmapCommands;
import io.isthmus.control.commands.BlockExportCommands;
import io.isthmus.control.commands.BlockdevCommands;
import io.isthmus.control.commands.CommandGroup;
import io.isthmus.control.commands.CommandRegistry;
import io.isthmus.control.commands.ControlCommands;
import io.isthmus.control.commands.ExportIoThreads;
import io.isthmus.control.commands.NbdServerCommands;
import io.isthmus.control.commands.OptionHooks;
import io.isthmus.control.commands.QomCommands;
import io.isthmus.control.commands.TlsCredsObjects;
import io.isthmus.control.commands.Warnings;
import io.isthmus.control.commands.qom.ObjectRegistry;
import io.isthmus.control.commands.qom.ObjectTypes;
import io.isthmus.control.qapi.QapiSchema;
import io.isthmus.control.qmp.Chardevs;
import io.isthmus.control.qmp.QmpDispatcher;
import io.isthmus.control.qmp.QmpEvents;
import io.isthmus.control.qmp.QmpMonitors;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.export.BlockGraphNodes;
import io.isthmus.engine.export.ExportManager;
import io.isthmus.engine.export.fuse.FuseExportDriver;
import io.isthmus.engine.export.nbd.NbdExportDriver;
import io.isthmus.engine.export.vhostuser.VhostUserBlkExportDriver;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The control plane, assembled: {@link #create} builds every piece in order and hands each what it uses, so this
 * one method shows how the daemon is wired; {@link Shutdown#request} and {@link #finishShutdown} take it apart in
 * phases. What the command line's options need ({@link io.isthmus.control.cli.StartupOptions}) is reachable from
 * here; nothing else looks pieces up.
 *
 * <p>Control thread only, except {@link #events()} and {@link #loop()}, which any thread may use.
 */
public final class Daemon {
    private final QapiSchema schema;
    private final ControlLoop loop;
    private final QmpEvents events;
    private final ObjectRegistry objects;
    private final ObjectTypes objectTypes;
    private final BlockGraph graph;
    private final ExportIoThreads exportThreads;
    private final CommandRegistry commands;
    private final OptionHooks optionHooks;
    private final Warnings warnings;
    private final Chardevs chardevs;
    private final QmpMonitors monitors;
    private final Shutdown shutdown;
    private final ExportManager exportManager;

    private Daemon(QapiSchema schema, ControlLoop loop, QmpEvents events, ObjectRegistry objects,
                   ObjectTypes objectTypes, BlockGraph graph, ExportIoThreads exportThreads,
                   ExportManager exportManager, CommandRegistry commands, OptionHooks optionHooks, Warnings warnings, Chardevs chardevs,
                   QmpMonitors monitors, Shutdown shutdown) {
        this.schema = schema;
        this.loop = loop;
        this.events = events;
        this.objects = objects;
        this.objectTypes = objectTypes;
        this.graph = graph;
        this.exportThreads = exportThreads;
        this.exportManager = exportManager;
        this.commands = commands;
        this.optionHooks = optionHooks;
        this.warnings = warnings;
        this.chardevs = chardevs;
        this.monitors = monitors;
        this.shutdown = shutdown;
    }

    /** Builds the daemon: no threads start here (IoThreads and monitors start when options create them). */
    public static Daemon create(QapiSchema schema) {
        // the control thread's loop, and the events every negotiated monitor client hears
        ControlLoop loop = new ControlLoop();
        QmpEvents events = new QmpEvents();
        // QOM objects (iothread, secret, authz-*, tls-creds-*) and the types object-add can create
        ObjectRegistry objects = new ObjectRegistry();
        ObjectTypes objectTypes = new ObjectTypes();
        // the block layer
        BlockGraph graph = new BlockGraph();
        // exports: their IoThreads, the one export table and its drivers; the NBD driver holds the NBD server
        ExportIoThreads exportThreads = new ExportIoThreads(objects);
        ExportManager exports = exportManager(graph, exportThreads, loop, events);
        NbdExportDriver nbd = new NbdExportDriver();
        exports.registerDriver(nbd);
        exports.registerDriver(new FuseExportDriver(loop::post)); // resizes run on the control loop
        exports.registerDriver(new VhostUserBlkExportDriver());
        // shutdown, phase 1 (quit, a signal): every export, then the NBD server; then the loop stops
        Shutdown shutdown = new Shutdown(loop, () -> {
            Shutdown.step(() -> exports.closeAll(null));
            Shutdown.step(() -> NbdServerCommands.stopServer(nbd));
        });

        // the command groups, each handed what its handlers use
        CommandRegistry commands = new CommandRegistry(schema);
        OptionHooks optionHooks = new OptionHooks(commands);
        Warnings warnings = new Warnings();
        BlockExportCommands blockExports = new BlockExportCommands(exports);
        List<CommandGroup> groups = List.of(
                new ControlCommands(schema, commands, shutdown::request),
                new QomCommands(schema, objects, objectTypes),
                new TlsCredsObjects(objects, objectTypes),
                new BlockdevCommands(graph, warnings, objects),
                new BitmapCommands(graph),
                blockExports,
                new NbdServerCommands(nbd, exports, blockExports, graph, objects, exportThreads, optionHooks));
        for (CommandGroup group : groups) {
            group.register(commands);
        }

        // chardevs and the QMP monitors on them; qmp_capabilities is the dispatcher's own command
        Chardevs chardevs = new Chardevs();
        QmpDispatcher dispatcher = new QmpDispatcher(schema, commands);
        dispatcher.register(commands);
        QmpMonitors monitors = new QmpMonitors(chardevs, events, dispatcher, loop);
        return new Daemon(schema, loop, events, objects, objectTypes, graph, exportThreads, exports, commands,
                optionHooks, warnings, chardevs, monitors, shutdown);
    }

    /**
     * A command-line option failed after others were applied: the FUSE exports made so far are unmounted, so that
     * no mount outlives the failed start (the process exits right after; nothing else needs undoing).
     */
    void abandonStartup() {
        Shutdown.step(() -> exportManager.closeAll("fuse"));
    }

    /**
     * The export table: nodes from the block graph, IoThreads from iothread objects or the default one; an export
     * whose last reference goes finishes its deletion on the control loop (after the running command's reply, as
     * QEMU's bottom half) and is announced with BLOCK_EXPORT_DELETED.
     */
    private static ExportManager exportManager(BlockGraph graph, ExportIoThreads threads, ControlLoop loop,
                                               QmpEvents events) {
        ExportManager exports = new ExportManager(BlockGraphNodes.resolver(graph), threads::named,
                threads::defaultThread, r -> {
                    if (loop.inLoop()) {
                        loop.post(r);
                    } else {
                        r.run();
                    }
                });
        exports.setWaitPump(loop::drainPending);
        exports.setListener(id -> {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("id", id);
            events.emit("BLOCK_EXPORT_DELETED", data);
        });
        return exports;
    }

    /**
     * The rest of the shutdown, after the loop stopped: the exports (if no request closed them), the block
     * layer, the monitors (their clients' output flushed) and chardevs, the objects, and last the exports'
     * default IoThread.
     */
    public void finishShutdown() {
        shutdown.closeExports();
        Shutdown.step(graph::closeAll);
        monitors.closeAll();
        chardevs.closeAll();
        objects.closeAll();
        Shutdown.step(exportThreads::close);
    }

    /** quit / SIGINT / SIGTERM / SIGHUP (control thread): see {@link Shutdown#request}. */
    public void requestShutdown() {
        shutdown.request();
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

    /** Factories for object-add / --object types. */
    public ObjectTypes objectTypes() {
        return objectTypes;
    }

    public OptionHooks optionHooks() {
        return optionHooks;
    }

    /** Where handlers' warnings go; the command line sets the option location around each option. */
    public Warnings warnings() {
        return warnings;
    }

    public Chardevs chardevs() {
        return chardevs;
    }

    public QmpMonitors monitors() {
        return monitors;
    }
}
