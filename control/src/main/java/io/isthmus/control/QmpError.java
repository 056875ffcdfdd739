package io.isthmus.control;

/**
 * An error reply of a QMP command: the error class and QEMU's description text, verbatim.
 *
 * <p>Thrown by the validator and by command handlers; the monitor turns it into
 * {@code {"error": {"class": ..., "desc": ...}}}. On the command line it becomes
 * {@code isthmus: --option arg: desc}.
 */
public final class QmpError extends RuntimeException {
    public static final String GENERIC = "GenericError";
    public static final String COMMAND_NOT_FOUND = "CommandNotFound";
    public static final String DEVICE_NOT_FOUND = "DeviceNotFound";

    private final String errorClass;
    private final String hint;

    public QmpError(String errorClass, String desc) {
        this(errorClass, desc, null);
    }

    /**
     * With QEMU's error hint (error_append_hint): extra lines printed after the message on the command
     * line, never sent over QMP.
     */
    public QmpError(String errorClass, String desc, String hint) {
        super(desc, null, false, false);
        this.errorClass = errorClass;
        this.hint = hint;
    }

    public static QmpError generic(String desc) {
        return new QmpError(GENERIC, desc);
    }

    public String errorClass() {
        return errorClass;
    }

    /** The hint text (ending in a newline), or null. */
    public String hint() {
        return hint;
    }

    public String desc() {
        return getMessage();
    }
}
