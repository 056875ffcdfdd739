package io.isthmus.control.qmp;

import io.isthmus.control.QmpError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** The daemon's chardevs by id ({@code --chardev}). Control thread only. */
public final class Chardevs {
    private final Map<String, Chardev> chardevs = new LinkedHashMap<>();

    /**
     * Creates a chardev from parsed QemuOpts ({@code backend} holds the implied first value).
     * @param info receives informational messages (QEMU's "waiting for connection")
     */
    public Chardev create(Map<String, String> opts, Consumer<String> info) throws QmpError {
        String backend = opts.get("backend");
        String id = opts.get("id");
        if (id == null) {
            throw QmpError.generic("chardev: no id specified");
        }
        if (backend == null) {
            throw QmpError.generic("chardev: \"" + id + "\" missing backend");
        }
        Chardev c;
        switch (backend) {
            case "socket" -> {
                if (chardevs.containsKey(id)) {
                    throw QmpError.generic("duplicate yank instance");
                }
                c = SocketChardev.open(id, opts, info);
            }
            case "stdio" -> {
                if (chardevs.containsKey(id)) {
                    throw QmpError.generic("attempt to add duplicate property '" + id + "' to object (type 'container')");
                }
                c = new StdioChardev(id);
            }
            default -> throw QmpError.generic("'" + backend + "' is not a valid char driver name");
        }
        chardevs.put(id, c);
        return c;
    }

    public Chardev get(String id) {
        return chardevs.get(id);
    }

    public void closeAll() {
        List<Chardev> list = new ArrayList<>(chardevs.values());
        chardevs.clear();
        for (Chardev c : list) {
            c.close();
        }
    }
}
