package io.isthmus.engine.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.EngineException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * What the qcow2 engine tests share: a temporary directory, an IoThread to run requests on, a block graph, qemu-img
 * as the peer that makes and checks images. Everything is closed and deleted after each test.
 */
abstract class Qcow2TestBase {
    protected Path dir;
    protected BlockTestSupport t;
    protected BlockGraph graph;

    /** The peer binaries the test needs (skipped when absent). */
    protected abstract String[] peers();

    @BeforeEach
    void setUpQcow2() throws Exception {
        Peers.assumeIntegration(peers());
        dir = Files.createTempDirectory("qcow2-test");
        t = new BlockTestSupport();
        graph = new BlockGraph();
    }

    @AfterEach
    void tearDownQcow2() throws Exception {
        if (graph != null) {
            graph.closeAll();
        }
        if (t != null) {
            t.close();
        }
        if (dir != null) {
            try (var s = Files.walk(dir)) {
                s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Runs a peer command that must succeed; returns its output. */
    protected String run(String... cmd) throws Exception {
        Peers.Result r = Peers.run(cmd);
        assertEquals(0, r.exit(), String.join(" ", cmd) + ": " + r.out());
        return r.out();
    }

    /** A qcow2 node named {@code name} over an inline file node of {@code img}. */
    protected BlockNode open(Path img, String name, boolean readOnly) throws EngineException {
        BlockOptions f = BlockOptions.of("file", null);
        f.filename = img.toString();
        BlockOptions q = BlockOptions.of("qcow2", name);
        q.fileInline = f;
        q.discard = "unmap";
        q.readOnly = readOnly ? Boolean.TRUE : null;
        f.readOnly = q.readOnly;
        return graph.add(q);
    }

    /** qemu-img check finds neither errors nor leaked clusters. */
    protected void checkClean(Path img) throws Exception {
        String out = run("qemu-img", "check", img.toString());
        assertTrue(out.contains("No errors were found"), out);
        assertFalse(out.contains("leaked"), out);
    }

    /** The image's guest contents, through qemu-img convert to raw. */
    protected byte[] rawContents(Path img) throws Exception {
        Path raw = dir.resolve("out.raw");
        run("qemu-img", "convert", "-O", "raw", img.toString(), raw.toString());
        return Files.readAllBytes(raw);
    }
}
