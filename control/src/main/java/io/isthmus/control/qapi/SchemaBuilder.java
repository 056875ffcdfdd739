package io.isthmus.control.qapi;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the schema model from schema-language files: follows includes (each file once, like
 * QEMU), drops definitions whose {@code 'if'} condition is false, creates the implicit types
 * (command arguments, inline union bases, array types, the empty struct), flattens bases into
 * member lists and checks that every referenced type exists.
 *
 * <p>This runs on the daemon's start-up path: it avoids lambdas, pattern switches and
 * {@code +} string concatenation outside error paths, whose first use costs tens of milliseconds
 * of invokedynamic bootstrapping.
 */
final class SchemaBuilder {
    /** Conditions that hold for Isthmus: a Linux build of QEMU with FUSE and io_uring. */
    static final Set<String> ENABLED_CONDITIONS = Set.of(
            "CONFIG_FUSE", "CONFIG_LINUX", "CONFIG_POSIX", "CONFIG_LINUX_IO_URING", "CONFIG_ZSTD",
            "HAVE_IPPROTO_MPTCP", "HAVE_HOST_BLOCK_DEVICE", "CONFIG_VHOST_USER_BLK_SERVER");

    static final String EMPTY = "q_empty";

    private static final String[][] BUILTINS = {
        {"str", "string"}, {"number", "number"}, {"int", "int"}, {"int8", "int"}, {"int16", "int"},
        {"int32", "int"}, {"int64", "int"}, {"uint8", "int"}, {"uint16", "int"}, {"uint32", "int"},
        {"uint64", "int"}, {"size", "int"}, {"bool", "boolean"}, {"null", "null"}, {"any", "value"},
    };

    private final String resourceDir;
    private final Set<String> included = new HashSet<>();
    /** Raw struct definitions: name -> (local members, base name); flattened on demand. */
    private final Map<String, List<QapiMember>> localMembers = new HashMap<>();
    private final Map<String, String> bases = new HashMap<>();
    private final Map<String, Map<String, Object>> unionDefs = new LinkedHashMap<>();
    final Map<String, QapiType> types = new LinkedHashMap<>();
    final Map<String, QapiCommand> commands = new LinkedHashMap<>();
    final Map<String, QapiEvent> events = new LinkedHashMap<>();
    /** Commands and events in definition order (what introspection lists first). */
    final List<Object> entities = new ArrayList<>();
    private final List<String> pendingRefs = new ArrayList<>();

    SchemaBuilder(String resourceDir) {
        this.resourceDir = resourceDir;
        for (String[] b : BUILTINS) {
            types.put(b[0], new QapiType.Builtin(b[0], b[1]));
        }
        localMembers.put(EMPTY, List.of());
    }

    static SchemaBuilder load(String resourceDir, String mainFile) {
        SchemaBuilder b = new SchemaBuilder(resourceDir);
        b.include(mainFile);
        b.finish();
        return b;
    }

    private void include(String file) {
        if (!included.add(file)) {
            return;
        }
        String path = resourceDir.concat("/").concat(file);
        String text;
        try (InputStream in = SchemaBuilder.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("QAPI schema file not found: " + path);
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read QAPI schema file " + path, e);
        }
        for (Map<String, Object> expr : SchemaTextParser.parse(file, text)) {
            define(file, expr);
        }
    }

    private void define(String file, Map<String, Object> expr) {
        if (expr.containsKey("include")) {
            include((String) expr.get("include"));
            return;
        }
        if (expr.containsKey("pragma")) {
            return;
        }
        if (!condition(expr.get("if"))) {
            return;
        }
        List<String> features = features(expr.get("features"));
        if (expr.get("enum") instanceof String name) {
            List<QapiType.EnumValue> values = new ArrayList<>();
            for (Object v : (List<?>) expr.get("data")) {
                if (v instanceof String s) {
                    values.add(new QapiType.EnumValue(s, List.of()));
                } else {
                    Map<?, ?> m = (Map<?, ?>) v;
                    if (condition(m.get("if"))) {
                        values.add(new QapiType.EnumValue((String) m.get("name"), features(m.get("features"))));
                    }
                }
            }
            put(new QapiType.Enum(name, List.copyOf(values), features));
        } else if (expr.get("struct") instanceof String name) {
            localMembers.put(name, members(expr.get("data")));
            if (expr.get("base") != null) {
                bases.put(name, (String) expr.get("base"));
            }
            structPlaceholder(name, features, false);
        } else if (expr.get("union") instanceof String name) {
            Object base = expr.get("base");
            String baseName;
            if (base instanceof Map<?, ?>) {
                baseName = "q_obj_".concat(name).concat("-base");
                localMembers.put(baseName, members(base));
                structPlaceholder(baseName, List.of(), true);
            } else {
                baseName = (String) base;
            }
            localMembers.put(name, List.of());
            bases.put(name, baseName);
            unionDefs.put(name, expr);
            structPlaceholder(name, features, false);
        } else if (expr.get("alternate") instanceof String name) {
            List<QapiMember> branches = new ArrayList<>();
            for (Map.Entry<String, Object> e : data(expr.get("data")).entrySet()) {
                Object t = e.getValue();
                if (t instanceof Map<?, ?> m) {
                    if (!condition(m.get("if"))) {
                        continue;
                    }
                    t = m.get("type");
                }
                branches.add(new QapiMember(e.getKey(), typeRef(t), false, List.of()));
            }
            put(new QapiType.Alternate(name, List.copyOf(branches), features));
        } else if (expr.get("command") instanceof String name) {
            String arg = argType(name, expr.get("data"));
            String ret = expr.get("returns") == null ? EMPTY : typeRef(expr.get("returns"));
            commands.put(name, new QapiCommand(name, arg, ret, Boolean.TRUE.equals(expr.get("boxed")),
                    Boolean.TRUE.equals(expr.get("allow-oob")), Boolean.TRUE.equals(expr.get("allow-preconfig")),
                    features));
            entities.add(commands.get(name));
        } else if (expr.get("event") instanceof String name) {
            QapiEvent ev = new QapiEvent(name, argType(name, expr.get("data")), features);
            events.put(name, ev);
            entities.add(ev);
        } else {
            throw new IllegalStateException(file + ": unknown schema expression " + expr.keySet());
        }
    }

    private String argType(String owner, Object data) {
        if (data == null) {
            return EMPTY;
        }
        if (data instanceof String s) {
            pendingRefs.add(s);
            return s;
        }
        String name = "q_obj_".concat(owner).concat("-arg");
        localMembers.put(name, members(data));
        structPlaceholder(name, List.of(), true);
        return name;
    }

    private void structPlaceholder(String name, List<String> features, boolean implicit) {
        // The real Struct is built in finish(), once every base and variant is known.
        types.put(name, new QapiType.Struct(name, List.of(), null, Map.of(), features, implicit));
    }

    private void put(QapiType t) {
        if (types.put(t.name(), t) != null) {
            throw new IllegalStateException("duplicate QAPI definition " + t.name());
        }
    }

    private List<QapiMember> members(Object data) {
        List<QapiMember> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : data(data).entrySet()) {
            String key = e.getKey();
            Object t = e.getValue();
            List<String> features = List.of();
            if (t instanceof Map<?, ?> m) {
                if (!condition(m.get("if"))) {
                    continue;
                }
                features = features(m.get("features"));
                t = m.get("type");
            }
            boolean optional = key.startsWith("*");
            out.add(new QapiMember(optional ? key.substring(1) : key, typeRef(t), optional, features));
        }
        return List.copyOf(out);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> data(Object data) {
        return data == null ? Map.of() : (Map<String, Object>) data;
    }

    private String typeRef(Object t) {
        if (t instanceof List<?> l) {
            String element = typeRef(l.get(0));
            String name = "[".concat(element).concat("]");
            types.putIfAbsent(name, new QapiType.Array(name, element));
            if (element.matches("u?int(8|16|32|64)?|size")) {
                // introspection shows every integer array as [int] (introspect.py), which must then exist
                types.putIfAbsent("[int]", new QapiType.Array("[int]", "int"));
            }
            return name;
        }
        String s = (String) t;
        pendingRefs.add(s);
        return s;
    }

    private static List<String> features(Object f) {
        if (f == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) f) {
            if (o instanceof String s) {
                out.add(s);
            } else {
                Map<?, ?> m = (Map<?, ?>) o;
                if (condition(m.get("if"))) {
                    out.add((String) m.get("name"));
                }
            }
        }
        return List.copyOf(out);
    }

    static boolean condition(Object cond) {
        if (cond == null) {
            return true;
        }
        if (cond instanceof String s) {
            return ENABLED_CONDITIONS.contains(s);
        }
        Map<?, ?> m = (Map<?, ?>) cond;
        if (m.get("all") instanceof List<?> all) {
            return all.stream().allMatch(SchemaBuilder::condition);
        }
        if (m.get("any") instanceof List<?> any) {
            return any.stream().anyMatch(SchemaBuilder::condition);
        }
        if (m.containsKey("not")) {
            return !condition(m.get("not"));
        }
        throw new IllegalStateException("bad 'if' condition " + cond);
    }

    private void finish() {
        types.put(EMPTY, new QapiType.Struct(EMPTY, List.of(), null, Map.of(), List.of(), true));
        for (String ref : pendingRefs) {
            if (!types.containsKey(ref)) {
                throw new IllegalStateException("QAPI type '" + ref + "' is used but not defined");
            }
        }
        Map<String, List<QapiMember>> flat = new HashMap<>();
        for (String name : new ArrayList<>(localMembers.keySet())) {
            QapiType.Struct old = (QapiType.Struct) types.get(name);
            List<QapiMember> members = flatten(name, flat, new HashSet<>());
            String tag = null;
            Map<String, String> variants = Map.of();
            Map<String, Object> union = unionDefs.get(name);
            if (union != null) {
                tag = (String) union.get("discriminator");
                QapiMember tagMember = null;
                for (QapiMember m : members) {
                    if (m.name().equals(tag)) {
                        tagMember = m;
                    }
                }
                if (tagMember == null || tagMember.optional()
                        || !(types.get(tagMember.type()) instanceof QapiType.Enum tagEnum)) {
                    throw new IllegalStateException("union " + name + ": bad discriminator " + tag);
                }
                Map<String, String> v = new LinkedHashMap<>();
                for (Map.Entry<String, Object> e : data(union.get("data")).entrySet()) {
                    Object t = e.getValue();
                    if (t instanceof Map<?, ?> m) {
                        if (!condition(m.get("if"))) {
                            continue;
                        }
                        t = m.get("type");
                    }
                    if (!tagEnum.accepts(e.getKey())) {
                        throw new IllegalStateException("union " + name + ": branch " + e.getKey() + " not in enum");
                    }
                    if (!(types.get((String) t) instanceof QapiType.Struct)) {
                        throw new IllegalStateException("union " + name + ": branch type " + t + " is not a struct");
                    }
                    v.put(e.getKey(), (String) t);
                }
                // QEMU lists omitted branches after the declared ones, as the empty object.
                for (QapiType.EnumValue ev : tagEnum.values()) {
                    v.putIfAbsent(ev.name(), EMPTY);
                }
                variants = java.util.Collections.unmodifiableMap(v);
            }
            types.put(name, new QapiType.Struct(name, members, tag, variants, old.features(), old.implicit()));
        }
    }

    private List<QapiMember> flatten(String name, Map<String, List<QapiMember>> done, Set<String> visiting) {
        List<QapiMember> r = done.get(name);
        if (r != null) {
            return r;
        }
        if (!visiting.add(name)) {
            throw new IllegalStateException("QAPI base cycle at " + name);
        }
        List<QapiMember> out = new ArrayList<>();
        String base = bases.get(name);
        if (base != null) {
            if (!localMembers.containsKey(base)) {
                throw new IllegalStateException(name + ": base " + base + " is not a struct");
            }
            out.addAll(flatten(base, done, visiting));
        }
        out.addAll(localMembers.get(name));
        r = List.copyOf(out);
        done.put(name, r);
        return r;
    }
}
