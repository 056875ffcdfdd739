package io.isthmus.control.qapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Compares the shape of every command and event Isthmus serves with QSD 7.2's introspection:
 * members, their order, optionality, features, types (structurally, through masked names), enum
 * values, union variants, alternates. The only differences allowed are those listed in
 * DIFFERENCES.md, spelled out in {@link #ALLOWED}.
 */
class QapiShapeParityTest {
    /** Every difference from QSD 7.2, one line each; see DIFFERENCES.md. */
    private static final Set<String> ALLOWED = Set.of(
        "added member: nbd-server-start.arg.handshake-max-seconds",
        "added member: block-export-add.arg.allow-inactive",
        "changed: block-export-add.arg.iothread: alternate vs builtin",
        "enum subset: block-export-add.arg.type lacks [vduse-blk]",
        "variants missing: block-export-add.arg lacks [vduse-blk]",
        "enum subset: query-block-exports.ret[].type lacks [vduse-blk]",
        "enum subset: blockdev-add.arg.driver lacks [blkdebug, blklogwrites, blkreplay, blkverify, bochs, cloop, "
            + "compress, copy-before-write, copy-on-read, dmg, ftp, ftps, gluster, host_cdrom, http, https, iscsi, "
            + "luks, nbd, nfs, nvme, parallels, preallocate, qcow, qed, quorum, rbd, replication, "
            + "snapshot-access, ssh, vdi, vhdx, vmdk, vpc, vvfat]",
        "variants missing: blockdev-add.arg lacks [blkdebug, blklogwrites, blkreplay, blkverify, bochs, cloop, "
            + "compress, copy-before-write, copy-on-read, dmg, ftp, ftps, gluster, host_cdrom, http, https, iscsi, "
            + "luks, nbd, nfs, nvme, parallels, preallocate, qcow, qed, quorum, rbd, replication, "
            + "snapshot-access, ssh, vdi, vhdx, vmdk, vpc, vvfat]",
        "enum subset: query-blockstats.ret[].driver-specific.driver lacks [blkdebug, blklogwrites, blkreplay, blkverify, bochs, cloop, "
            + "compress, copy-before-write, copy-on-read, dmg, ftp, ftps, gluster, host_cdrom, http, https, iscsi, "
            + "luks, nbd, nfs, nvme, parallels, preallocate, qcow, qed, quorum, rbd, replication, "
            + "snapshot-access, ssh, vdi, vhdx, vmdk, vpc, vvfat]",
        "variants missing: query-blockstats.ret[].driver-specific lacks [blkdebug, blklogwrites, blkreplay, blkverify, bochs, cloop, "
            + "compress, copy-before-write, copy-on-read, dmg, ftp, ftps, gluster, host_cdrom, http, https, iscsi, "
            + "luks, nbd, nfs, nvme, parallels, preallocate, qcow, qed, quorum, rbd, replication, "
            + "snapshot-access, ssh, vdi, vhdx, vmdk, vpc, vvfat]",
        "enum subset: object-add.arg.qom-type lacks [authz-pam, can-bus, can-host-socketcan, colo-compare, "
            + "cryptodev-backend, cryptodev-backend-builtin, cryptodev-backend-lkcf, cryptodev-vhost-user, "
            + "dbus-vmstate, filter-buffer, filter-dump, filter-mirror, filter-redirector, filter-replay, "
            + "filter-rewriter, input-barrier, input-linux, main-loop, memory-backend-epc, memory-backend-file, "
            + "memory-backend-memfd, memory-backend-ram, pef-guest, pr-manager-helper, qtest, rng-builtin, rng-egd, "
            + "rng-random, s390-pv-guest, secret_keyring, sev-guest, thread-context, "
            + "tls-cipher-suites, x-remote-object, x-vfio-user-server]",
        "variants missing: object-add.arg lacks [authz-pam, can-bus, can-host-socketcan, colo-compare, "
            + "cryptodev-backend, cryptodev-backend-builtin, cryptodev-backend-lkcf, cryptodev-vhost-user, "
            + "dbus-vmstate, filter-buffer, filter-dump, filter-mirror, filter-redirector, filter-replay, "
            + "filter-rewriter, input-barrier, input-linux, main-loop, memory-backend-epc, memory-backend-file, "
            + "memory-backend-memfd, memory-backend-ram, pef-guest, pr-manager-helper, qtest, rng-builtin, rng-egd, "
            + "rng-random, s390-pv-guest, secret_keyring, sev-guest, thread-context, "
            + "tls-cipher-suites, x-remote-object, x-vfio-user-server]");

    private final Map<String, Map<String, Object>> ours = index(QapiSchema.load().introspect());
    private final Map<String, Map<String, Object>> theirs = index(QsdReference.schema());
    private final Set<String> diffs = new TreeSet<>();
    private final Set<String> visited = new HashSet<>();

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> index(List<Object> schema) {
        Map<String, Map<String, Object>> m = new HashMap<>();
        for (Object o : schema) {
            Map<String, Object> e = (Map<String, Object>) o;
            m.put((String) e.get("name"), e);
        }
        return m;
    }

    @Test
    void everyCommandAndEventHasQsdsShapeExceptTheListedDifferences() {
        QapiSchema schema = QapiSchema.load();
        List<String> entities = new ArrayList<>(schema.commandNames());
        entities.addAll(schema.eventNames());
        for (String name : entities) {
            Map<String, Object> o = ours.get(name);
            Map<String, Object> t = theirs.get(name);
            assertTrue(t != null, name + " is not served by QSD 7.2");
            check(name, "features", o.get("features"), t.get("features"));
            check(name, "allow-oob", o.get("allow-oob"), t.get("allow-oob"));
            compare(name + ".arg", (String) o.get("arg-type"), (String) t.get("arg-type"));
            if (o.containsKey("ret-type") || t.containsKey("ret-type")) {
                compare(name + ".ret", (String) o.get("ret-type"), (String) t.get("ret-type"));
            }
        }
        assertEquals(new TreeSet<>(ALLOWED), diffs, "differences from QSD 7.2 must be exactly those of DIFFERENCES.md");
    }

    private void check(String path, String what, Object o, Object t) {
        if (!Objects.equals(o, t)) {
            diffs.add("changed: " + path + " " + what + ": " + o + " vs " + t);
        }
    }

    @SuppressWarnings("unchecked")
    private void compare(String path, String on, String tn) {
        Map<String, Object> o = ours.get(on);
        Map<String, Object> t = theirs.get(tn);
        // Each pair of object types is compared once (ImageInfo is recursive); leaves every time,
        // so that a difference shows at every path that reaches it.
        if ("object".equals(o.get("meta-type")) && !visited.add(on + "|" + tn)) {
            return;
        }
        String om = (String) o.get("meta-type");
        String tm = (String) t.get("meta-type");
        if (!om.equals(tm)) {
            diffs.add("changed: " + path + ": " + om + " vs " + tm);
            return;
        }
        check(path, "features", o.get("features"), t.get("features"));
        switch (om) {
            case "builtin" -> check(path, "json-type", o.get("json-type"), t.get("json-type"));
            case "enum" -> {
                List<Object> ov = (List<Object>) o.get("values");
                List<Object> tv = (List<Object>) t.get("values");
                if (!ov.equals(tv)) {
                    List<Object> tvInOurs = new ArrayList<>(tv);
                    tvInOurs.retainAll(ov);
                    if (tvInOurs.equals(ov)) {
                        TreeSet<String> missing = new TreeSet<>();
                        tv.forEach(v -> missing.add((String) v));
                        ov.forEach(missing::remove);
                        diffs.add("enum subset: " + path + " lacks " + missing);
                    } else {
                        diffs.add("changed: " + path + " values: " + ov + " vs " + tv);
                    }
                }
                check(path, "members", o.get("members"), t.get("members") instanceof List<?> tl
                        ? tl.stream().filter(x -> ov.contains(((Map<String, Object>) x).get("name"))).toList() : null);
            }
            case "array" -> compare(path + "[]", (String) o.get("element-type"), (String) t.get("element-type"));
            case "alternate" -> {
                List<Object> omem = (List<Object>) o.get("members");
                List<Object> tmem = (List<Object>) t.get("members");
                if (omem.size() != tmem.size()) {
                    diffs.add("changed: " + path + " alternate branches " + omem.size() + " vs " + tmem.size());
                    return;
                }
                for (int i = 0; i < omem.size(); i++) {
                    compare(path + "|" + i, (String) ((Map<String, Object>) omem.get(i)).get("type"),
                            (String) ((Map<String, Object>) tmem.get(i)).get("type"));
                }
            }
            case "object" -> compareObject(path, o, t);
            default -> throw new IllegalStateException(om);
        }
    }

    @SuppressWarnings("unchecked")
    private void compareObject(String path, Map<String, Object> o, Map<String, Object> t) {
        List<Map<String, Object>> om = (List<Map<String, Object>>) (Object) o.get("members");
        List<Map<String, Object>> tm = (List<Map<String, Object>>) (Object) t.get("members");
        Map<String, Map<String, Object>> tByName = new HashMap<>();
        tm.forEach(m -> tByName.put((String) m.get("name"), m));
        Set<String> oNames = new HashSet<>();
        List<String> commonOurs = new ArrayList<>();
        for (Map<String, Object> m : om) {
            String name = (String) m.get("name");
            oNames.add(name);
            Map<String, Object> tmem = tByName.get(name);
            if (tmem == null) {
                diffs.add("added member: " + path + "." + name);
                continue;
            }
            commonOurs.add(name);
            check(path + "." + name, "optional", m.containsKey("default"), tmem.containsKey("default"));
            check(path + "." + name, "default", m.get("default"), tmem.get("default"));
            check(path + "." + name, "member features", m.get("features"), tmem.get("features"));
            compare(path + "." + name, (String) m.get("type"), (String) tmem.get("type"));
        }
        List<String> commonTheirs = new ArrayList<>();
        for (Map<String, Object> m : tm) {
            String name = (String) m.get("name");
            if (!oNames.contains(name)) {
                diffs.add("missing member: " + path + "." + name);
            } else {
                commonTheirs.add(name);
            }
        }
        check(path, "member order", commonOurs, commonTheirs);
        check(path, "tag", o.get("tag"), t.get("tag"));
        if (o.get("variants") instanceof List<?> ov && t.get("variants") instanceof List<?> tv) {
            Map<String, String> tCases = new HashMap<>();
            for (Object v : tv) {
                Map<String, Object> vm = (Map<String, Object>) v;
                tCases.put((String) vm.get("case"), (String) vm.get("type"));
            }
            TreeSet<String> missing = new TreeSet<>(tCases.keySet());
            for (Object v : ov) {
                Map<String, Object> vm = (Map<String, Object>) v;
                String c = (String) vm.get("case");
                missing.remove(c);
                if (!tCases.containsKey(c)) {
                    diffs.add("added variant: " + path + "{" + c + "}");
                    continue;
                }
                compare(path + "{" + c + "}", (String) vm.get("type"), tCases.get(c));
            }
            if (!missing.isEmpty()) {
                diffs.add("variants missing: " + path + " lacks " + missing);
            }
        } else {
            check(path, "variants", o.get("variants") != null, t.get("variants") != null);
        }
    }
}
