package io.isthmus.control.qmp;

import io.isthmus.control.QmpError;
import java.util.List;

/**
 * One monitor client's capabilities negotiation: whether {@code qmp_capabilities} has run, and whether it
 * enabled {@code oob}. Written by {@code qmp_capabilities} on the control thread; read by the client's reader
 * thread (volatile).
 */
final class QmpCapabilities {
    private volatile boolean negotiated;
    private volatile boolean oobEnabled;

    boolean negotiated() {
        return negotiated;
    }

    boolean oobEnabled() {
        return oobEnabled;
    }

    /** qmp_capabilities: QEMU's texts for a second negotiation and for an unknown capability. */
    void negotiate(List<String> enable) throws QmpError {
        if (negotiated) {
            throw new QmpError(QmpError.COMMAND_NOT_FOUND, "Capabilities negotiation is already complete, command ignored");
        }
        boolean oob = false;
        for (String cap : enable) {
            if (!"oob".equals(cap)) {
                throw QmpError.generic("Capability " + cap + " not available");
            }
            oob = true;
        }
        oobEnabled = oob;
        negotiated = true;
    }
}
