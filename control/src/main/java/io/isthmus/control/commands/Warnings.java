package io.isthmus.control.commands;

/**
 * QEMU's warn_report with its location: a warning goes to stderr behind the location of the command-line option
 * being applied ({@code isthmus: --blockdev ...: warning: ...}), or bare while a QMP command runs. The start-up
 * options set the location around each option; handlers only warn. Control thread only.
 */
public final class Warnings {
    private String location = "";

    /** Prints {@code <location>warning: <message>} to stderr. */
    public void warn(String message) {
        System.err.println(location + "warning: " + message);
        System.err.flush();
    }

    /** The prefix {@link #warn} puts before "warning:" (a program name and option location); null for none. */
    public void setLocation(String prefix) {
        location = prefix == null ? "" : prefix;
    }
}
