#!/usr/bin/env python3
# Runs a command with a socket it inherits as an open file descriptor, the way libvirt or systemd
# socket activation start a daemon (Java's ProcessBuilder cannot pass descriptors).
#   with-inherited-socket.py MODE DIR -- COMMAND ARGS...
# MODE: unix-bound (bound to DIR/inherited.sock, not listening), unix-listening, unix-unbound,
#       tcp-listening (127.0.0.1, kernel-chosen port, written to DIR/port), connect (connected to the
#       UNIX socket DIR/peer.sock, on which the caller listens).
# Every "{fd}" in the command is replaced by the descriptor's number; then this process becomes the
# command (exec), so the caller's Process is the daemon itself.
import os, socket, sys

mode, d = sys.argv[1], sys.argv[2]
cmd = sys.argv[sys.argv.index("--") + 1:]
if mode.startswith("unix"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if mode != "unix-unbound":
        s.bind(os.path.join(d, "inherited.sock"))
    if mode == "unix-listening":
        s.listen(1)
elif mode == "tcp-listening":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    tmp = os.path.join(d, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(tmp, os.path.join(d, "port"))
elif mode == "connect":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(d, "peer.sock"))
else:
    sys.exit("unknown mode " + mode)
fd = s.detach()
os.set_inheritable(fd, True)
cmd = [a.replace("{fd}", str(fd)) for a in cmd]
os.execvp(cmd[0], cmd)
