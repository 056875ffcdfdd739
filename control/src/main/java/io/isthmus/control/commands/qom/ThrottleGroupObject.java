package io.isthmus.control.commands.qom;

import io.isthmus.control.QmpError;
import io.isthmus.control.qapi.QapiSchema;
import io.isthmus.control.qapi.QemuHashOrder;
import io.isthmus.engine.block.throttle.ThrottleConfig;
import io.isthmus.engine.block.throttle.ThrottleGroup;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code throttle-group} (QEMU's block/throttle-groups.c): {@code limits} (ThrottleLimits) and the unstable
 * flat {@code x-} properties while the object is created, applied in the order QEMU applies an object-add's
 * members (QDict order); then validated as a whole when completed. Afterwards only {@code limits} can be
 * changed (qom-set), atomically: the merged limits are validated before the group sees them, and they act
 * on requests already queued. object-del is refused while a throttle node uses the group.
 *
 * <p>Control thread only; the engine's {@link ThrottleGroup} is what the data path shares.
 */
public final class ThrottleGroupObject extends AbstractQomObject {
    /** The properties[] table of throttle-groups.c: name (after x-), bucket, field. */
    private record Param(String name, int bucket, char field) {
    }

    private static final List<Param> PARAMS = new ArrayList<>();
    private static final Map<String, Param> BY_NAME = new LinkedHashMap<>();
    /** qom-list's order: "type", then the class's table as glib iterates it. */
    private static final List<String[]> PROPERTIES;

    static {
        String[] prefixes = {"iops-total", "iops-read", "iops-write", "bps-total", "bps-read", "bps-write"};
        int[] buckets = {ThrottleConfig.OPS_TOTAL, ThrottleConfig.OPS_READ, ThrottleConfig.OPS_WRITE,
            ThrottleConfig.BPS_TOTAL, ThrottleConfig.BPS_READ, ThrottleConfig.BPS_WRITE};
        for (int i = 0; i < prefixes.length; i++) {
            PARAMS.add(new Param(prefixes[i], buckets[i], 'a'));
            PARAMS.add(new Param(prefixes[i] + "-max", buckets[i], 'm'));
            PARAMS.add(new Param(prefixes[i] + "-max-length", buckets[i], 'l'));
        }
        PARAMS.add(new Param("iops-size", 0, 's'));
        List<String> inserted = new ArrayList<>();
        for (Param p : PARAMS) {
            BY_NAME.put(p.name(), p);
            inserted.add("x-" + p.name());
        }
        inserted.add("limits");
        List<String[]> props = new ArrayList<>();
        for (String n : QemuHashOrder.ghashOrder(inserted)) {
            props.add(new String[] {n, n.equals("limits") ? "ThrottleLimits" : "int"});
        }
        PROPERTIES = List.copyOf(props);
    }

    /** The order throttle_limits_to_config() reads ThrottleLimits in (its range errors come in this order). */
    private static final String[] LIMITS_ORDER = {
        "bps-total", "bps-read", "bps-write", "iops-total", "iops-read", "iops-write",
        "bps-total-max", "bps-read-max", "bps-write-max", "iops-total-max", "iops-read-max", "iops-write-max",
        "bps-total-max-length", "bps-read-max-length", "bps-write-max-length",
        "iops-total-max-length", "iops-read-max-length", "iops-write-max-length", "iops-size",
    };

    private final QapiSchema schema;
    /** The limits being built while the object is created; null once completed. */
    private ThrottleConfig building = new ThrottleConfig();
    private ThrottleGroup group;

    public ThrottleGroupObject(String id, Map<String, Object> props, QapiSchema schema) throws QmpError {
        super(id, "throttle-group");
        this.schema = schema;
        for (String key : QemuHashOrder.qdictOrder(props.keySet())) {
            if (key.equals("limits")) {
                @SuppressWarnings("unchecked")
                Map<String, Object> limits = (Map<String, Object>) props.get(key);
                building = withLimits(building, limits);
            } else {
                setFlat(key, props.get(key));
            }
        }
    }

    /** The engine's group (after completion). Control thread. */
    public ThrottleGroup group() {
        return group;
    }

    @Override
    public void complete() throws QmpError {
        String err = building.validate();
        if (err != null) {
            throw QmpError.generic(err);
        }
        group = new ThrottleGroup(id(), building);
        building = null;
    }

    @Override
    public void checkDeletable() throws QmpError {
        if (group != null && group.memberCount() > 0) {
            throw QmpError.generic("object '" + id() + "' is in use, can not be deleted");
        }
    }

    @Override
    public Object getProperty(String name) throws QmpError {
        ThrottleConfig c = group != null ? group.config() : building;
        if (name.equals("limits")) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Param p : PARAMS) {
                out.put(p.name(), get(c, p));
            }
            return out;
        }
        Param p = name.startsWith("x-") ? BY_NAME.get(name.substring(2)) : null;
        if (p == null) {
            throw QomObject.propertyNotFound(type(), name);
        }
        return get(c, p);
    }

    @Override
    public void setProperty(String name, Object value) throws QmpError {
        if (name.equals("limits")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> limits = (Map<String, Object>) schema.parseType("limits", "ThrottleLimits", value);
            group.configure(withLimits(group.config(), limits));
            return;
        }
        if (!name.startsWith("x-") || !BY_NAME.containsKey(name.substring(2))) {
            throw QomObject.propertyNotFound(type(), name);
        }
        setFlat(name, value);
    }

    @Override
    public List<String[]> properties() {
        return PROPERTIES;
    }

    private static long get(ThrottleConfig c, Param p) {
        return switch (p.field()) {
            case 'a' -> c.avg(p.bucket());
            case 'm' -> c.max(p.bucket());
            case 'l' -> c.burstLength(p.bucket());
            default -> c.opSize();
        };
    }

    /** throttle_group_set(): one flat x- property, before completion only. */
    private void setFlat(String name, Object value) throws QmpError {
        if (building == null) {
            throw QmpError.generic("Property cannot be set after initialization");
        }
        if (!(value instanceof Number n) || value instanceof Double || value instanceof Float) {
            throw QmpError.generic("Invalid parameter type for '" + name + "', expected: integer");
        }
        long v = n.longValue();
        if (v < 0) {
            throw QmpError.generic("Property values cannot be negative");
        }
        Param p = BY_NAME.get(name.substring(2));
        switch (p.field()) {
            case 'a' -> building.setAvg(p.bucket(), v);
            case 'm' -> building.setMax(p.bucket(), v);
            case 'l' -> {
                if (v > ThrottleConfig.BURST_LENGTH_LIMIT) {
                    // sic: QEMU 7.2's text lacks the space ("in the" "range")
                    throw QmpError.generic(name + " value must be in therange [0, " + ThrottleConfig.BURST_LENGTH_LIMIT + "]");
                }
                building.setBurstLength(p.bucket(), v);
            }
            default -> building.setOpSize(v);
        }
    }

    /**
     * throttle_limits_to_config() on a copy of {@code base}: the members given replace those limits, then the
     * whole is validated. Returns the new config; {@code base} is untouched (a refused change changes nothing).
     */
    static ThrottleConfig withLimits(ThrottleConfig base, Map<String, Object> limits) throws QmpError {
        ThrottleConfig c = base.copy();
        for (String key : LIMITS_ORDER) {
            Object o = limits.get(key);
            if (o == null) {
                continue;
            }
            long v = ((Number) o).longValue();
            Param p = BY_NAME.get(key);
            switch (p.field()) {
                case 'a' -> c.setAvg(p.bucket(), v);
                case 'm' -> c.setMax(p.bucket(), v);
                case 'l' -> {
                    if (v > ThrottleConfig.BURST_LENGTH_LIMIT) {
                        throw QmpError.generic(key + " value must be in the range [0, " + ThrottleConfig.BURST_LENGTH_LIMIT + "]");
                    }
                    c.setBurstLength(p.bucket(), v);
                }
                default -> c.setOpSize(v);
            }
        }
        String err = c.validate();
        if (err != null) {
            throw QmpError.generic(err);
        }
        return c;
    }
}
