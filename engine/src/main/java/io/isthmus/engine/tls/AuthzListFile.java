package io.isthmus.engine.tls;

import io.isthmus.engine.EngineException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code authz-listfile}: an {@link AuthzList} read from a JSON file
 * {@code {"policy": "deny", "rules": [{"match": "...", "policy": "allow", "format": "glob"}]}}, with the members
 * of {@code authz-list}. With {@code refresh} (QEMU's default on Linux) the file is reloaded when it changes; QEMU
 * watches it with inotify, here a change (modification time, size or inode) is noticed at the next check, which
 * is the only moment the content matters. A reload that fails leaves no list, and every check is denied until
 * the file is fixed (as in QEMU).
 *
 * <p>Thread use: {@link #isAllowed} from any thread (the current list is published through a volatile field).
 * The file format reader here is deliberately small: the file holds one JSON object of two known members.
 */
public final class AuthzListFile implements Authz {
    private static final System.Logger LOG = System.getLogger(AuthzListFile.class.getName());

    private final String filename;
    private final boolean refresh;
    private volatile Loaded loaded;

    private record Loaded(AuthzList list, Object version) {}

    private AuthzListFile(String filename, boolean refresh) {
        this.filename = filename;
        this.refresh = refresh;
    }

    /**
     * Loads the file as QEMU's {@code authz-listfile} object does at creation.
     *
     * @throws EngineException with QEMU's text ({@code filename not provided}, {@code Unable to read 'F': ...},
     *                         {@code File 'F' must contain a JSON object}, {@code Filename must be an absolute path}
     *                         when refreshing a bare file name, member errors as for {@code authz-list})
     */
    public static AuthzListFile open(String filename, boolean refresh) {
        if (filename == null) {
            throw new EngineException("filename not provided");
        }
        AuthzListFile f = new AuthzListFile(filename, refresh);
        f.loaded = f.load();
        if (refresh) {
            String dir = Path.of(filename).getParent() == null ? "." : Path.of(filename).getParent().toString();
            if (dir.equals(".")) {
                throw new EngineException("Filename must be an absolute path");
            }
        }
        return f;
    }

    public String filename() {
        return filename;
    }

    public boolean refresh() {
        return refresh;
    }

    /** The rules in force now (after a refresh check), or null if the last reload failed. */
    public AuthzList current() {
        Loaded l = loaded;
        if (refresh) {
            Object v = version();
            if (l == null || !v.equals(l.version())) {
                try {
                    l = load();
                } catch (EngineException e) {
                    LOG.log(System.Logger.Level.ERROR, e.getMessage());
                    l = new Loaded(null, v);
                }
                loaded = l;
            }
        }
        return l.list();
    }

    @Override
    public boolean isAllowed(String identity) {
        AuthzList list = current();
        return list != null && list.isAllowed(identity);
    }

    private Object version() {
        try {
            BasicFileAttributes a = Files.readAttributes(Path.of(filename), BasicFileAttributes.class);
            return List.of(a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey()));
        } catch (IOException e) {
            return "absent";
        }
    }

    private Loaded load() {
        Object version = version();
        String content;
        try {
            content = Files.readString(Path.of(filename), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new EngineException("Unable to read '" + filename + "': Failed to open file \u201c" + filename
                    + "\u201d: " + TlsCredentials.ioReason(e));
        }
        Object json = new Reader(content).document();
        if (!(json instanceof Map<?, ?> map)) {
            throw new EngineException("File '" + filename + "' must contain a JSON object");
        }
        return new Loaded(toList(map), version);
    }

    /** The {@code authz-list} members of a parsed object, checked as QEMU's input visitor does. */
    static AuthzList toList(Map<?, ?> map) {
        AuthzPolicy policy = AuthzPolicy.DENY;
        List<AuthzRule> rules = new ArrayList<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = (String) e.getKey();
            switch (key) {
                case "policy" -> policy = policy("policy", e.getValue());
                case "rules" -> {
                    if (!(e.getValue() instanceof List<?> l)) {
                        throw new EngineException("Invalid parameter type for 'rules', expected: array");
                    }
                    for (int i = 0; i < l.size(); i++) {
                        rules.add(rule("rules[" + i + "]", l.get(i)));
                    }
                }
                default -> throw new EngineException("Parameter '" + key + "' is unexpected");
            }
        }
        return new AuthzList(policy, rules);
    }

    private static AuthzRule rule(String path, Object v) {
        if (!(v instanceof Map<?, ?> m)) {
            throw new EngineException("Invalid parameter type for '" + path + "', expected: object");
        }
        String match = null;
        AuthzPolicy policy = null;
        AuthzFormat format = null;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String key = (String) e.getKey();
            String p = path + "." + key;
            switch (key) {
                case "match" -> {
                    if (!(e.getValue() instanceof String s)) {
                        throw new EngineException("Invalid parameter type for '" + p + "', expected: string");
                    }
                    match = s;
                }
                case "policy" -> policy = policy(p, e.getValue());
                case "format" -> {
                    if (!(e.getValue() instanceof String s)) {
                        throw new EngineException("Invalid parameter type for '" + p + "', expected: string");
                    }
                    format = AuthzFormat.ofQapi(s);
                    if (format == null) {
                        throw new EngineException("Parameter '" + p + "' does not accept value '" + s + "'");
                    }
                }
                default -> throw new EngineException("Parameter '" + p + "' is unexpected");
            }
        }
        if (match == null) {
            throw new EngineException("Parameter '" + path + ".match' is missing");
        }
        if (policy == null) {
            throw new EngineException("Parameter '" + path + ".policy' is missing");
        }
        return new AuthzRule(match, policy, format);
    }

    private static AuthzPolicy policy(String path, Object v) {
        if (!(v instanceof String s)) {
            throw new EngineException("Invalid parameter type for '" + path + "', expected: string");
        }
        AuthzPolicy p = AuthzPolicy.ofQapi(s);
        if (p == null) {
            throw new EngineException("Parameter '" + path + "' does not accept value '" + s + "'");
        }
        return p;
    }

    /** A strict RFC 8259 reader for the list file: objects, arrays, strings, numbers, true/false/null. */
    static final class Reader {
        private static final int MAX_DEPTH = 64;
        private final String s;
        private int pos;

        Reader(String s) {
            this.s = s;
        }

        Object document() {
            Object v = value(0);
            skipSpace();
            if (pos != s.length()) {
                throw error("unexpected data after the JSON value");
            }
            return v;
        }

        private EngineException error(String what) {
            return new EngineException("JSON parse error, " + what);
        }

        private void skipSpace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        private Object value(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("nesting too deep");
            }
            skipSpace();
            if (pos >= s.length()) {
                throw error("expecting value");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{' -> {
                    pos++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    skipSpace();
                    if (peek('}')) {
                        return m;
                    }
                    do {
                        skipSpace();
                        if (pos >= s.length() || s.charAt(pos) != '"') {
                            throw error("key is not a string in object");
                        }
                        String key = string();
                        skipSpace();
                        if (!peek(':')) {
                            throw error("missing : in object pair");
                        }
                        m.put(key, value(depth + 1));
                        skipSpace();
                    } while (peek(','));
                    if (!peek('}')) {
                        throw error("expected separator in dict");
                    }
                    return m;
                }
                case '[' -> {
                    pos++;
                    List<Object> l = new ArrayList<>();
                    skipSpace();
                    if (peek(']')) {
                        return l;
                    }
                    do {
                        l.add(value(depth + 1));
                        skipSpace();
                    } while (peek(','));
                    if (!peek(']')) {
                        throw error("expected separator in list");
                    }
                    return l;
                }
                case '"' -> {
                    return string();
                }
                default -> {
                    if (s.startsWith("true", pos)) {
                        pos += 4;
                        return Boolean.TRUE;
                    }
                    if (s.startsWith("false", pos)) {
                        pos += 5;
                        return Boolean.FALSE;
                    }
                    if (s.startsWith("null", pos)) {
                        pos += 4;
                        return NULL;
                    }
                    return number();
                }
            }
        }

        static final Object NULL = new Object();

        private boolean peek(char c) {
            if (pos < s.length() && s.charAt(pos) == c) {
                pos++;
                return true;
            }
            return false;
        }

        private String string() {
            pos++; // opening quote
            StringBuilder b = new StringBuilder();
            while (true) {
                if (pos >= s.length()) {
                    throw error("missing closing quote in string");
                }
                char c = s.charAt(pos++);
                if (c == '"') {
                    return b.toString();
                }
                if (c < 0x20) {
                    throw error("control character in string");
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                if (pos >= s.length()) {
                    throw error("missing closing quote in string");
                }
                char e = s.charAt(pos++);
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (pos + 4 > s.length()) {
                            throw error("invalid escape sequence in string");
                        }
                        try {
                            b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        } catch (NumberFormatException x) {
                            throw error("invalid escape sequence in string");
                        }
                        pos += 4;
                    }
                    default -> throw error("invalid escape sequence in string");
                }
            }
        }

        private Object number() {
            int start = pos;
            while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) {
                pos++;
            }
            String t = s.substring(start, pos);
            if (t.isEmpty()) {
                throw error("invalid token");
            }
            try {
                if (t.matches("-?(0|[1-9][0-9]*)")) {
                    return Long.parseLong(t);
                }
                if (t.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) {
                    return Double.parseDouble(t);
                }
            } catch (NumberFormatException x) {
                // fall through
            }
            throw error("invalid number");
        }
    }
}
