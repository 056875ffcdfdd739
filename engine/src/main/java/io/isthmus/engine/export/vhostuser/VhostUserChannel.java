package io.isthmus.engine.export.vhostuser;

import java.lang.foreign.MemorySegment;

/**
 * What {@link VhostUserHandler} needs from the transport under it: the fds that came with the message being
 * handled (SCM_RIGHTS), and a way to send a reply. The socket transport implements it; tests use a fake with
 * memfds and eventfds.
 *
 * <p>Fd ownership: {@link #takeFd} hands a received fd to the caller, who closes it; after the handler returns,
 * the transport closes every received fd nobody took. The fd given to {@link #send} is borrowed for the call.
 */
public interface VhostUserChannel {
    /** How many fds arrived with the current message. */
    int fdCount();

    /** Takes received fd {@code i} (the caller owns it from now on), or -1 if there is none or it was taken. */
    int takeFd(int i);

    /** Sends {@code length} bytes of {@code message} (header and payload), with {@code fd} attached unless -1. */
    void send(MemorySegment message, int length, int fd) throws VhostUserException;
}
