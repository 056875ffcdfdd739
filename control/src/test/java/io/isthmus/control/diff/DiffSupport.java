package io.isthmus.control.diff;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** Where the differential test data lives, and whether the peers are there. */
final class DiffSupport {
    private DiffSupport() {
    }

    static Path dataDir() {
        try {
            return Path.of(DiffSupport.class.getResource("/diff").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean integrationEnabled() {
        return !"false".equals(System.getProperty("isthmus.it"));
    }

    private static KnownDifferences known;

    static synchronized KnownDifferences knownDifferences() {
        if (known == null) {
            try {
                known = KnownDifferences.load(dataDir().resolve("known-differences.txt"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return known;
    }
}
