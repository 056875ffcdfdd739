package io.isthmus.control.qapi;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Resolves libvirt-style schema probes against a {@code query-qmp-schema} result, as libvirt's
 * {@code virQEMUQAPISchemaPathGet} does. A probe is a {@code /}-separated path:
 * <ul>
 * <li>the first component names a command or event ({@code nbd-server-start}), optionally
 * prefixed with {@code *} (any entry) — QEMU's own naming;</li>
 * <li>{@code arg-type} / {@code ret-type} follow a command's or event's type;</li>
 * <li>a member name descends into an object member (variants included: the members of every
 * branch are searched), also through arrays and the object branches of alternates;</li>
 * <li>{@code +name} requires the entry reached to carry feature {@code name} ({@code +deprecated});
 * {@code ^value} requires an enum to accept {@code value}; {@code !metatype} requires the
 * entry reached to be of that meta-type ({@code !object}, {@code !enum}, ...).</li>
 * </ul>
 * Example: {@code nbd-server-start/arg-type/tls-creds},
 * {@code block-export-add/arg-type/+boxed}? (no: QEMU does not show boxedness), or
 * {@code blockdev-add/arg-type/+file/drop-cache}... see {@link #resolve}.
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

    /** Whether the probe resolves. */
    public boolean has(String probe) {
        return resolve(probe) != null;
    }

    /**
     * Resolves {@code probe}; returns the schema entry (or, for a final enum value or feature
     * query, the entry that satisfied it), or null when any step fails.
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> resolve(String probe) {
        String[] parts = probe.split("/", -1);
        Map<String, Object> cur = byName.get(parts[0]);
        if (cur == null) {
            return null;
        }
        for (int i = 1; i < parts.length && cur != null; i++) {
            String p = parts[i];
            if (p.isEmpty()) {
                return null;
            }
            char c = p.charAt(0);
            if (c == '+') {
                Object f = cur.get("features");
                if (!(f instanceof List<?> l) || !l.contains(p.substring(1))) {
                    return null;
                }
            } else if (c == '^') {
                cur = derefArray(cur);
                if (cur == null || !"enum".equals(cur.get("meta-type"))
                        || !((List<Object>) cur.get("values")).contains(p.substring(1))) {
                    return null;
                }
            } else if (c == '!') {
                if (!p.substring(1).equals(cur.get("meta-type"))) {
                    return null;
                }
            } else if (p.equals("arg-type") || p.equals("ret-type")) {
                Object t = cur.get(p);
                cur = t == null ? null : byName.get((String) t);
            } else {
                cur = member(cur, p);
            }
        }
        return cur;
    }

    private Map<String, Object> derefArray(Map<String, Object> e) {
        while (e != null && "array".equals(e.get("meta-type"))) {
            e = byName.get((String) e.get("element-type"));
        }
        return e;
    }

    /** The type of member {@code name} of an object (searching variants and alternate branches). */
    @SuppressWarnings("unchecked")
    private Map<String, Object> member(Map<String, Object> e, String name) {
        e = derefArray(e);
        if (e == null) {
            return null;
        }
        String meta = (String) e.get("meta-type");
        if ("alternate".equals(meta)) {
            for (Object m : (List<Object>) e.get("members")) {
                Map<String, Object> r = member(byName.get((String) ((Map<String, Object>) m).get("type")), name);
                if (r != null) {
                    return r;
                }
            }
            return null;
        }
        if (!"object".equals(meta)) {
            return null;
        }
        for (Object m : (List<Object>) e.get("members")) {
            Map<String, Object> mm = (Map<String, Object>) m;
            if (name.equals(mm.get("name"))) {
                return byName.get((String) mm.get("type"));
            }
        }
        Object variants = e.get("variants");
        if (variants instanceof List<?> vl) {
            for (Object v : vl) {
                Map<String, Object> r = member(byName.get((String) ((Map<String, Object>) v).get("type")), name);
                if (r != null) {
                    return r;
                }
            }
        }
        return null;
    }
}
