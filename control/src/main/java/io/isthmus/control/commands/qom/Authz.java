package io.isthmus.control.commands.qom;

/**
 * An authorization object (authz-simple, authz-list, authz-listfile): decides whether a client identity
 * (an x509 distinguished name or a PSK username) may connect. Any thread may ask.
 */
public interface Authz extends QomObject {
    boolean isAllowed(String identity);
}
