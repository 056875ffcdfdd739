package io.isthmus.control.commands.qom;

import io.isthmus.control.QmpError;
import io.isthmus.control.json.Json;
import io.isthmus.control.json.JsonParseException;
import io.isthmus.control.qapi.QapiSchema;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;

/**
 * authz-listfile: authz-list rules kept in a JSON file, in QEMU's format
 * ({@code {"policy": "deny", "rules": [{"match": "CN=*", "policy": "allow", "format": "glob"}]}}).
 *
 * <p>With {@code refresh} (default on, as QEMU on Linux), a changed file is reloaded: QEMU watches it
 * with inotify; Isthmus checks its modification time and size when asked, so an edit takes effect for
 * the next client. A reload that fails keeps the previous rules and reports the error on stderr, as
 * QEMU does. Any thread may call {@link #isAllowed}.
 */
public final class AuthzListFile extends AbstractQomObject implements Authz {
    private final String filename;
    private final boolean refresh;
    private final QapiSchema schema;
    private volatile AuthzRules rules = new AuthzRules(false, java.util.List.of());
    private long loadedMtime;
    private long loadedSize = -1;

    public AuthzListFile(String id, Map<String, Object> props, QapiSchema schema) {
        super(id, "authz-listfile");
        this.filename = (String) props.get("filename");
        this.refresh = !Boolean.FALSE.equals(props.get("refresh"));
        this.schema = schema;
    }

    @Override
    public void complete() throws QmpError {
        rules = load();
    }

    @SuppressWarnings("unchecked")
    private AuthzRules load() throws QmpError {
        stamp();
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
            throw QmpError.generic("Invalid parameter type for 'obj', expected: dict");
        }
        schema.validateType("AuthZListProperties", obj);
        return AuthzRules.from((Map<String, Object>) obj);
    }

    private synchronized boolean stamp() {
        try {
            BasicFileAttributes a = Files.readAttributes(Path.of(filename), BasicFileAttributes.class);
            long m = a.lastModifiedTime().toMillis();
            boolean changed = m != loadedMtime || a.size() != loadedSize;
            loadedMtime = m;
            loadedSize = a.size();
            return changed;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public boolean isAllowed(String identity) {
        if (refresh && stamp()) {
            try {
                rules = load();
            } catch (QmpError e) {
                System.err.println("isthmus: " + e.desc());
            }
        }
        return rules.isAllowed(identity);
    }
}
