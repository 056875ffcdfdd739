package io.isthmus.control.qmp;

import io.isthmus.control.ProgName;
import io.isthmus.control.QmpError;
import io.isthmus.control.commands.CommandGroup;
import io.isthmus.control.commands.CommandRegistry;
import io.isthmus.control.json.JsonParseException;
import io.isthmus.control.json.QDictOrder;
import io.isthmus.control.qapi.QapiSchema;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * QEMU's qmp_dispatch(): checks the request envelope, finds the command, validates its arguments and
 * runs it, producing the reply with QEMU's texts: {@code {"return": ..., "id": ...}} or
 * {@code {"id": ..., "error": {"class": ..., "desc": ...}}} (the writer puts members in QEMU's order).
 *
 * <p>It also serves {@code qmp_capabilities} (as QEMU's monitor code does, not a command group): the command
 * negotiates on the client whose request is being dispatched.
 *
 * <p>Threads: in-band requests and {@code qmp_capabilities} on the control thread; out-of-band requests on a
 * monitor's reader thread (they read only the schema and the registry, fixed after start-up).
 */
public final class QmpDispatcher implements CommandGroup {
    private final QapiSchema schema;
    private final CommandRegistry commands;
    /** The client whose in-band command runs now (control thread); null for command-line options. */
    private QmpCapabilities current;

    public QmpDispatcher(QapiSchema schema, CommandRegistry commands) {
        this.schema = schema;
        this.commands = commands;
    }

    @Override
    public void register(CommandRegistry r) {
        r.register("qmp_capabilities", this::qmpCapabilities);
    }

    private Object qmpCapabilities(Map<String, Object> args) throws QmpError {
        QmpCapabilities session = current;
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

    /** An in-band request or a parse error from the client whose negotiation state is {@code session}. */
    Map<String, Object> dispatchInBand(QmpCapabilities session, Object request, JsonParseException parseError) {
        if (parseError != null) {
            return errorResponse(QmpError.generic(parseError.getMessage()), null);
        }
        boolean negotiating = !session.negotiated();
        Map<String, Object> rsp;
        current = session;
        try {
            rsp = dispatch(request, negotiating, session.oobEnabled());
        } finally {
            current = null;
        }
        if (negotiating && rsp.get("error") instanceof Map<?, ?> err
                && QmpError.COMMAND_NOT_FOUND.equals(err.get("class"))) {
            @SuppressWarnings("unchecked")
            Map<String, Object> e = (Map<String, Object>) err;
            e.remove("desc");
            e.put("desc", "Expecting capabilities negotiation with 'qmp_capabilities'");
        }
        return rsp;
    }

    /**
     * An {@code exec-oob} request; monitor reader thread. No command Isthmus serves allows OOB (none in
     * QSD 7.2 does), so this only ever checks the envelope and answers with an error.
     */
    Map<String, Object> dispatchOutOfBand(QmpCapabilities session, Map<String, Object> request) {
        Object id = request.get("id");
        try {
            String command = checkEnvelope(request, session.oobEnabled());
            if (!session.negotiated() || !schema.hasCommand(command) || !commands.has(command)) {
                throw new QmpError(QmpError.COMMAND_NOT_FOUND, "The command " + command + " has not been found");
            }
            throw QmpError.generic("The command " + command + " does not support OOB");
        } catch (QmpError e) {
            Map<String, Object> rsp = errorResponse(e, id);
            if (!session.negotiated() && QmpError.COMMAND_NOT_FOUND.equals(e.errorClass())) {
                @SuppressWarnings("unchecked")
                Map<String, Object> err = (Map<String, Object>) rsp.get("error");
                err.put("desc", "Expecting capabilities negotiation with 'qmp_capabilities'");
            }
            return rsp;
        }
    }

    private Map<String, Object> dispatch(Object request, boolean negotiating, boolean allowOob) {
        if (!(request instanceof Map<?, ?> raw)) {
            return errorResponse(QmpError.generic("QMP input must be a JSON object"), null);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> dict = (Map<String, Object>) raw;
        Object id = dict.get("id");
        Object ret;
        try {
            String command = checkEnvelope(dict, allowOob);
            boolean oob = !dict.containsKey("execute");
            boolean found = negotiating ? command.equals("qmp_capabilities") : commands.serves(command);
            if (!found) {
                throw new QmpError(QmpError.COMMAND_NOT_FOUND, "The command " + command + " has not been found");
            }
            if (oob && !schema.allowsOob(command)) {
                throw QmpError.generic("The command " + command + " does not support OOB");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> args = dict.containsKey("arguments")
                    ? (Map<String, Object>) dict.get("arguments") : new LinkedHashMap<>();
            ret = commands.execute(command, args);
        } catch (QmpError e) {
            return errorResponse(e, id);
        } catch (RuntimeException e) {
            System.err.println(ProgName.NAME + ": internal error in command handler: " + e);
            e.printStackTrace();
            return errorResponse(QmpError.generic("Internal error: " + e), id);
        }
        Map<String, Object> rsp = new LinkedHashMap<>();
        rsp.put("return", ret);
        if (id != null) {
            rsp.put("id", id);
        }
        return rsp;
    }

    /** qmp_dispatch_check_obj(): members checked in QDict order, like QEMU. Returns the command name. */
    static String checkEnvelope(Map<String, Object> dict, boolean allowOob) throws QmpError {
        String execKey = null;
        for (Map.Entry<String, Object> e : QDictOrder.entries(dict)) {
            String name = e.getKey();
            Object value = e.getValue();
            if (name.equals("execute") || (name.equals("exec-oob") && allowOob)) {
                if (!(value instanceof String)) {
                    throw QmpError.generic("QMP input member '" + name + "' must be a string");
                }
                if (execKey != null) {
                    throw QmpError.generic("QMP input member '" + name + "' clashes with '" + execKey + "'");
                }
                execKey = name;
            } else if (name.equals("arguments")) {
                if (!(value instanceof Map)) {
                    throw QmpError.generic("QMP input member 'arguments' must be an object");
                }
            } else if (!name.equals("id")) {
                throw QmpError.generic("QMP input member '" + name + "' is unexpected");
            }
        }
        if (execKey == null) {
            throw QmpError.generic("QMP input lacks member 'execute'");
        }
        return (String) dict.get(execKey);
    }

    static Map<String, Object> errorResponse(QmpError e, Object id) {
        Map<String, Object> err = new LinkedHashMap<>();
        err.put("class", e.errorClass());
        err.put("desc", e.desc());
        Map<String, Object> rsp = new LinkedHashMap<>();
        rsp.put("error", err);
        if (id != null) {
            rsp.put("id", id);
        }
        return rsp;
    }
}
