package io.isthmus.control.qmp;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;

/** {@code --chardev stdio,id=X}: one client, the process's stdin and stdout. */
public final class StdioChardev extends Chardev {
    private boolean handedOut;
    private volatile boolean closed;

    public StdioChardev(String id) {
        super(id);
    }

    @Override
    public synchronized ClientConnection nextClient() throws java.io.IOException {
        while (handedOut && !closed) {
            try {
                wait(); // stdin reached its end: no further client ever comes
            } catch (InterruptedException e) {
                return null;
            }
        }
        if (closed) {
            return null;
        }
        handedOut = true;
        return new StreamConnection(new FileInputStream(FileDescriptor.in), new FileOutputStream(FileDescriptor.out));
    }

    @Override
    public synchronized void close() {
        closed = true;
        notifyAll();
    }
}
