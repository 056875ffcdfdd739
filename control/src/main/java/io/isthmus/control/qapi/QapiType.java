package io.isthmus.control.qapi;

import java.util.List;
import java.util.Map;

/**
 * A type of the loaded QAPI schema. Types refer to each other by name; {@link QapiSchema#type}
 * resolves a name. Array types are named {@code [element]}, as introspection shows them.
 */
public sealed interface QapiType
        permits QapiType.Builtin, QapiType.Enum, QapiType.Array, QapiType.Struct, QapiType.Alternate {

    String name();

    /** A built-in scalar type: str, int, int8..int64, uint8..uint64, size, number, bool, null, any. */
    record Builtin(String name, String jsonType) implements QapiType {}

    /** One value of an enum. */
    record EnumValue(String name, List<String> features) {}

    record Enum(String name, List<EnumValue> values, List<String> features) implements QapiType {
        public boolean accepts(String value) {
            for (EnumValue v : values) {
                if (v.name().equals(value)) {
                    return true;
                }
            }
            return false;
        }
    }

    record Array(String name, String elementType) implements QapiType {}

    /**
     * A struct or a flat union. {@code members} is the complete, flattened member list (base
     * members first) in the order QEMU's visitor visits them. For a union, {@code tag} names the
     * discriminator member and {@code variants} maps each discriminator value to the name of the
     * struct whose members follow; values without a branch map to the empty struct.
     */
    record Struct(String name, List<QapiMember> members, String tag, Map<String, String> variants,
                  List<String> features, boolean implicit) implements QapiType {
        public boolean isUnion() {
            return tag != null;
        }

        public QapiMember member(String memberName) {
            for (QapiMember m : members) {
                if (m.name().equals(memberName)) {
                    return m;
                }
            }
            return null;
        }
    }

    /** An alternate: {@code branches} are named members whose types differ in JSON type. */
    record Alternate(String name, List<QapiMember> branches, List<String> features) implements QapiType {}
}
