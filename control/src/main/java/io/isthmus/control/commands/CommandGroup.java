package io.isthmus.control.commands;

/**
 * A set of handlers grouped as the schema groups them (control, qom, block-export, ...). Each group is
 * one class, built with what its handlers use; {@code Daemon.create} lists them.
 */
public interface CommandGroup {
    /** Registers this group's handlers (and any object types or command-line option hooks). */
    void register(CommandRegistry registry);
}
