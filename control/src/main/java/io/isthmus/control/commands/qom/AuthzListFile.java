package io.isthmus.control.commands.qom;

import io.isthmus.control.ProgName;
import io.isthmus.control.QmpError;
import io.isthmus.control.json.Json;
import io.isthmus.control.json.JsonParseException;
import io.isthmus.control.json.QDictOrder;
import io.isthmus.control.qapi.QapiSchema;
import io.isthmus.engine.tls.Authz;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * authz-listfile: authz-list rules kept in a JSON file, in QEMU's format
 * ({@code {"policy": "deny", "rules": [{"match": "CN=*", "policy": "allow", "format": "glob"}]}}), read with the
 * control plane's JSON parser and QAPI validator (QEMU's texts) into the engine's
 * {@link io.isthmus.engine.tls.AuthzList}, which does the matching.
 *
 * <p>With {@code refresh} (default on, as QEMU on Linux), a changed file is reloaded: QEMU watches it
 * with inotify; Isthmus compares its modification time, size and inode when asked, so an edit takes effect
 * for the next client. As in QEMU ({@code qauthz_list_file_event}), a reload that fails drops the rules and
 * reports the error on stderr, and every check is denied until a later edit loads again; a file that has
 * disappeared keeps the rules in force (QEMU ignores deletion events), and its re-creation is a change.
 *
 * <p>Threads: created on the control thread; {@link #isAllowed} from any thread (a TLS handshake on an
 * IoThread). The change check and reload are serialised on this object; the rules in force are published
 * through a volatile field (null after a failed reload).
 */
public final class AuthzListFile extends AbstractQomObject implements Authz {
    private final String filename;
    private final boolean refresh;
    private final QapiSchema schema;
    private volatile io.isthmus.engine.tls.AuthzList rules;
    /** The file's identity when it was last read (guarded by this). */
    private Object loadedVersion;

    public AuthzListFile(String id, Map<String, Object> props, QapiSchema schema) {
        super(id, "authz-listfile");
        this.filename = (String) props.get("filename");
        this.refresh = !Boolean.FALSE.equals(props.get("refresh"));
        this.schema = schema;
    }

    @Override
    public void complete() throws QmpError {
        if (filename == null) {
            throw QmpError.generic("filename not provided");
        }
        synchronized (this) {
            rules = load();
        }
        if (refresh) {
            Path dir = Path.of(filename).getParent();
            if (dir == null || dir.toString().equals(".")) {
                throw QmpError.generic("Filename must be an absolute path");
            }
        }
    }

    /** Reads and validates the file (caller holds the lock); records the version it read. */
    @SuppressWarnings("unchecked")
    private io.isthmus.engine.tls.AuthzList load() throws QmpError {
        loadedVersion = version();
        byte[] content;
        try {
            content = GlibFiles.read(filename);
        } catch (GlibFiles.ReadError e) {
            throw QmpError.generic("Unable to read '" + filename + "': " + e.getMessage());
        }
        Object obj;
        try {
            obj = Json.parse(new String(content, StandardCharsets.UTF_8));
        } catch (JsonParseException e) {
            throw QmpError.generic(e.getMessage());
        }
        if (!(obj instanceof Map)) {
            throw QmpError.generic("File '" + filename + "' must contain a JSON object");
        }
        Map<String, Object> members = (Map<String, Object>) obj;
        // QEMU builds an authz-list from the dict with user_creatable_add_type: each member is a property set
        // in QDict order, so the first failing member (in that order) names the error, and an unknown member is
        // a missing property rather than an unexpected parameter.
        for (Map.Entry<String, Object> e : QDictOrder.entries(members)) {
            if (!e.getKey().equals("policy") && !e.getKey().equals("rules")) {
                throw QmpError.generic("Property 'authz-list." + e.getKey() + "' not found");
            }
            Map<String, Object> one = new LinkedHashMap<>();
            one.put(e.getKey(), e.getValue());
            schema.validateType("AuthZListProperties", one);
        }
        return AuthzRules.from(members);
    }

    /** Modification time, size and inode, or null if the file cannot be looked at now. */
    private Object version() {
        try {
            BasicFileAttributes a = Files.readAttributes(Path.of(filename), BasicFileAttributes.class);
            return List.of(a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey()));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Reloads if the file changed since it was last read (refresh on); a failure drops the rules. */
    private synchronized void refreshIfChanged() {
        Object v = version();
        if (v == null || v.equals(loadedVersion)) {
            return;
        }
        try {
            rules = load();
        } catch (QmpError e) {
            rules = null;
            System.err.println(ProgName.NAME + ": " + e.desc());
        }
    }

    @Override
    public boolean isAllowed(String identity) {
        if (refresh) {
            refreshIfChanged();
        }
        io.isthmus.engine.tls.AuthzList current = rules;
        return current != null && current.isAllowed(identity);
    }
}
