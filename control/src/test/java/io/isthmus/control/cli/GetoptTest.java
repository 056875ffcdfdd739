package io.isthmus.control.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** qemu-storage-daemon's getopt_long, with Isthmus's --demo outside prefix matching. */
class GetoptTest {
    private static List<Getopt.Item> parse(String... argv) {
        return Getopt.parse("isthmus", argv);
    }

    @Test
    void abbreviationsMeanWhatTheyMeanToQsd() {
        assertEquals(List.of(new Getopt.Item(Getopt.Opt.DAEMONIZE, null, "--d", null)), parse("--d"));
        assertEquals(List.of(new Getopt.Item(Getopt.Opt.DAEMONIZE, null, "--da", null)), parse("--da"));
        assertEquals(List.of(new Getopt.Item(null, null, "--de", "isthmus: unrecognized option '--de'")), parse("--de"));
        assertEquals(List.of(new Getopt.Item(null, null, "--dem", "isthmus: unrecognized option '--dem'")), parse("--dem"));
        assertEquals(List.of(new Getopt.Item(null, null, "--demo=1", "isthmus: unrecognized option '--demo=1'")),
                parse("--demo=1"));
    }

    @Test
    void demoOnlyWhenSpelledOut() {
        assertEquals(List.of(new Getopt.Item(Getopt.Opt.DEMO, null, "--demo", null)), parse("--demo"));
        assertEquals(List.of(new Getopt.Item(Getopt.Opt.DEMO, null, "--demo", null),
                new Getopt.Item(Getopt.Opt.DAEMONIZE, null, "--d", null)), parse("--demo", "--d"));
    }
}
