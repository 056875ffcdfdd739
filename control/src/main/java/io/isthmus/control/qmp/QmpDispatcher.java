package io.isthmus.control.qmp;

import io.isthmus.control.Daemon;
import io.isthmus.control.QmpError;
import io.isthmus.control.json.JsonParseException;
import io.isthmus.control.json.QDictOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * QEMU's qmp_dispatch(): checks the request envelope, finds the command, validates its arguments and
 * runs it, producing the reply with QEMU's texts: {@code {"return": ..., "id": ...}} or
 * {@code {"id": ..., "error": {"class": ..., "desc": ...}}} (the writer puts members in QEMU's order).
 */
final class QmpDispatcher {
    private QmpDispatcher() {
    }

    /** An in-band request or a parse error; control thread. */
    static Map<String, Object> dispatchInBand(Daemon daemon, QmpSession session, Object request,
                                              JsonParseException parseError) {
        if (parseError != null) {
            return errorResponse(QmpError.generic(parseError.getMessage()), null);
        }
        boolean negotiating = !session.negotiated();
        Map<String, Object> rsp;
        daemon.setCurrentSession(session);
        try {
            rsp = dispatch(daemon, session, request, negotiating, session.oobEnabled());
        } finally {
            daemon.setCurrentSession(null);
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
    static Map<String, Object> dispatchOutOfBand(Daemon daemon, QmpSession session, Map<String, Object> request) {
        Object id = request.get("id");
        try {
            String command = checkEnvelope(request, session.oobEnabled());
            if (!session.negotiated() || !daemon.schema().hasCommand(command) || !daemon.commands().has(command)) {
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

    private static Map<String, Object> dispatch(Daemon daemon, QmpSession session, Object request,
                                                boolean negotiating, boolean allowOob) {
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
            boolean found = negotiating ? command.equals("qmp_capabilities") : daemon.commands().serves(command);
            if (!found) {
                throw new QmpError(QmpError.COMMAND_NOT_FOUND, "The command " + command + " has not been found");
            }
            if (oob && !daemon.schema().allowsOob(command)) {
                throw QmpError.generic("The command " + command + " does not support OOB");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> args = dict.containsKey("arguments")
                    ? (Map<String, Object>) dict.get("arguments") : new LinkedHashMap<>();
            ret = daemon.commands().execute(command, args);
        } catch (QmpError e) {
            return errorResponse(e, id);
        } catch (RuntimeException e) {
            System.err.println("isthmus: internal error in command handler: " + e);
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
