package io.isthmus.control.cli;

import io.isthmus.control.Version;

/** The texts of {@code --help} and {@code --version}, in qemu-storage-daemon's format. */
public final class HelpText {
    private HelpText() {
    }

    /**
     * {@code --version}. The first line is QSD's ({@code qemu-storage-daemon version X.Y.Z (PACKAGE)})
     * with Isthmus in the package slot, where distributions put their build name: tools that parse it
     * (libnbd's interop test: {@code sed -n '1s/qemu-storage-daemon version \([0-9.]*\).*\/\1/p'}) see
     * the QSD interface version Isthmus implements, and the line still says plainly what runs.
     */
    public static String version() {
        return "qemu-storage-daemon version " + Version.QEMU + " (isthmus " + Version.ISTHMUS + ")\n"
                + "Isthmus " + Version.ISTHMUS + ", a qemu-storage-daemon replacement; implements the interface of\n"
                + "qemu-storage-daemon " + Version.QEMU + " (QEMU is Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers)\n";
    }

    public static String help(String prog) {
        return "Usage: " + prog + " [options]\n"
                + "Isthmus storage daemon (drop-in replacement for qemu-storage-daemon " + Version.QEMU + ")\n"
                + "\n"
                + "  -h, --help             display this help and exit\n"
                + "  -T, --trace [[enable=]<pattern>][,events=<file>][,file=<file>]\n"
                + "                         specify tracing options (accepted and ignored)\n"
                + "  -V, --version          output version information and exit\n"
                + "\n"
                + "  --blockdev [driver=]<driver>[,node-name=<N>][,discard=ignore|unmap]\n"
                + "             [,cache.direct=on|off][,cache.no-flush=on|off]\n"
                + "             [,read-only=on|off][,auto-read-only=on|off]\n"
                + "             [,force-share=on|off][,detect-zeroes=on|off|unmap]\n"
                + "             [,driver specific parameters...]\n"
                + "                         configure a block backend\n"
                + "\n"
                + "  --chardev <options>    configure a character device backend\n"
                + "                         (see the qemu(1) man page for possible options)\n"
                + "\n"
                + "  --daemonize            daemonize the process, and have the parent exit\n"
                + "                         once startup is complete\n"
                + "\n"
                + "  --demo                 (alone) serve a temporary sparse 1 GiB image and print\n"
                + "                         how to connect to it with standard tools\n"
                + "\n"
                + "  --export [type=]nbd,id=<id>,node-name=<node-name>[,name=<export-name>]\n"
                + "           [,writable=on|off][,bitmap=<name>]\n"
                + "                         export the specified block node over NBD\n"
                + "                         (requires --nbd-server)\n"
                + "\n"
                + "  --export [type=]fuse,id=<id>,node-name=<node-name>,mountpoint=<file>\n"
                + "           [,growable=on|off][,writable=on|off][,allow-other=on|off|auto]\n"
                + "                         export the specified block node over FUSE\n"
                + "\n"
                + "  --export [type=]vhost-user-blk,id=<id>,node-name=<node-name>,\n"
                + "           addr.type=unix,addr.path=<socket-path>[,writable=on|off]\n"
                + "           [,logical-block-size=<block-size>][,num-queues=<num-queues>]\n"
                + "                         export the specified block node as a\n"
                + "                         vhost-user-blk device over UNIX domain socket\n"
                + "  --export [type=]vhost-user-blk,id=<id>,node-name=<node-name>,\n"
                + "           addr.type=fd,addr.str=<fd>[,writable=on|off]\n"
                + "           [,logical-block-size=<block-size>][,num-queues=<num-queues>]\n"
                + "                         export the specified block node as a\n"
                + "                         vhost-user-blk device over file descriptor\n"
                + "\n"
                + "  --export [type=]vduse-blk,id=<id>,node-name=<node-name>\n"
                + "           ,name=<vduse-name>[,writable=on|off]\n"
                + "           [,num-queues=<num-queues>][,queue-size=<queue-size>]\n"
                + "           [,logical-block-size=<logical-block-size>]\n"
                + "           [,serial=<serial-number>]\n"
                + "                         export the specified block node as a\n"
                + "                         vduse-blk device\n"
                + "\n"
                + "  --monitor [chardev=]name[,mode=control][,pretty[=on|off]]\n"
                + "                         configure a QMP monitor\n"
                + "\n"
                + "  --nbd-server addr.type=inet,addr.host=<host>,addr.port=<port>\n"
                + "               [,tls-creds=<id>][,tls-authz=<id>][,max-connections=<n>]\n"
                + "  --nbd-server addr.type=unix,addr.path=<path>\n"
                + "               [,tls-creds=<id>][,tls-authz=<id>][,max-connections=<n>]\n"
                + "                         start an NBD server for exporting block nodes\n"
                + "\n"
                + "  --object help          list object types that can be added\n"
                + "  --object <type>,help   list properties for the given object type\n"
                + "  --object <type>[,<property>=<value>...]\n"
                + "                         create a new object of type <type>, setting\n"
                + "                         properties in the order they are specified. Note\n"
                + "                         that the 'id' property must be set.\n"
                + "                         See the qemu(1) man page for documentation of the\n"
                + "                         objects that can be added.\n"
                + "\n"
                + "  --pidfile <path>       write process ID to a file after startup\n"
                + "\n"
                + "Isthmus implements qemu-storage-daemon's command line and QMP interface;\n"
                + "see its README for the few deliberate differences.\n";
    }
}
