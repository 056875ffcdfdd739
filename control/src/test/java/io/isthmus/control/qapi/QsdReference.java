package io.isthmus.control.qapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.List;
import java.util.Map;

/** QSD 7.2's {@code query-qmp-schema} reply, recorded from qemu-storage-daemon 7.2.22 (Debian). */
final class QsdReference {
    private static List<Object> schema;

    private QsdReference() {}

    @SuppressWarnings("unchecked")
    static synchronized List<Object> schema() {
        if (schema == null) {
            try (InputStream in = QsdReference.class.getResourceAsStream("/qapi/qsd-7.2-query-qmp-schema.json")) {
                Map<String, Object> reply = new ObjectMapper().readValue(in, Map.class);
                schema = (List<Object>) QapiValidatorTest.toModel(reply.get("return"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return schema;
    }
}
