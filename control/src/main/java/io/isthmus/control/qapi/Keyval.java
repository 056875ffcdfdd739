package io.isthmus.control.qapi;

import io.isthmus.control.QmpError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * QEMU's keyval syntax (util/keyval.c), as qemu-storage-daemon parses {@code --blockdev},
 * {@code --export}, {@code --nbd-server}, {@code --monitor} and {@code --object}:
 * {@code key=value} pairs separated by {@code ,}; {@code ,,} is a literal comma in a value; the
 * first parameter may omit {@code key=} when an implied key is given ({@code nbd,id=x}); dotted
 * keys build nested objects; numeric key fragments turn an object into a list
 * ({@code bitmaps.0=a,bitmaps.1=b}); a repeated key keeps its last value.
 *
 * <p>The result is a tree of {@code LinkedHashMap}, {@code ArrayList} and {@code String} (all
 * scalars are strings); {@link QapiSchema#keyvalToArguments} types it. Errors carry QEMU's text.
 */
public final class Keyval {
    private static final int MAX_KEY_FRAGMENT = 127;

    private Keyval() {}

    /**
     * Parses {@code text}. {@code impliedKey} (may be null) names the key of a first parameter
     * written without {@code =}.
     */
    public static Map<String, Object> parse(String text, String impliedKey) throws QmpError {
        Map<String, Object> root = new LinkedHashMap<>();
        boolean[] help = new boolean[1];
        int s = 0;
        String implied = impliedKey;
        while (s < text.length()) {
            s = parseOne(root, text, s, implied, help);
            implied = null;
        }
        if (help[0]) {
            throw QmpError.generic("Help is not available for this option");
        }
        Object listified = listify(root, new ArrayList<>());
        assert listified == root;
        return root;
    }

    /** Whether text starts with a help request: returns its length ("?" or "help"), else 0. */
    private static int startsWithHelpOption(String text, int s) {
        if (s < text.length() && text.charAt(s) == '?') {
            return 1;
        }
        return text.startsWith("help", s) ? 4 : 0;
    }

    private static int parseOne(Map<String, Object> root, String text, int params, String impliedKey, boolean[] help) {
        int len = strcspn(text, params, "=,");
        String key = text;
        int keyStart = params;
        int valEnd = -1;
        boolean usingImplied = false;
        if (len > 0 && (params + len >= text.length() || text.charAt(params + len) != '=')) {
            if (startsWithHelpOption(text, params) == len) {
                help[0] = true;
                int s = params + len;
                if (s < text.length() && text.charAt(s) == ',') {
                    s++;
                }
                return s;
            }
            if (impliedKey != null) {
                key = impliedKey;
                keyStart = 0;
                valEnd = params + len;
                len = impliedKey.length();
                usingImplied = true;
            }
        }
        int keyEnd = keyStart + len;

        // Walk the key fragments: s is the current fragment, applying to cur.
        Map<String, Object> cur = root;
        int s = keyStart;
        String keyInCur = null;
        while (true) {
            int fragLen;
            if (s != keyStart && keyToIndex(key, s, keyEnd) >= 0) {
                fragLen = indexEnd(key, s) - s;
            } else {
                int r = parseQapiName(key, s, keyEnd);
                fragLen = Math.max(r, 0);
            }
            if (fragLen == 0 || (s + fragLen < keyEnd && key.charAt(s + fragLen) != '.')) {
                throw QmpError.generic("Invalid parameter '" + key.substring(keyStart, keyEnd) + "'");
            }
            if (fragLen > MAX_KEY_FRAGMENT) {
                boolean fragment = s != keyStart || s + fragLen != keyEnd;
                throw QmpError.generic("Parameter" + (fragment ? " fragment" : "") + " '"
                        + key.substring(s, s + fragLen) + "' is too long");
            }
            if (s != keyStart) {
                cur = putDict(cur, keyInCur, key.substring(keyStart, s - 1));
            }
            keyInCur = key.substring(s, s + fragLen);
            s += fragLen;
            if (s >= keyEnd || key.charAt(s) != '.') {
                break;
            }
            s++;
        }

        String value;
        int next;
        if (usingImplied) {
            value = text.substring(params, valEnd);
            next = valEnd;
            if (next < text.length() && text.charAt(next) == ',') {
                next++;
            }
        } else {
            if (s >= text.length() || text.charAt(s) != '=') {
                throw QmpError.generic("Expected '=' after parameter '" + text.substring(keyStart, s) + "'");
            }
            s++;
            StringBuilder val = new StringBuilder();
            while (s < text.length()) {
                char c = text.charAt(s);
                if (c == ',') {
                    s++;
                    if (s >= text.length() || text.charAt(s) != ',') {
                        break;
                    }
                }
                val.append(text.charAt(s++));
            }
            value = val.toString();
            next = s;
        }
        Object old = cur.get(keyInCur);
        if (old != null && !(old instanceof String)) {
            throw QmpError.generic("Parameters '" + key.substring(keyStart, keyEnd) + ".*' used inconsistently");
        }
        cur.put(keyInCur, value);
        return next;
    }

    /** {@code keyval_parse_put} for an intermediate fragment: the nested object under keyInCur. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> putDict(Map<String, Object> cur, String keyInCur, String keySoFar) {
        Object old = cur.get(keyInCur);
        if (old == null) {
            Map<String, Object> m = new LinkedHashMap<>();
            cur.put(keyInCur, m);
            return m;
        }
        if (!(old instanceof Map)) {
            throw QmpError.generic("Parameters '" + keySoFar + ".*' used inconsistently");
        }
        return (Map<String, Object>) old;
    }

    private static int strcspn(String s, int from, String reject) {
        int i = from;
        while (i < s.length() && reject.indexOf(s.charAt(i)) < 0) {
            i++;
        }
        return i - from;
    }

    /** QEMU's {@code parse_qapi_name(s, false)} limited to [s, end): length of the name or -1. */
    private static int parseQapiName(String str, int s, int end) {
        int p = s;
        if (p < end && str.charAt(p) == '_') { // downstream __RFQDN_ prefix
            p++;
            if (p >= end || str.charAt(p) != '_') {
                return -1;
            }
            p++;
            while (p < end && (isAlnum(str.charAt(p)) || str.charAt(p) == '-' || str.charAt(p) == '.')) {
                p++;
            }
            if (p >= end || str.charAt(p) != '_') {
                return -1;
            }
            p++;
        }
        if (p >= end || !isAlpha(str.charAt(p))) {
            return -1;
        }
        p++;
        while (p < end && (isAlnum(str.charAt(p)) || str.charAt(p) == '-' || str.charAt(p) == '_')) {
            p++;
        }
        return p - s;
    }

    private static boolean isAlpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean isAlnum(char c) {
        return isAlpha(c) || (c >= '0' && c <= '9');
    }

    private static int indexEnd(String key, int s) {
        int i = s;
        while (i < key.length() && key.charAt(i) >= '0' && key.charAt(i) <= '9') {
            i++;
        }
        return i;
    }

    /**
     * QEMU's {@code key_to_index}: the list index a key fragment denotes, or -1. Values beyond
     * INT_MAX saturate to INT_MAX (as qemu_strtoul's ERANGE does there).
     */
    private static int keyToIndex(String key, int s, int end) {
        if (s >= end || key.charAt(s) < '0' || key.charAt(s) > '9') {
            return -1;
        }
        int e = indexEnd(key, s);
        long v = 0;
        for (int i = s; i < e; i++) {
            v = v * 10 + (key.charAt(i) - '0');
            if (v > Integer.MAX_VALUE) {
                return Integer.MAX_VALUE;
            }
        }
        return (int) v;
    }

    /** A whole dictionary key that is a list index, or -1 (key_to_index with NULL end). */
    private static int wholeKeyIndex(String key) {
        if (key.isEmpty() || key.charAt(0) < '0' || key.charAt(0) > '9') {
            return -1;
        }
        if (indexEnd(key, 0) != key.length()) {
            return -1; // qemu_strtoul with NULL end rejects trailing characters
        }
        return keyToIndex(key, 0, key.length());
    }

    /**
     * QEMU's {@code keyval_listify}: objects whose keys are all indexes become lists; mixing
     * indexes and names, or leaving a gap, is an error. Members are walked in QDict order so that
     * the error reported first is QEMU's.
     */
    @SuppressWarnings("unchecked")
    private static Object listify(Map<String, Object> cur, List<String> keyOfCur) {
        boolean hasIndex = false;
        boolean hasMember = false;
        for (String k : QemuHashOrder.qdictOrder(cur.keySet())) {
            if (wholeKeyIndex(k) >= 0) {
                hasIndex = true;
            } else {
                hasMember = true;
            }
            if (cur.get(k) instanceof Map<?, ?> m) {
                keyOfCur.add(k);
                Object v = listify((Map<String, Object>) m, keyOfCur);
                keyOfCur.removeLast();
                if (v != m) {
                    cur.put(k, v);
                }
            }
        }
        if (hasIndex && hasMember) {
            throw QmpError.generic("Parameters '" + reassemble(keyOfCur) + "*' used inconsistently");
        }
        if (!hasIndex) {
            return cur;
        }
        int nelt = cur.size() + 1;
        Object[] elt = new Object[nelt];
        int maxIndex = -1;
        for (String k : QemuHashOrder.qdictOrder(cur.keySet())) {
            int index = wholeKeyIndex(k);
            if (index > maxIndex) {
                maxIndex = index;
            }
            if (index >= nelt - 1) {
                continue;
            }
            elt[index] = cur.get(k);
        }
        List<Object> list = new ArrayList<>();
        int n = (int) Math.min(nelt, maxIndex + 1L);
        for (int i = 0; i < n; i++) {
            if (elt[i] == null) {
                throw QmpError.generic("Parameter '" + reassemble(keyOfCur) + i + "' missing");
            }
            list.add(elt[i]);
        }
        return list;
    }

    private static String reassemble(List<String> keys) {
        StringBuilder sb = new StringBuilder();
        for (String k : keys) {
            sb.append(k).append('.');
        }
        return sb.toString();
    }
}
