package io.isthmus.engine.export;

import java.util.List;

/**
 * The members every export type has ({@code BlockExportOptions}' common part), already validated for types by
 * the control plane. {@code iothreads} is null when absent; {@code iothreadList} says whether the list form
 * was used (a one-element list and a plain string differ in QEMU's checks). {@code typeOptions} is the
 * driver's own options object (e.g. {@code NbdExportOptions}).
 */
public record ExportOptions(String type, String id, String nodeName, boolean writable, boolean writethrough,
        List<String> iothreads, boolean iothreadList, boolean fixedIothread, boolean allowInactive,
        Object typeOptions) {
}
