package io.isthmus.engine.tls;

/**
 * GLib's {@code g_pattern_match_simple} semantics, which QEMU's {@code authz-list} uses for {@code glob} rules:
 * {@code *} matches any sequence of characters (also empty), {@code ?} exactly one character (a Unicode code
 * point, as GLib counts UTF-8 characters); every other character, including {@code [}, {@code ]} and
 * {@code \}, matches itself. Pure; any thread.
 */
public final class GlobPattern {
    private GlobPattern() {}

    /** True if {@code text} matches {@code pattern} as a whole. Linear-time backtracking (no exponential cases). */
    public static boolean matches(String pattern, String text) {
        int[] p = pattern.codePoints().toArray();
        int[] t = text.codePoints().toArray();
        int pi = 0, ti = 0, starP = -1, starT = 0;
        while (ti < t.length) {
            if (pi < p.length && p[pi] == '*') {
                starP = pi++;
                starT = ti;
            } else if (pi < p.length && (p[pi] == '?' || p[pi] == t[ti])) {
                pi++;
                ti++;
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
