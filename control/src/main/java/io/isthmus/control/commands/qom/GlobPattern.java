package io.isthmus.control.commands.qom;

/**
 * GLib's g_pattern_match_simple(), which QEMU's authz-list uses for {@code format: glob}: {@code *}
 * matches any run of characters, {@code ?} exactly one character; nothing else is special (no classes,
 * no escapes). Iterative, no backtracking blow-up.
 */
public final class GlobPattern {
    private GlobPattern() {
    }

    public static boolean matches(String pattern, String text) {
        int[] p = pattern.codePoints().toArray();
        int[] t = text.codePoints().toArray();
        int pi = 0;
        int ti = 0;
        int starP = -1;
        int starT = 0;
        while (ti < t.length) {
            if (pi < p.length && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti]))) {
                pi++;
                ti++;
            } else if (pi < p.length && p[pi] == '*') {
                starP = pi++;
                starT = ti;
            } else if (starP >= 0) {
                pi = starP + 1;
                ti = ++starT;
            } else {
                return false;
            }
        }
        while (pi < p.length && p[pi] == '*') {
            pi++;
        }
        return pi == p.length;
    }
}
