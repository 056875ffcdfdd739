package io.isthmus.control.qapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.json.JsonNull;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IntrospectionTest {
    private static final List<Object> OURS = QapiSchema.load().introspect();
    private static final SchemaProbe PROBE = new SchemaProbe(OURS);
    private static final SchemaProbe QSD = new SchemaProbe(QsdReference.schema());

    @SuppressWarnings("unchecked")
    private static Map<String, Object> entry(List<Object> schema, String name) {
        for (Object o : schema) {
            Map<String, Object> e = (Map<String, Object>) o;
            if (name.equals(e.get("name"))) {
                return e;
            }
        }
        return null;
    }

    @Test
    @SuppressWarnings("unchecked")
    void entriesFollowQemusFormat() {
        Set<String> names = new HashSet<>();
        for (Object o : OURS) {
            Map<String, Object> e = (Map<String, Object>) o;
            String name = (String) e.get("name");
            assertTrue(names.add(name), "duplicate entry " + name);
            String meta = (String) e.get("meta-type");
            switch (meta) {
                case "command", "event" -> assertTrue(name.matches("[a-zA-Z_-]+"), name);
                case "builtin" -> assertTrue(Set.of("str", "int", "number", "bool", "null", "any").contains(name), name);
                case "array" -> assertEquals("[" + e.get("element-type") + "]", name);
                default -> assertTrue(name.matches("\\d+"), "type names are masked: " + name);
            }
        }
        // Commands come first, in schema order; the empty object is the first type used.
        Map<String, Object> first = (Map<String, Object>) OURS.get(0);
        assertEquals("block_resize", first.get("name"));
        // block_resize's arguments are type 0, the empty object (its return type) type 1.
        assertEquals("0", first.get("arg-type"));
        assertEquals("1", first.get("ret-type"));
        Map<String, Object> quit = entry(OURS, "quit");
        assertEquals("1", quit.get("arg-type"));
        assertEquals("1", quit.get("ret-type"));
        assertEquals(List.of(), entry(OURS, "1").get("members"));
        // Integer types collapse to int; optional members carry "default": null.
        Map<String, Object> resize = entry(OURS, (String) entry(OURS, "block_resize").get("arg-type"));
        List<Object> members = (List<Object>) resize.get("members");
        assertEquals(Map.of("name", "device", "default", JsonNull.NULL, "type", "str"), members.get(0));
        assertEquals(Map.of("name", "size", "type", "int"), members.get(2));
        assertEquals(List.of("deprecated"), entry(OURS, "nbd-server-add").get("features"));
        assertFalse(entry(OURS, "query-version").containsKey("allow-oob"));
    }

    @Test
    void introspectionIsCachedAndImmutable() {
        assertTrue(OURS == QapiSchema.load().introspect());
        org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class, () -> OURS.add("x"));
    }

    /**
     * QEMU builds each entry in a fixed member order and then prints it in QDict hash order; the
     * recorded QSD reply therefore checks both QemuHashOrder.qdictOrder and our insertion order.
     */
    @Test
    @SuppressWarnings("unchecked")
    void qdictOrderOfOurEntriesMatchesQsdsOutput() {
        int checked = 0;
        for (Object o : QsdReference.schema()) {
            Map<String, Object> e = (Map<String, Object>) o;
            String meta = (String) e.get("meta-type");
            if (meta.equals("command") && PROBE.has((String) e.get("name"))) {
                Map<String, Object> ours = entry(OURS, (String) e.get("name"));
                assertEquals(new ArrayList<>(e.keySet()), QemuHashOrder.qdictOrder(ours.keySet()), (String) e.get("name"));
                checked++;
            }
            for (Object m : e.get("members") instanceof List<?> l ? l : List.of()) {
                Map<String, Object> mm = (Map<String, Object>) m;
                List<String> insertion = new ArrayList<>();
                for (String k : List.of("name", "type", "default", "features")) {
                    if (mm.containsKey(k)) {
                        insertion.add(k);
                    }
                }
                assertEquals(new ArrayList<>(mm.keySet()), QemuHashOrder.qdictOrder(insertion));
                checked++;
            }
        }
        assertTrue(checked > 500);
    }

    /** Probes libvirt (and other management software) uses against QSD, all of which must hold. */
    @ParameterizedTest
    @ValueSource(strings = {
        "nbd-server-start/arg-type/tls-creds",
        "nbd-server-start/arg-type/tls-authz",
        "nbd-server-start/arg-type/max-connections",
        "nbd-server-start/arg-type/addr/+unix/data/path",
        "nbd-server-add/arg-type/bitmap",
        "nbd-server-add/$deprecated",
        "nbd-server-remove/$deprecated",
        "block-export-add/arg-type/+nbd/bitmaps",
        "block-export-add/arg-type/+nbd/allocation-depth",
        "block-export-add/arg-type/+nbd/bitmaps/node",
        "block-export-add/arg-type/+vhost-user-blk/num-queues",
        "block-export-add/arg-type/+vhost-user-blk/addr/+fd/str",
        "block-export-add/arg-type/+fuse/allow-other/^auto",
        "block-export-add/arg-type/type/^vhost-user-blk",
        "block-export-add/arg-type/*writethrough",
        "block-export-add/arg-type/fixed-iothread",
        "block-export-del/arg-type/mode/^hard",
        "query-block-exports/ret-type/shutting-down",
        "BLOCK_EXPORT_DELETED/arg-type/id",
        "blockdev-add/arg-type/+file/drop-cache",
        "blockdev-add/arg-type/+file/aio/^io_uring",
        "blockdev-add/arg-type/+file/$dynamic-auto-read-only",
        "blockdev-add/arg-type/+file/x-check-cache-dropped/!boolean",
        "blockdev-add/arg-type/+raw/file/+file/filename",
        "blockdev-add/arg-type/+null-co/read-zeroes",
        "blockdev-add/arg-type/driver/^qcow2",
        "blockdev-add/arg-type/+qcow2/backing/+qcow2/file",
        "blockdev-add/arg-type/+qcow2/overlap-check/template/^cached",
        "blockdev-add/arg-type/+qcow2/encrypt/+luks/key-secret",
        "blockdev-add/arg-type/+qcow2/data-file/+file/filename",
        "blockdev-add/arg-type/discard/^unmap",
        "blockdev-add/arg-type/detect-zeroes/^unmap",
        "query-named-block-nodes/arg-type/flat",
        "query-named-block-nodes/ret-type/dirty-bitmaps/recording",
        "query-named-block-nodes/ret-type/image/format-specific/+qcow2/data/bitmaps/flags",
        "block-dirty-bitmap-add/arg-type/disabled",
        "block-dirty-bitmap-merge/arg-type/bitmaps/node",
        "block_resize/arg-type/node-name",
        "object-add/arg-type/qom-type/^secret",
        "object-add/arg-type/+tls-creds-x509/sanity-check",
        "object-add/arg-type/+tls-creds-psk/username",
        "object-add/arg-type/+authz-list/rules/format/^glob",
        "object-add/arg-type/+iothread/poll-max-ns",
        "qmp_capabilities/arg-type/enable/^oob",
        "query-version/ret-type/qemu/micro",
        "query-qmp-schema/ret-type/+enum/values/!string",
        "query-commands/ret-type/name/!string",
        "quit",
    })
    void probeResolvesLikeOnQsd(String probe) {
        assertNotNull(QSD.resolve(probe), "holds on QSD 7.2: " + probe);
        assertNotNull(PROBE.resolve(probe), probe);
    }

    /** Probes that must fail, on both: absent members, values, features, and malformed paths. */
    @ParameterizedTest
    @ValueSource(strings = {
        "nbd-server-start/arg-type/bogus",
        "nbd-server-start/arg-type/*addr",
        "nbd-server-start/ret-type/addr",
        "block-export-add/arg-type/+nbd/num-queues",
        "block-export-add/arg-type/+nbd/bitmaps/^x",
        "blockdev-add/arg-type/+file/filename/$deprecated",
        "blockdev-add/arg-type/driver/^bogus",
        "query-commands/ret-type/name/!int",
        "no-such-command",
        "quit/arg-type/x",
        "quit//",
        "",
    })
    void probeFailsLikeOnQsd(String probe) {
        assertFalse(QSD.has(probe), "fails on QSD 7.2: " + probe);
        assertFalse(PROBE.has(probe), probe);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "nbd-server-start/arg-type/handshake-max-seconds",
        "block-export-add/arg-type/allow-inactive",
        "block-export-add/arg-type/iothread/!alternate",
    })
    void isthmusAdditionsAreVisibleToProbes(String probe) {
        assertTrue(PROBE.has(probe), probe);
        assertFalse(QSD.has(probe), probe);
    }

    @Test
    void servedSubsetsAreVisibleToProbes() {
        assertTrue(QSD.has("block-export-add/arg-type/type/^vduse-blk"));
        assertFalse(PROBE.has("block-export-add/arg-type/type/^vduse-blk"));
        assertFalse(PROBE.has("blockdev-add/arg-type/driver/^qcow"));
        assertFalse(PROBE.has("object-add/arg-type/qom-type/^authz-pam"));
        assertTrue(PROBE.has("object-add/arg-type/qom-type/^throttle-group"));
    }
}
