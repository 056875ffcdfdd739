package io.isthmus.control.qmp;

import io.isthmus.control.QmpError;
import java.util.Map;

/** QemuOpts boolean values: on/off, yes/no, true/false (QEMU's qapi_bool_parse). */
public final class QemuBool {
    private QemuBool() {
    }

    public static boolean parse(Map<String, String> opts, String name, boolean dflt) throws QmpError {
        String v = opts.get(name);
        if (v == null) {
            return dflt;
        }
        return switch (v) {
            case "on", "yes", "true", "y" -> true;
            case "off", "no", "false", "n" -> false;
            default -> throw QmpError.generic("Parameter '" + name + "' expects 'on' or 'off'");
        };
    }
}
