package io.isthmus.control;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which qemu-storage-daemon Isthmus matches, and Isthmus's own version.
 *
 * <p>Isthmus implements QSD 7.2's QMP surface and wire behaviour (conventions.md records 7.2.22
 * byte for byte), plus a few newer optional members users rely on; those do not change what 7.2 clients
 * see, so the version reported is 7.2.22.
 */
public final class Version {
    public static final int QEMU_MAJOR = 7;
    public static final int QEMU_MINOR = 2;
    public static final int QEMU_MICRO = 22;
    public static final String QEMU = QEMU_MAJOR + "." + QEMU_MINOR + "." + QEMU_MICRO;
    public static final String ISTHMUS = "0.1.0";
    /** The {@code package} string of query-version and the greeting. */
    public static final String PACKAGE = "Isthmus " + ISTHMUS;

    private Version() {
    }

    /** The VersionInfo object: {@code {"qemu": {"major", "minor", "micro"}, "package"}}. */
    public static Map<String, Object> versionInfo() {
        Map<String, Object> qemu = new LinkedHashMap<>();
        qemu.put("major", (long) QEMU_MAJOR);
        qemu.put("minor", (long) QEMU_MINOR);
        qemu.put("micro", (long) QEMU_MICRO);
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("qemu", qemu);
        info.put("package", PACKAGE);
        return info;
    }
}
