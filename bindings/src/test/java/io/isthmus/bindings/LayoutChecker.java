package io.isthmus.bindings;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.SequenceLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compares the bindings' declarations with what the C probe measured. Everything public and static in a
 * bindings class is found by reflection, so nothing can be forgotten:
 * <ul>
 * <li>every {@link GroupLayout} must be named for its C struct tag and have a probe {@code struct} line with the
 *     same size; every named member (recursively through nested structs, with dotted paths) must have a probe
 *     {@code field} line with the same offset and size; padding is not named and is covered by the offsets and
 *     the total size;</li>
 * <li>every {@link Bitfield} must match a probe {@code bit} line (bit offset and width);</li>
 * <li>every primitive constant not marked {@link Derived} must match a probe {@code const} line.</li>
 * </ul>
 * Returns one message per mismatch; an empty list means the bindings agree with C.
 */
final class LayoutChecker {
    private final LayoutProbe probe;
    private final List<String> errors = new ArrayList<>();
    private final Map<Object, Boolean> seen = new IdentityHashMap<>();
    int layoutsChecked, fieldsChecked, bitfieldsChecked, constantsChecked;
    final java.util.Set<String> matchedStructs = new java.util.HashSet<>(), matchedFields = new java.util.HashSet<>(),
            matchedBits = new java.util.HashSet<>(), matchedConstants = new java.util.HashSet<>();

    LayoutChecker(LayoutProbe probe) {
        this.probe = probe;
    }

    List<String> errors() {
        return errors;
    }

    LayoutChecker checkClasses(List<Class<?>> classes) throws IllegalAccessException {
        for (Class<?> c : classes) {
            for (Field f : c.getFields()) {
                int m = f.getModifiers();
                if (!Modifier.isStatic(m) || !Modifier.isFinal(m)) {
                    continue;
                }
                Object v = f.get(null);
                String where = c.getSimpleName() + "." + f.getName();
                if (f.isAnnotationPresent(Derived.class)) {
                    continue;
                }
                if (v instanceof GroupLayout g) {
                    checkLayout(where, g);
                } else if (v instanceof Bitfield b) {
                    checkBitfield(where, b);
                } else if (f.getType().isPrimitive()) {
                    checkConstant(where, f.getName(), f.getType(), v);
                }
            }
        }
        return this;
    }

    void checkLayout(String where, GroupLayout g) {
        if (seen.put(g, Boolean.TRUE) != null) {
            return;
        }
        layoutsChecked++;
        String tag = g.name().orElse(null);
        if (tag == null) {
            errors.add(where + ": layout has no name (name it for its C struct tag)");
            return;
        }
        Long size = probe.structs.get(tag);
        if (size == null) {
            errors.add(where + ": no probe entry for struct " + tag + " (add S(" + tag + ") to probe.c)");
            return;
        }
        matchedStructs.add(tag);
        if (size != g.byteSize()) {
            errors.add(where + ": sizeof(struct " + tag + ") is " + size + " in C, " + g.byteSize() + " in Java");
        }
        checkMembers(where, tag, g, 0);
    }

    private void checkMembers(String where, String path, GroupLayout g, long base) {
        long offset = 0;
        for (MemoryLayout member : g.memberLayouts()) {
            long here = g instanceof java.lang.foreign.UnionLayout ? 0 : offset;
            offset += member.byteSize();
            if (member instanceof PaddingLayout) {
                continue;
            }
            String name = member.name().orElse(null);
            if (name == null) {
                errors.add(where + ": unnamed member at offset " + (base + here) + " of " + path
                        + " (name it as in C, or make it a padding layout)");
                continue;
            }
            String p = path + "." + name;
            long[] c = probe.fields.get(p);
            fieldsChecked++;
            if (c == null) {
                errors.add(where + ": no probe entry for field " + p + " (add F(...) to probe.c)");
            } else {
                matchedFields.add(p);
                if (c[0] != base + here) {
                    errors.add(where + ": offsetof(" + p + ") is " + c[0] + " in C, " + (base + here) + " in Java");
                }
                if (c[1] != member.byteSize()) {
                    errors.add(where + ": sizeof(" + p + ") is " + c[1] + " in C, " + member.byteSize() + " in Java");
                }
            }
            if (member instanceof GroupLayout nested) {
                checkMembers(where, p, nested, base + here);
            } else if (member instanceof SequenceLayout) {
                // element layouts are checked where they are declared as structs of their own
                continue;
            }
        }
    }

    void checkBitfield(String where, Bitfield b) {
        bitfieldsChecked++;
        String p = b.struct() + "." + b.field();
        long[] c = probe.bits.get(p);
        if (c == null) {
            errors.add(where + ": no probe entry for bitfield " + p + " (add B(...) to probe.c)");
            return;
        }
        matchedBits.add(p);
        if (c[0] != b.bitOffset() || c[1] != b.width()) {
            errors.add(where + ": bitfield " + p + " is at bit " + c[0] + " width " + c[1] + " in C, bit "
                    + b.bitOffset() + " width " + b.width() + " in Java");
        }
    }

    void checkConstant(String where, String name, Class<?> type, Object value) {
        long j;
        long unsignedJ;
        if (value instanceof Long l) {
            j = l;
            unsignedJ = l;
        } else if (value instanceof Integer i) {
            j = i;
            unsignedJ = Integer.toUnsignedLong(i);
        } else if (value instanceof Short s) {
            j = s;
            unsignedJ = Short.toUnsignedLong(s);
        } else if (value instanceof Byte b) {
            j = b;
            unsignedJ = Byte.toUnsignedLong(b);
        } else {
            errors.add(where + ": constant of unsupported type " + type);
            return;
        }
        constantsChecked++;
        Long c = probe.constants.get(name);
        if (c == null) {
            errors.add(where + ": no probe entry for constant " + name + " (add C(" + name + ") to probe.c, "
                    + "or mark it @Derived if it is not a C constant)");
        } else {
            matchedConstants.add(name);
        }
        if (c != null && c != j && c != unsignedJ) {
            errors.add(where + ": " + name + " is " + c + " in C, " + j + " in Java");
        }
    }
}
