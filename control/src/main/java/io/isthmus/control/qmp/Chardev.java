package io.isthmus.control.qmp;

import java.io.IOException;

/**
 * A character device backend a monitor runs on. It hands out clients one at a time: the monitor asks
 * for the next client only after the previous one left, so a second client of a socket chardev is
 * accepted by the kernel but greeted only when the first disconnects (as in QSD).
 */
public abstract class Chardev {
    private final String id;
    private boolean inUse;

    protected Chardev(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** Blocks until the next client arrives; null once the chardev is closed or has no more clients. */
    public abstract ClientConnection nextClient() throws IOException;

    public abstract void close();

    /** Claims the chardev for a frontend (a monitor); QEMU allows one. */
    synchronized boolean claim() {
        if (inUse) {
            return false;
        }
        inUse = true;
        return true;
    }
}
