package io.isthmus.control.qapi;

import io.isthmus.control.QmpError;
import io.isthmus.control.json.JsonNull;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a value against a schema type the way QEMU 7.2's qobject input visitor does, and returns
 * the value converted to the control value model. Two input modes, as in QEMU:
 * <ul>
 * <li>JSON (QMP arguments, JSON-form command-line options): the value is already typed;</li>
 * <li>keyval (command-line options): every scalar is a string, converted per the schema type
 * ({@code on/off} for bool, {@code qemu_strtoi64} for integers, {@code qemu_strtosz} for size).</li>
 * </ul>
 * Members are visited in schema order and the first problem ends the visit, so the error is the
 * one QEMU reports. Messages and paths ({@code addr.type}, {@code bitmaps[1].name}, or
 * {@code bitmaps.1.name} in keyval mode) are QEMU's, including its quirks: integer range errors,
 * enum errors and alternate type errors name the bare member ({@code 'null'} for list elements).
 *
 * <p>Not thread-safe: one instance per visit.
 */
final class QapiInputVisitor {
    private static final BigInteger I64_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger I64_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private final QapiTypes types;
    private final boolean keyval;
    /** Open containers, innermost last. */
    private final ArrayList<Frame> stack = new ArrayList<>();

    private static final class Frame {
        final String name;
        final boolean list;
        int index;

        Frame(String name, boolean list) {
            this.name = name;
            this.list = list;
        }
    }

    QapiInputVisitor(QapiTypes types, boolean keyval) {
        this.types = types;
        this.keyval = keyval;
    }

    /** Visits {@code value} (present, non-null) as {@code typeName} under member {@code name}. */
    Object visit(String name, String typeName, Object value) {
        // if/instanceof rather than a pattern switch: no invokedynamic bootstrap on the first command
        QapiType t = types.get(typeName);
        if (t instanceof QapiType.Builtin b) {
            return visitBuiltin(name, b.name(), value);
        } else if (t instanceof QapiType.Struct s) {
            return visitStruct(name, s, value);
        } else if (t instanceof QapiType.Enum e) {
            return visitEnum(name, e, value);
        } else if (t instanceof QapiType.Array a) {
            return visitArray(name, a, value);
        } else {
            return visitAlternate(name, (QapiType.Alternate) t, value);
        }
    }

    private Object visitStruct(String name, QapiType.Struct s, Object value) {
        if (!(value instanceof Map<?, ?> raw)) {
            throw invalidType(name, "object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> in = (Map<String, Object>) raw;
        stack.add(new Frame(name, false));
        Map<String, Object> out = new LinkedHashMap<>();
        List<String> consumed = new ArrayList<>(in.size());
        visitMembers(s, in, out, consumed);
        if (consumed.size() != in.size()) {
            throw QmpError.generic("Parameter '" + fullName(unexpectedMember(in, consumed)) + "' is unexpected");
        }
        stack.removeLast();
        return out;
    }

    private void visitMembers(QapiType.Struct s, Map<String, Object> in, Map<String, Object> out, List<String> consumed) {
        for (QapiMember m : s.members()) {
            Object v = in.get(m.name());
            if (v == null) {
                if (m.optional()) {
                    continue;
                }
                throw QmpError.generic("Parameter '" + fullName(m.name()) + "' is missing");
            }
            consumed.add(m.name());
            out.put(m.name(), visit(m.name(), m.type(), v));
        }
        if (s.isUnion()) {
            String branch = s.variants().get((String) out.get(s.tag()));
            visitMembers((QapiType.Struct) types.get(branch), in, out, consumed);
        }
    }

    /** The member QEMU names when several are unexpected: the first left in its GHashTable. */
    private static String unexpectedMember(Map<String, Object> in, List<String> consumed) {
        String first = QemuHashOrder.firstRemaining(QemuHashOrder.qdictOrder(in.keySet()), consumed);
        if (first != null) {
            return first;
        }
        for (String k : in.keySet()) {
            if (!consumed.contains(k)) {
                return k;
            }
        }
        throw new IllegalStateException("no unexpected member");
    }

    private Object visitArray(String name, QapiType.Array a, Object value) {
        if (!(value instanceof List<?> in)) {
            throw invalidType(name, "array");
        }
        Frame f = new Frame(name, true);
        stack.add(f);
        List<Object> out = new ArrayList<>(in.size());
        for (int i = 0; i < in.size(); i++) {
            f.index = i;
            out.add(visit(null, a.elementType(), in.get(i)));
        }
        stack.removeLast();
        return out;
    }

    private Object visitAlternate(String name, QapiType.Alternate a, Object value) {
        for (QapiMember branch : a.branches()) {
            if (matches(types.get(branch.type()), value)) {
                return visit(name, branch.type(), value);
            }
        }
        throw QmpError.generic("Invalid parameter type for '" + (name != null ? name : "null")
                + "', expected: " + a.name());
    }

    /** Whether an alternate branch of type {@code t} takes a value of this JSON type (QType). */
    private boolean matches(QapiType t, Object value) {
        if (t instanceof QapiType.Struct) {
            return value instanceof Map;
        } else if (t instanceof QapiType.Array) {
            return value instanceof List;
        } else if (t instanceof QapiType.Enum) {
            return value instanceof String;
        } else if (t instanceof QapiType.Builtin b) {
            return switch (b.jsonType()) {
                case "string" -> value instanceof String;
                case "boolean" -> value instanceof Boolean;
                case "null" -> value == JsonNull.NULL;
                case "int", "number" -> !keyval && (value instanceof Long || value instanceof BigInteger
                        || value instanceof Double);
                default -> true;
            };
        }
        return false;
    }

    private Object visitEnum(String name, QapiType.Enum e, Object value) {
        String s = string(name, value);
        if (!e.accepts(s)) {
            throw QmpError.generic("Parameter '" + (name != null ? name : "null")
                    + "' does not accept value '" + s + "'");
        }
        return s;
    }

    private String string(String name, Object value) {
        if (keyval) {
            return keyvalScalar(name, value);
        }
        if (!(value instanceof String s)) {
            throw invalidType(name, "string");
        }
        return s;
    }

    private Object visitBuiltin(String name, String type, Object value) {
        switch (type) {
            case "any":
                return value;
            case "str":
                return string(name, value);
            case "null":
                if (value != JsonNull.NULL) {
                    throw invalidType(name, "null");
                }
                return value;
            case "bool":
                if (keyval) {
                    Boolean b = QemuNumbers.parseBool(keyvalScalar(name, value));
                    if (b == null) {
                        throw expects(fullName(name), "'on' or 'off'");
                    }
                    return b;
                }
                if (!(value instanceof Boolean)) {
                    throw invalidType(name, "boolean");
                }
                return value;
            case "number":
                if (keyval) {
                    Double d = QemuNumbers.strtodFinite(keyvalScalar(name, value));
                    if (d == null) {
                        throw expects(fullName(name), "number");
                    }
                    return d;
                }
                if (value instanceof Long l) {
                    return l.doubleValue();
                } else if (value instanceof BigInteger b) {
                    return b.doubleValue();
                } else if (value instanceof Double d) {
                    return d;
                }
                throw invalidType(name, "number");
            case "int", "int64":
                return int64(name, value);
            case "int8":
                return intRange(name, value, Byte.MIN_VALUE, Byte.MAX_VALUE, "int8_t");
            case "int16":
                return intRange(name, value, Short.MIN_VALUE, Short.MAX_VALUE, "int16_t");
            case "int32":
                return intRange(name, value, Integer.MIN_VALUE, Integer.MAX_VALUE, "int32_t");
            case "uint64":
                return u64Value(uint64(name, value));
            case "uint8":
                return uintRange(name, value, 0xffL, "uint8_t");
            case "uint16":
                return uintRange(name, value, 0xffffL, "uint16_t");
            case "uint32":
                return uintRange(name, value, 0xffffffffL, "uint32_t");
            case "size":
                if (keyval) {
                    BigInteger v = QemuNumbers.strtosz(keyvalScalar(name, value));
                    if (v == null) {
                        throw expects(fullName(name), "size");
                    }
                    return u64Value(v);
                }
                return u64Value(uint64(name, value));
            default:
                throw new IllegalStateException("unknown builtin " + type);
        }
    }

    private long int64(String name, Object value) {
        if (keyval) {
            Long l = QemuNumbers.strtoi64(keyvalScalar(name, value));
            if (l == null) {
                throw expects(fullName(name), "integer");
            }
            return l;
        }
        // QEMU's JSON integers that do not fit int64 are uint64 or double: not an integer here.
        if (!(value instanceof Long l)) {
            throw invalidType(name, "integer");
        }
        return l;
    }

    private Object intRange(String name, Object value, long min, long max, String cType) {
        long v = int64(name, value);
        if (v < min || v > max) {
            throw expects(name != null ? name : "null", cType);
        }
        return v;
    }

    /** The uint64 visit: a value in [0, 2^64); negative JSON integers wrap, as in QEMU. */
    private BigInteger uint64(String name, Object value) {
        if (keyval) {
            BigInteger v = QemuNumbers.strtou64(keyvalScalar(name, value));
            if (v == null) {
                throw expects(fullName(name), "integer");
            }
            return v;
        }
        if (value instanceof Long l) {
            BigInteger v = BigInteger.valueOf(l);
            return l < 0 ? v.add(QemuNumbers.TWO_64) : v;
        }
        if (value instanceof BigInteger b && b.signum() >= 0 && b.compareTo(QemuNumbers.U64_MAX) <= 0) {
            return b;
        }
        throw expects(fullName(name), "uint64");
    }

    private Object uintRange(String name, Object value, long max, String cType) {
        BigInteger v = uint64(name, value);
        if (v.compareTo(BigInteger.valueOf(max)) > 0) {
            throw expects(name != null ? name : "null", cType);
        }
        return v.longValue();
    }

    private static Object u64Value(BigInteger v) {
        return v.compareTo(I64_MAX) <= 0 && v.compareTo(I64_MIN) >= 0 ? (Object) v.longValue() : v;
    }

    /** {@code qobject_input_get_keyval}: a keyval scalar must be a string. */
    private String keyvalScalar(String name, Object value) {
        if (value instanceof String s) {
            return s;
        }
        if (value instanceof Map || value instanceof List) {
            throw QmpError.generic("Parameters '" + fullName(name) + ".*' are unexpected");
        }
        throw QmpError.generic("Internal error: parameter " + fullName(name) + " invalid");
    }

    private QmpError invalidType(String name, String expected) {
        return QmpError.generic("Invalid parameter type for '" + fullName(name) + "', expected: " + expected);
    }

    private static QmpError expects(String what, String expected) {
        return QmpError.generic("Parameter '" + what + "' expects " + expected);
    }

    /** QEMU's {@code full_name()}: the member's path from the root of the visit. */
    String fullName(String name) {
        StringBuilder sb = new StringBuilder();
        String n = name;
        for (int i = stack.size() - 1; i >= 0; i--) {
            Frame f = stack.get(i);
            if (!f.list) {
                sb.insert(0, n != null ? n : "<anonymous>");
                sb.insert(0, '.');
            } else {
                sb.insert(0, keyval ? "." + f.index : "[" + f.index + "]");
            }
            n = f.name;
        }
        if (n != null) {
            sb.insert(0, n);
        } else if (!sb.isEmpty() && sb.charAt(0) == '.') {
            sb.deleteCharAt(0);
        } else if (sb.isEmpty()) {
            return "<anonymous>";
        }
        return sb.toString();
    }
}
