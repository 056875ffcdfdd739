package io.isthmus.control.qapi;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Resolves libvirt-style schema queries against a {@code query-qmp-schema} result, with the
 * syntax of libvirt's {@code virQEMUQAPISchemaPathGet}:
 * {@code command_or_event/attribute/subattribute/+variant/subattribute...}
 * <ul>
 * <li>the first component names a command or event; {@code arg-type} / {@code ret-type} follow
 * its argument or return type;</li>
 * <li>{@code name} selects an object member, {@code *name} one that must be optional (has
 * {@code default}), {@code +case} a union variant; a name starting with a non-letter is written
 * with one leading space;</li>
 * <li>arrays are flattened to their element type; alternates are tried branch by branch until
 * one succeeds;</li>
 * <li>boolean queries, last in a path: {@code ^value} (the enum reached accepts {@code value}),
 * {@code $feature} (the entry reached has {@code feature}), {@code !type} (the entry reached is a
 * builtin of that json-type, or of that meta-type); an array is looked through to its element
 * type first.</li>
 * </ul>
 * Example probes libvirt uses: {@code nbd-server-start/arg-type/tls-creds},
 * {@code blockdev-add/arg-type/+file/aio/^io_uring},
 * {@code blockdev-add/arg-type/+file/$dynamic-auto-read-only}.
 *
 * <p>Immutable after construction.
 */
public final class SchemaProbe {
    private final Map<String, Map<String, Object>> byName = new HashMap<>();

    @SuppressWarnings("unchecked")
    public SchemaProbe(List<Object> introspection) {
        for (Object o : introspection) {
            Map<String, Object> e = (Map<String, Object>) o;
            byName.put((String) e.get("name"), e);
        }
    }

    /** Whether {@code query} resolves (libvirt's {@code virQEMUQAPISchemaPathExists}). */
    public boolean has(String query) {
        return resolve(query) != null;
    }

    /**
     * Resolves {@code query}: the schema entry reached, or for a boolean query the entry it was
     * evaluated on; null when the query does not hold.
     */
    public Map<String, Object> resolve(String query) {
        String[] parts = query.split("/", -1);
        if (parts.length == 0 || parts[0].isEmpty()) {
            return null;
        }
        return traverse(parts[0], parts, 1);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> traverse(String name, String[] q, int i) {
        Map<String, Object> cur = byName.get(name);
        if (cur == null) {
            return null;
        }
        if (i == q.length) {
            return cur;
        }
        String part = q[i];
        if (part.isEmpty()) {
            return null;
        }
        char mod = part.charAt(0);
        String arg = part.substring(1);
        if (mod == '^' || mod == '$' || mod == '!') {
            while ("array".equals(cur.get("meta-type"))) {
                cur = byName.get((String) cur.get("element-type"));
                if (cur == null) {
                    return null;
                }
            }
        }
        String meta = (String) cur.get("meta-type");
        switch (mod) {
            case '^' -> {
                return i == q.length - 1 && "enum".equals(meta)
                        && ((List<Object>) cur.get("values")).contains(arg) ? cur : null;
            }
            case '$' -> {
                return i == q.length - 1 && cur.get("features") instanceof List<?> f && f.contains(arg) ? cur : null;
            }
            case '!' -> {
                Object type = "builtin".equals(meta) ? cur.get("json-type") : meta;
                return i == q.length - 1 && arg.equals(type) ? cur : null;
            }
            default -> { }
        }
        switch (meta) {
            case "array" -> {
                return traverse((String) cur.get("element-type"), q, i);
            }
            case "object" -> {
                boolean alpha = Character.isLetter(mod) && mod < 0x80;
                String key = alpha ? part : arg;
                Map<String, Object> sel;
                if (mod == '+') {
                    sel = find(cur.get("variants"), "case", key);
                } else {
                    sel = find(cur.get("members"), "name", key);
                    if (sel != null && mod == '*' && !sel.containsKey("default")) {
                        return null;
                    }
                }
                return sel == null ? null : traverse((String) sel.get("type"), q, i + 1);
            }
            case "command", "event" -> {
                return cur.get(part) instanceof String t ? traverse(t, q, i + 1) : null;
            }
            case "alternate" -> {
                for (Object m : (List<Object>) cur.get("members")) {
                    Map<String, Object> r = traverse((String) ((Map<String, Object>) m).get("type"), q, i);
                    if (r != null) {
                        return r;
                    }
                }
                return null;
            }
            default -> {
                return null;
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> find(Object list, String field, String value) {
        if (!(list instanceof List<?> l)) {
            return null;
        }
        for (Object o : l) {
            Map<String, Object> m = (Map<String, Object>) o;
            if (value.equals(m.get(field))) {
                return m;
            }
        }
        return null;
    }
}
