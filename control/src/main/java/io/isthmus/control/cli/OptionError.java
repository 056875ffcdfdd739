package io.isthmus.control.cli;

/** A failed command-line option: printed as {@code PROG: LOCATION: DESC}, exit status 1. */
public final class OptionError extends Exception {
    private final String location;

    public OptionError(String location, String desc) {
        super(desc, null, false, false);
        this.location = location;
    }

    public String location() {
        return location;
    }

    public String format(String prog) {
        return location == null ? prog + ": " + getMessage() : prog + ": " + location + ": " + getMessage();
    }
}
