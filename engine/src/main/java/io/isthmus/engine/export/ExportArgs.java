package io.isthmus.engine.export;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A read-only view of the members of one block-export-add ({@code BlockExportOptions}: the common members and those
 * of its type's branch), already validated against the QAPI schema by the control plane. Each export driver reads
 * its own members from it ({@link ExportDriver#parseOptions}); {@link ExportOptions#of} reads the common ones.
 *
 * <p>Values are what the control plane's validator produces: strings, booleans, numbers ({@code Long}, a
 * {@code BigInteger} for large uint64 values, {@code Double}), lists, and nested objects (maps, seen here as
 * ExportArgs). A member of the wrong type is a programming error (the schema was checked): it throws
 * {@link ClassCastException}. Immutable; any thread.
 */
public final class ExportArgs {
    public static final ExportArgs EMPTY = new ExportArgs(Map.of());

    private final Map<String, ?> members;

    private ExportArgs(Map<String, ?> members) {
        this.members = members;
    }

    /** A view of {@code members} (not copied: the caller does not change the map afterwards). */
    public static ExportArgs of(Map<String, ?> members) {
        return new ExportArgs(Collections.unmodifiableMap(members));
    }

    public boolean has(String member) {
        return members.get(member) != null;
    }

    /** The string, or null when absent. */
    public String string(String member) {
        return (String) members.get(member);
    }

    /** The boolean; false when absent (the default of every optional bool the export types have). */
    public boolean bool(String member) {
        return Boolean.TRUE.equals(members.get(member));
    }

    /** The number, or null when absent. */
    public Number number(String member) {
        return (Number) members.get(member);
    }

    /** An integer member; {@code absent} when absent; a uint64 above Long.MAX_VALUE saturates. */
    public long integer(String member, long absent) {
        Number n = number(member);
        if (n == null) {
            return absent;
        }
        if (n instanceof BigInteger b && b.bitLength() > 63) {
            return b.signum() > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
        }
        return n.longValue();
    }

    /** A nested object member, or null when absent. */
    public ExportArgs nested(String member) {
        Object v = members.get(member);
        return v == null ? null : wrap(v) instanceof ExportArgs a ? a : castFailure(member, v);
    }

    /** Whether the member is present in its list form (for alternates such as {@code iothread}: str or [str]). */
    public boolean isList(String member) {
        return members.get(member) instanceof List<?>;
    }

    /**
     * A list member, or null when absent. Elements are String, Boolean, Number or (objects) ExportArgs; for an
     * alternate, test with {@code instanceof}.
     */
    public List<Object> list(String member) {
        Object v = members.get(member);
        if (v == null) {
            return null;
        }
        if (!(v instanceof List<?> l)) {
            return castFailure(member, v);
        }
        List<Object> out = new ArrayList<>(l.size());
        for (Object e : l) {
            out.add(wrap(e));
        }
        return Collections.unmodifiableList(out);
    }

    /** A list of strings, or null when absent. */
    public List<String> stringList(String member) {
        List<Object> l = list(member);
        if (l == null) {
            return null;
        }
        List<String> out = new ArrayList<>(l.size());
        for (Object e : l) {
            out.add((String) e);
        }
        return Collections.unmodifiableList(out);
    }

    @SuppressWarnings("unchecked")
    private static Object wrap(Object v) {
        return v instanceof Map<?, ?> m ? new ExportArgs(Collections.unmodifiableMap((Map<String, ?>) m)) : v;
    }

    private static <T> T castFailure(String member, Object v) {
        throw new ClassCastException("member '" + member + "' is a " + v.getClass().getSimpleName());
    }

    @Override
    public String toString() {
        return members.toString();
    }
}
