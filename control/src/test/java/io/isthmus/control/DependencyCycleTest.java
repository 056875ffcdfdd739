package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No dependency cycle among the control plane's main classes ({@code io.isthmus.control} and its sub-packages):
 * the control plane is built in order (see {@link Daemon#create}), each piece handed what it uses, so no class
 * needs a class that needs it back.
 *
 * <p>What counts as "A depends on B" (nested classes count as their top-level class; a class's own nested
 * classes are not a dependency):
 * <ul>
 * <li>A's source imports B or names it fully qualified;</li>
 * <li>A's source names B by its simple name while B is in A's package and A imports no other class of that
 *     name (a regex over the source with comments and string literals removed, so it errs toward seeing a
 *     dependency: any identifier spelled like B counts);</li>
 * <li>A's compiled class file refers to B (constant-pool class entries and descriptors, string constants
 *     excluded): this catches a type reached through a chain of calls ({@code daemon.chardevs().create(..)}),
 *     which no import shows. Compile-time constants are inlined by javac and are seen only in the source.</li>
 * </ul>
 * Package-level cycles are not checked: the root package holds both the wiring ({@link Main}, {@link Daemon})
 * and leaf types everything uses ({@link QmpError}, {@link ControlLoop}, {@link Version}).
 */
class DependencyCycleTest {
    private static final String ROOT = "io.isthmus.control";
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(io\\.isthmus\\.control\\.[\\w.]+)\\s*;",
            Pattern.MULTILINE);
    private static final Pattern ANY_IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?([\\w.]+)\\s*;",
            Pattern.MULTILINE);
    private static final Pattern QUALIFIED = Pattern.compile("\\bio\\.isthmus\\.control\\.[\\w.]+");
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
    private static final Pattern BINARY_NAME = Pattern.compile("io/isthmus/control/[\\w/]+");

    @Test
    void noCycleAmongControlClasses() throws Exception {
        Map<String, Set<String>> deps = new TreeMap<>();
        Path sources = sourceRoot();
        Map<String, String> sourceText = new HashMap<>();
        try (Stream<Path> s = Files.walk(sources)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".java")).toList()) {
                String text = stripCommentsAndStrings(Files.readString(p));
                Matcher pm = PACKAGE.matcher(text);
                assertTrue(pm.find(), "no package line in " + p);
                String name = pm.group(1) + "." + p.getFileName().toString().replace(".java", "");
                sourceText.put(name, text);
                deps.put(name, new TreeSet<>());
            }
        }
        assertTrue(deps.size() > 50, "found only " + deps.size() + " classes under " + sources);
        for (Map.Entry<String, String> e : sourceText.entrySet()) {
            sourceDependencies(e.getKey(), e.getValue(), deps.keySet(), deps.get(e.getKey()));
        }
        Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (Stream<Path> s = Files.walk(classes.resolve(ROOT.replace('.', '/')))) {
            for (Path p : s.filter(f -> f.toString().endsWith(".class")).toList()) {
                String binary = classes.relativize(p).toString().replace(".class", "").replace('/', '.');
                String owner = topLevel(binary);
                Set<String> out = deps.get(owner);
                assertTrue(out != null, "class file without a source file: " + p);
                try (InputStream in = Files.newInputStream(p)) {
                    for (String ref : classFileReferences(in)) {
                        String target = topLevel(ref.replace('/', '.'));
                        if (deps.containsKey(target)) {
                            out.add(target);
                        }
                    }
                }
            }
        }
        for (Map.Entry<String, Set<String>> e : deps.entrySet()) {
            e.getValue().remove(e.getKey());
        }
        List<Set<String>> cycles = stronglyConnected(deps);
        StringBuilder msg = new StringBuilder();
        for (Set<String> c : cycles) {
            msg.append("\ncycle of ").append(c.size()).append(" classes:");
            for (String a : c) {
                Set<String> inCycle = new TreeSet<>(deps.get(a));
                inCycle.retainAll(c);
                msg.append("\n  ").append(shortName(a)).append(" -> ");
                msg.append(inCycle.stream().map(DependencyCycleTest::shortName).toList());
            }
        }
        assertTrue(cycles.isEmpty(), "dependency cycles among control's classes:" + msg);
    }

    private static Path sourceRoot() {
        String rel = "src/main/java/" + ROOT.replace('.', '/');
        Path p = Path.of(rel);
        return Files.isDirectory(p) ? p : Path.of("control").resolve(rel);
    }

    private static void sourceDependencies(String self, String text, Set<String> known, Set<String> out) {
        String pkg = self.substring(0, self.lastIndexOf('.'));
        Set<String> importedSimpleNames = new HashSet<>();
        Matcher m = ANY_IMPORT.matcher(text);
        while (m.find()) {
            String imported = m.group(1);
            importedSimpleNames.add(imported.substring(imported.lastIndexOf('.') + 1));
        }
        m = IMPORT.matcher(text);
        while (m.find()) {
            addKnownPrefix(m.group(1), known, out);
        }
        String body = text.replaceAll("(?m)^(package|import)\\s[^\n]*", "");
        m = QUALIFIED.matcher(body);
        while (m.find()) {
            addKnownPrefix(m.group(), known, out);
        }
        for (String other : known) {
            String otherPkg = other.substring(0, other.lastIndexOf('.'));
            String simple = other.substring(other.lastIndexOf('.') + 1);
            if (otherPkg.equals(pkg) && !other.equals(self) && !importedSimpleNames.contains(simple)
                    && Pattern.compile("(?<![\\w.])" + simple + "\\b").matcher(body).find()) {
                out.add(other);
            }
        }
    }

    /** Adds the longest prefix of a dotted name that is a known class (a nested class or member names it too). */
    private static void addKnownPrefix(String dotted, Set<String> known, Set<String> out) {
        for (String n = dotted; n.contains("."); n = n.substring(0, n.lastIndexOf('.'))) {
            if (known.contains(n)) {
                out.add(n);
                return;
            }
        }
    }

    private static String topLevel(String binaryName) {
        int dollar = binaryName.indexOf('$');
        return dollar < 0 ? binaryName : binaryName.substring(0, dollar);
    }

    private static String shortName(String name) {
        return name.substring(ROOT.length() + 1);
    }

    /** Removes comments, string and char literals and text blocks (their text is not a reference). */
    static String stripCommentsAndStrings(String src) {
        StringBuilder sb = new StringBuilder(src.length());
        int i = 0;
        int n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (c == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
                while (i < n && src.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
                int end = src.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                sb.append(' ');
            } else if (src.startsWith("\"\"\"", i)) {
                int end = src.indexOf("\"\"\"", i + 3);
                i = end < 0 ? n : end + 3;
                sb.append("\"\"");
            } else if (c == '"' || c == '\'') {
                i++;
                while (i < n && src.charAt(i) != c) {
                    i += src.charAt(i) == '\\' ? 2 : 1;
                }
                i++;
                sb.append(c).append(c);
            } else {
                sb.append(c);
                i++;
            }
        }
        return sb.toString();
    }

    /** The binary names ({@code io/isthmus/control/...}) a class file's constant pool refers to as types. */
    static Set<String> classFileReferences(InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        in.readUnsignedShort();
        in.readUnsignedShort();
        int count = in.readUnsignedShort();
        String[] utf8 = new String[count];
        Set<Integer> stringConstants = new HashSet<>();
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> utf8[i] = in.readUTF();
                case 7, 16, 19, 20 -> in.readUnsignedShort(); // Class, MethodType, Module, Package
                case 8 -> stringConstants.add(in.readUnsignedShort());
                case 15 -> in.skipNBytes(3); // MethodHandle
                case 3, 4, 9, 10, 11, 12, 17, 18 -> in.skipNBytes(4);
                case 5, 6 -> {
                    in.skipNBytes(8);
                    i++; // a long or double takes two entries
                }
                default -> throw new IOException("unknown constant-pool tag " + tag);
            }
        }
        Set<String> refs = new TreeSet<>();
        for (int i = 1; i < count; i++) {
            if (utf8[i] != null && !stringConstants.contains(i)) {
                Matcher m = BINARY_NAME.matcher(utf8[i]);
                while (m.find()) {
                    refs.add(m.group());
                }
            }
        }
        return refs;
    }

    /** Tarjan's algorithm, iteratively; returns the components of more than one class, each sorted. */
    static List<Set<String>> stronglyConnected(Map<String, Set<String>> graph) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new HashSet<>();
        List<Set<String>> result = new ArrayList<>();
        int[] counter = {0};
        for (String root : graph.keySet()) {
            if (index.containsKey(root)) {
                continue;
            }
            Deque<Map.Entry<String, java.util.Iterator<String>>> work = new ArrayDeque<>();
            visit(root, graph, index, low, stack, onStack, counter, work);
            while (!work.isEmpty()) {
                Map.Entry<String, java.util.Iterator<String>> top = work.peek();
                String v = top.getKey();
                if (top.getValue().hasNext()) {
                    String w = top.getValue().next();
                    if (!index.containsKey(w)) {
                        visit(w, graph, index, low, stack, onStack, counter, work);
                    } else if (onStack.contains(w)) {
                        low.put(v, Math.min(low.get(v), index.get(w)));
                    }
                    continue;
                }
                work.pop();
                if (!work.isEmpty()) {
                    String parent = work.peek().getKey();
                    low.put(parent, Math.min(low.get(parent), low.get(v)));
                }
                if (low.get(v).equals(index.get(v))) {
                    Set<String> component = new TreeSet<>();
                    String w;
                    do {
                        w = stack.pop();
                        onStack.remove(w);
                        component.add(w);
                    } while (!w.equals(v));
                    if (component.size() > 1) {
                        result.add(component);
                    }
                }
            }
        }
        return result;
    }

    private static void visit(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
                              Map<String, Integer> low, Deque<String> stack, Set<String> onStack, int[] counter,
                              Deque<Map.Entry<String, java.util.Iterator<String>>> work) {
        index.put(v, counter[0]);
        low.put(v, counter[0]);
        counter[0]++;
        stack.push(v);
        onStack.add(v);
        work.push(Map.entry(v, graph.getOrDefault(v, Set.of()).iterator()));
    }
}
