package io.isthmus.engine.export;

/** What the control plane hears from the export layer (it turns these into QMP events). */
public interface ExportListener {
    /** The export is really gone: no client, no request, no reference left; its id may be reused. */
    void exportDeleted(String id);
}
