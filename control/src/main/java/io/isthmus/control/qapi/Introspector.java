package io.isthmus.control.qapi;

import io.isthmus.control.json.JsonNull;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Generates the {@code query-qmp-schema} value the way QEMU's scripts/qapi/introspect.py does:
 * commands and events first, in definition order, then every type they use, in order of first
 * use. Type names other than builtins are masked as numbers in order of first use; all integer
 * types appear as {@code int}; optional members carry {@code "default": null}; union branches
 * omitted in the schema appear as the empty object.
 *
 * <p>Entries are built with QEMU's member insertion order (e.g. {@code arg-type, ret-type, name,
 * meta-type}); the result is immutable.
 */
final class Introspector {
    private final QapiTypes types;
    private final List<Object> trees = new ArrayList<>();
    private final List<String> usedTypes = new ArrayList<>();
    private final Map<String, Boolean> used = new HashMap<>();
    private final Map<String, String> nameMap = new HashMap<>();

    private Introspector(QapiTypes types) {
        this.types = types;
    }

    /** The SchemaInfo list of {@code entities} (the schema's commands and events, in definition order). */
    static List<Object> introspect(QapiTypes types, List<Object> entities) {
        Introspector in = new Introspector(types);
        for (Object e : entities) {
            switch (e) {
                case QapiCommand c -> in.command(c);
                case QapiEvent ev -> in.event(ev);
                default -> throw new IllegalStateException();
            }
        }
        for (int i = 0; i < in.usedTypes.size(); i++) {
            in.visitType(in.usedTypes.get(i));
        }
        return Collections.unmodifiableList(in.trees);
    }

    private String maskedName(String name) {
        return nameMap.computeIfAbsent(name, n -> Integer.toString(nameMap.size()));
    }

    private boolean isInt(QapiType t) {
        return t instanceof QapiType.Builtin b && b.jsonType().equals("int");
    }

    /** introspect.py's {@code _use_type}: records the type as used and returns its wire name. */
    private String useType(String typeName) {
        QapiType t = types.get(typeName);
        if (isInt(t)) {
            typeName = "int";
        } else if (t instanceof QapiType.Array a && isInt(types.get(a.elementType()))) {
            typeName = "[int]";
        }
        if (used.putIfAbsent(typeName, Boolean.TRUE) == null) {
            usedTypes.add(typeName);
        }
        t = types.get(typeName);
        return switch (t) {
            case QapiType.Builtin b -> b.name();
            case QapiType.Array a -> "[" + useType(a.elementType()) + "]";
            default -> maskedName(typeName);
        };
    }

    private void command(QapiCommand c) {
        Map<String, Object> obj = new LinkedHashMap<>();
        obj.put("arg-type", useType(c.argType()));
        obj.put("ret-type", useType(c.retType()));
        if (c.allowOob()) {
            obj.put("allow-oob", Boolean.TRUE);
        }
        tree(c.name(), "command", obj, c.features());
    }

    private void event(QapiEvent e) {
        Map<String, Object> obj = new LinkedHashMap<>();
        obj.put("arg-type", useType(e.argType()));
        tree(e.name(), "event", obj, e.features());
    }

    private void visitType(String typeName) {
        QapiType t = types.get(typeName);
        Map<String, Object> obj = new LinkedHashMap<>();
        switch (t) {
            case QapiType.Builtin b -> {
                obj.put("json-type", b.jsonType());
                tree(b.name(), "builtin", obj, List.of());
            }
            case QapiType.Enum e -> {
                List<Object> members = new ArrayList<>();
                List<Object> values = new ArrayList<>();
                for (QapiType.EnumValue v : e.values()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", v.name());
                    if (!v.features().isEmpty()) {
                        m.put("features", new ArrayList<Object>(v.features()));
                    }
                    members.add(Collections.unmodifiableMap(m));
                    values.add(v.name());
                }
                obj.put("members", Collections.unmodifiableList(members));
                obj.put("values", Collections.unmodifiableList(values));
                tree(e.name(), "enum", obj, e.features());
            }
            case QapiType.Array a -> {
                String element = useType(a.elementType());
                obj.put("element-type", element);
                tree("[" + element + "]", "array", obj, List.of());
            }
            case QapiType.Struct s -> {
                List<Object> members = new ArrayList<>();
                for (QapiMember m : s.members()) {
                    Map<String, Object> mo = new LinkedHashMap<>();
                    mo.put("name", m.name());
                    mo.put("type", useType(m.type()));
                    if (m.optional()) {
                        mo.put("default", JsonNull.NULL);
                    }
                    if (!m.features().isEmpty()) {
                        mo.put("features", Collections.unmodifiableList(new ArrayList<Object>(m.features())));
                    }
                    members.add(Collections.unmodifiableMap(mo));
                }
                obj.put("members", Collections.unmodifiableList(members));
                if (s.isUnion()) {
                    obj.put("tag", s.tag());
                    List<Object> variants = new ArrayList<>();
                    for (Map.Entry<String, String> v : s.variants().entrySet()) {
                        Map<String, Object> vo = new LinkedHashMap<>();
                        vo.put("case", v.getKey());
                        vo.put("type", useType(v.getValue()));
                        variants.add(Collections.unmodifiableMap(vo));
                    }
                    obj.put("variants", Collections.unmodifiableList(variants));
                }
                tree(s.name(), "object", obj, s.features());
            }
            case QapiType.Alternate a -> {
                List<Object> members = new ArrayList<>();
                for (QapiMember m : a.branches()) {
                    Map<String, Object> mo = new LinkedHashMap<>();
                    mo.put("type", useType(m.type()));
                    members.add(Collections.unmodifiableMap(mo));
                }
                obj.put("members", Collections.unmodifiableList(members));
                tree(a.name(), "alternate", obj, a.features());
            }
        }
    }

    private void tree(String name, String metaType, Map<String, Object> obj, List<String> features) {
        if (!metaType.equals("command") && !metaType.equals("event") && !metaType.equals("builtin")
                && !metaType.equals("array")) {
            name = maskedName(name);
        }
        obj.put("name", name);
        obj.put("meta-type", metaType);
        if (!features.isEmpty()) {
            obj.put("features", Collections.unmodifiableList(new ArrayList<Object>(features)));
        }
        trees.add(Collections.unmodifiableMap(obj));
    }
}
