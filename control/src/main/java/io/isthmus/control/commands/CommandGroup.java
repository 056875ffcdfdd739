package io.isthmus.control.commands;

/**
 * A set of handlers grouped as the schema groups them (control, qom, block-export, ...). Each group is
 * one class; {@link CommandGroups} lists them.
 */
public interface CommandGroup {
    /** Registers this group's handlers (and any command-line option hooks or shutdown steps). */
    void register(CommandRegistry registry);
}
