package io.isthmus.engine.export;

import java.util.List;

/**
 * The members every export type has ({@code BlockExportOptions}' common part), already validated for types by
 * the control plane. {@code iothreads} is null when absent; {@code iothreadList} says whether the list form
 * was used (a one-element list and a plain string differ in QEMU's checks). The members of the type's own branch
 * are its driver's ({@link ExportDriver#parseOptions}).
 */
public record ExportOptions(String type, String id, String nodeName, boolean writable, boolean writethrough,
        List<String> iothreads, boolean iothreadList, boolean fixedIothread, boolean allowInactive) {

    /** The common members of a validated block-export-add. */
    public static ExportOptions of(ExportArgs a) {
        List<String> threads = null;
        boolean list = a.isList("iothread");
        if (list) {
            threads = a.stringList("iothread");
        } else if (a.has("iothread")) {
            threads = List.of(a.string("iothread"));
        }
        return new ExportOptions(a.string("type"), a.string("id"), a.string("node-name"), a.bool("writable"),
                a.bool("writethrough"), threads, list, a.bool("fixed-iothread"), a.bool("allow-inactive"));
    }
}
