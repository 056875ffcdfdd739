package io.isthmus.control.commands.qom;

/** Id and type bookkeeping for object implementations. */
public abstract class AbstractQomObject implements QomObject {
    private final String id;
    private final String type;

    protected AbstractQomObject(String id, String type) {
        this.id = id;
        this.type = type;
    }

    @Override
    public final String id() {
        return id;
    }

    @Override
    public final String type() {
        return type;
    }
}
