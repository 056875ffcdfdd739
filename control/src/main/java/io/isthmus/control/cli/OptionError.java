package io.isthmus.control.cli;

/** A failed command-line option: printed as {@code PROG: LOCATION: DESC}, exit status 1. */
public final class OptionError extends Exception {
    private final String location;
    private final String hint;

    public OptionError(String location, String desc) {
        this(location, desc, null);
    }

    public OptionError(String location, String desc, String hint) {
        super(desc, null, false, false);
        this.location = location;
        this.hint = hint;
    }

    public String location() {
        return location;
    }

    /** The message as QEMU prints it (no trailing newline; a hint follows on its own lines). */
    public String format(String prog) {
        String line = location == null ? prog + ": " + getMessage() : prog + ": " + location + ": " + getMessage();
        return hint == null ? line : line + "\n" + hint.stripTrailing();
    }
}
