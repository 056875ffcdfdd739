package io.isthmus.control.cli;

import io.isthmus.control.QmpError;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * QEMU's QemuOpts syntax, still used by {@code --chardev}: {@code backend,key=value,...} with
 * {@code ,,} for a literal comma, the first bare word as the implied key's value, a bare
 * {@code key} meaning {@code key=on} (and {@code nokey} meaning {@code key=off}). Unknown names are
 * refused with {@code Invalid parameter 'NAME'}.
 */
public final class QemuOptsParser {
    /** qemu_chardev_opts of QEMU 7.2. */
    public static final Set<String> CHARDEV_OPTS = Set.of(
            "backend", "id", "path", "host", "port", "fd", "local_addr", "local_port", "to", "ipv4", "ipv6",
            "wait", "server", "delay", "nodelay", "reconnect", "telnet", "tn3270", "websocket", "width",
            "height", "cols", "rows", "mux", "signal", "name", "debug", "size", "chardev", "append", "logfile",
            "logappend", "mouse", "clipboard", "tight", "abstract", "tls-creds", "tls-authz");
    private static final Set<String> BOOL_OPTS = Set.of(
            "ipv4", "ipv6", "wait", "server", "delay", "nodelay", "telnet", "tn3270", "websocket", "mux",
            "signal", "append", "logappend", "mouse", "clipboard", "tight", "abstract");

    private QemuOptsParser() {
    }

    public static Map<String, String> parseChardev(String text) throws QmpError {
        Map<String, String> opts = new LinkedHashMap<>();
        java.util.List<String> items = new java.util.ArrayList<>();
        StringBuilder item = new StringBuilder();
        for (int p = 0; p < text.length(); p++) {
            char c = text.charAt(p);
            if (c == ',') {
                if (p + 1 < text.length() && text.charAt(p + 1) == ',') {
                    item.append(',');
                    p++;
                    continue;
                }
                items.add(item.toString());
                item.setLength(0);
            } else {
                item.append(c);
            }
        }
        items.add(item.toString());
        for (int i = 0; i < items.size(); i++) {
            String s = items.get(i);
            if (s.isEmpty() && i > 0) {
                continue;
            }
            int eq = s.indexOf('=');
            String key;
            String value;
            if (eq >= 0) {
                key = s.substring(0, eq);
                value = s.substring(eq + 1);
            } else if (i == 0) {
                key = "backend";
                value = s;
            } else if (!BOOL_OPTS.contains(s) && s.startsWith("no") && BOOL_OPTS.contains(s.substring(2))) {
                key = s.substring(2);
                value = "off";
            } else {
                key = s;
                value = "on";
            }
            if (!CHARDEV_OPTS.contains(key)) {
                throw QmpError.generic("Invalid parameter '" + key + "'");
            }
            opts.put(key, value);
        }
        return opts;
    }
}
