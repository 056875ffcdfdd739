package io.isthmus.control.diff;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The deliberate differences between Isthmus and qemu-storage-daemon that the differential tests
 * accept, from {@code diff/known-differences.txt}: one per line, {@code FILE | STEP | REASON}, where
 * STEP is the script line (or command line) exactly as written. Every entry must still be needed: an
 * entry no test used fails the suite, so the list only shrinks as differences are fixed.
 */
final class KnownDifferences {
    private final Map<String, String> reasons = new LinkedHashMap<>();
    private final Set<String> used = ConcurrentHashMap.newKeySet();

    static KnownDifferences load(Path file) throws IOException {
        KnownDifferences k = new KnownDifferences();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split(" \\| ", 3);
            if (parts.length != 3 || parts[2].isBlank()) {
                throw new IOException(file + ": expected 'FILE | STEP | REASON': " + line);
            }
            k.reasons.put(parts[0].trim() + " | " + parts[1].trim(), parts[2].trim());
        }
        return k;
    }

    /** The reason if this step of this file may differ (and marks the entry used), else null. */
    String allowed(String file, String step) {
        String key = file + " | " + step.trim();
        String r = reasons.get(key);
        if (r != null) {
            used.add(key);
        }
        return r;
    }

    /** Entries of these files that no step needed. */
    Set<String> unused(Set<String> files) {
        Set<String> out = new java.util.TreeSet<>();
        for (String k : reasons.keySet()) {
            String file = k.substring(0, k.indexOf(" | "));
            if (files.contains(file) && !used.contains(k)) {
                out.add(k);
            }
        }
        return out;
    }
}
