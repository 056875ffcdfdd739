package io.isthmus.control.qapi;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.isthmus.control.QmpError;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Feeds the keyval parser (and the typing of its result) arbitrary input: nothing but QmpError may
 * escape. Under plain JUnit this replays the committed seeds in KeyvalFuzzTestInputs/; with
 * {@code JAZZER_FUZZ=1} Jazzer fuzzes.
 */
class KeyvalFuzzTest {
    private static final QapiSchema SCHEMA = QapiSchema.load();
    private static final List<String> TYPES = List.of("BlockdevOptions", "BlockExportOptions", "NbdServerOptions",
            "ObjectOptions", "MonitorOptions");
    private static final String[] IMPLIED = {null, "driver", "type", "qom-type", "chardev"};

    @FuzzTest(maxDuration = "30s")
    void parseNeverThrowsAnythingButQmpError(FuzzedDataProvider data) {
        String implied = IMPLIED[data.consumeInt(0, IMPLIED.length - 1)];
        String type = TYPES.get(data.consumeInt(0, TYPES.size() - 1));
        String text = data.consumeRemainingAsString();
        Map<String, Object> tree;
        try {
            tree = Keyval.parse(text, implied);
        } catch (QmpError e) {
            return;
        }
        try {
            SCHEMA.keyvalToArguments(type, tree);
        } catch (QmpError e) {
            // expected for most inputs
        }
    }

    /**
     * A deterministic random walk over keyval's alphabet, run under plain JUnit: Jazzer cannot
     * instrument Java 25 class files yet, so this covers the parser's corners regardless.
     */
    @Test
    void randomKeyvalTextsOnlyRaiseQmpError() {
        String[] atoms = {"a", "b", "x1", "bitmaps", "0", "1", "10", "2147483648", ".", ",", ",,", "=", "help", "?",
            "_", "__", "-", "node-name", "driver", "raw", "file", "type", "nbd", "addr", "on", "1k", "0x", " ", "\0"};
        Random r = new Random(42);
        for (int i = 0; i < 20000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = r.nextInt(12);
            for (int j = 0; j < n; j++) {
                sb.append(atoms[r.nextInt(atoms.length)]);
            }
            String implied = IMPLIED[r.nextInt(IMPLIED.length)];
            try {
                Map<String, Object> tree = Keyval.parse(sb.toString(), implied);
                SCHEMA.keyvalToArguments(TYPES.get(r.nextInt(TYPES.size())), tree);
            } catch (QmpError expected) {
                // the only exception allowed
            }
        }
    }
}
