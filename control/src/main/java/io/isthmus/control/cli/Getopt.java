package io.isthmus.control.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * GNU getopt_long as qemu-storage-daemon calls it ({@code "-hT:V"} plus its long options): options
 * and non-options are returned strictly in order, long options may be abbreviated to a unique prefix
 * and take {@code --opt=value} or {@code --opt value}, short options may be grouped, {@code --} ends
 * the scan (what follows is ignored, as in QSD). Error texts are glibc's.
 *
 * <p>Isthmus's own {@code --demo} is recognised only when spelled out in full and takes no part in
 * prefix matching, so every abbreviation means what it means to qemu-storage-daemon ({@code --d} is
 * {@code --daemonize}; {@code --de} and {@code --demo=x} are unrecognized, as there).
 */
public final class Getopt {
    /** A long or short option QSD knows. */
    public enum Opt {
        BLOCKDEV("blockdev", true), CHARDEV("chardev", true), DAEMONIZE("daemonize", false),
        EXPORT("export", true), HELP("help", false), MONITOR("monitor", true),
        NBD_SERVER("nbd-server", true), OBJECT("object", true), PIDFILE("pidfile", true),
        TRACE("trace", true), VERSION("version", false), DEMO("demo", false);

        final String longName;
        final boolean hasArg;

        Opt(String longName, boolean hasArg) {
            this.longName = longName;
            this.hasArg = hasArg;
        }

        public String longName() {
            return longName;
        }
    }

    /**
     * One element of the command line: an option with its argument, a stray non-option argument
     * ({@code opt == null}), or a usage error ({@code error != null}). {@code location} is how QEMU
     * names it in messages: the argv element(s) it came from, joined by a space.
     */
    public record Item(Opt opt, String arg, String location, String error) {
    }

    private Getopt() {
    }

    public static List<Item> parse(String prog, String[] argv) {
        List<Item> items = new ArrayList<>();
        int i = 0;
        while (i < argv.length) {
            String a = argv[i];
            if (a.equals("--")) {
                break;
            }
            if (a.equals("--demo")) {
                items.add(new Item(Opt.DEMO, null, a, null));
                i++;
            } else if (a.startsWith("--")) {
                String body = a.substring(2);
                int eq = body.indexOf('=');
                String name = eq >= 0 ? body.substring(0, eq) : body;
                List<Opt> matches = new ArrayList<>();
                Opt exact = null;
                for (Opt o : Opt.values()) {
                    if (o == Opt.DEMO) {
                        continue; // exact "--demo" only, handled above
                    }
                    if (o.longName.equals(name)) {
                        exact = o;
                    } else if (o.longName.startsWith(name)) {
                        matches.add(o);
                    }
                }
                Opt o = exact != null ? exact : (matches.size() == 1 ? matches.get(0) : null);
                if (o == null) {
                    if (matches.size() > 1) {
                        StringBuilder sb = new StringBuilder(prog + ": option '--" + name + "' is ambiguous; possibilities:");
                        for (Opt m : matches) {
                            sb.append(" '--").append(m.longName).append('\'');
                        }
                        items.add(new Item(null, null, a, sb.toString()));
                    } else {
                        items.add(new Item(null, null, a, prog + ": unrecognized option '" + a + "'"));
                    }
                    return items;
                }
                if (!o.hasArg) {
                    if (eq >= 0) {
                        items.add(new Item(null, null, a, prog + ": option '--" + o.longName + "' doesn't allow an argument"));
                        return items;
                    }
                    items.add(new Item(o, null, a, null));
                    i++;
                } else if (eq >= 0) {
                    items.add(new Item(o, body.substring(eq + 1), a, null));
                    i++;
                } else if (i + 1 < argv.length) {
                    items.add(new Item(o, argv[i + 1], a + " " + argv[i + 1], null));
                    i += 2;
                } else {
                    items.add(new Item(null, null, a, prog + ": option '--" + o.longName + "' requires an argument"));
                    return items;
                }
            } else if (a.startsWith("-") && a.length() > 1) {
                int j = 1;
                i++;
                while (j < a.length()) {
                    char c = a.charAt(j++);
                    switch (c) {
                        case 'h' -> items.add(new Item(Opt.HELP, null, a, null));
                        case 'V' -> items.add(new Item(Opt.VERSION, null, a, null));
                        case 'T' -> {
                            if (j < a.length()) {
                                items.add(new Item(Opt.TRACE, a.substring(j), a, null));
                            } else if (i < argv.length) {
                                items.add(new Item(Opt.TRACE, argv[i], a + " " + argv[i], null));
                                i++;
                            } else {
                                items.add(new Item(null, null, a, prog + ": option requires an argument -- 'T'"));
                                return items;
                            }
                            j = a.length();
                        }
                        default -> {
                            items.add(new Item(null, null, a, prog + ": invalid option -- '" + c + "'"));
                            return items;
                        }
                    }
                }
            } else {
                items.add(new Item(null, a, a, null));
                i++;
            }
        }
        return items;
    }
}
