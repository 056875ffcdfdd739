package io.isthmus.engine.export.vhostuser;

/**
 * A front end broke the vhost-user protocol (a malformed message, a wrong payload size, an fd where none belongs,
 * an out-of-range index, a memory region its fd cannot back...) or asked for something this back end refuses in a
 * way that ends the session. The session that throws it is closed; the daemon and other exports carry on.
 */
public final class VhostUserException extends Exception {
    public VhostUserException(String message) {
        super(message, null, false, false);
    }
}
