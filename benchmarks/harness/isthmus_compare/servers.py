"""The servers under test and how each is started, made ready, and stopped.

qsd and isthmus get the same qemu-storage-daemon command line (--object iothread, --blockdev,
--nbd-server, --export, --chardev/--monitor for QMP); readiness is the QMP greeting. The one
deliberate difference: on IoThread setups Isthmus gets every IoThread in the export's
'iothread' list (the alternate's list form, JSON --export); QSD 7.2 accepts a single one, but
by default it gets none, because 7.2 aborts on the first NBD client disconnect when the export
runs in an IoThread (blockdev-nbd.c nbd_blockdev_client_closed: Assertion
`qemu_in_main_thread() && nbd_server' failed); --qsd-iothread one gives it one anyway.
nbdkit (null or file plugin) and the do-nothing 'ceiling' server are references; their
readiness is their pidfile (written once the socket listens). They serve no qcow2 image, so the
qcow2 setups are skipped for them (n/a in the table), they have no throttle filter, so the
throttle setups are skipped for them as well, and they speak NBD only, so the vhost-user-blk
setups are skipped for them too.

Throttle setups: the exported node 'disk0' is a throttle filter in the throttle-group 'tg0'
(--object throttle-group,id=tg0: no limits) over the backend's node, named 'disk0-base'.

vhost-user-blk setups: no --nbd-server; the export is type=vhost-user-blk on a UNIX socket with
num-queues from the setup. With two queues (Setup.iothreads) Isthmus gets one IoThread per
queue in the export's 'iothread' list; QSD 7.2 takes a single IoThread and serves every queue
on it, so it gets one (its NBD abort on client disconnect does not concern vhost-user-blk)."""
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field

from . import daemon, fio, qmp

EXPORT = "disk0"


class StartError(Exception):
    def __init__(self, message, log_tail=()):
        super().__init__(message)
        self.log_tail = list(log_tail)


@dataclass
class StartContext:
    setup: object                  # workloads.Setup
    run_dir: str
    tag: str                       # unique per start: names the socket, log, pidfile
    image: str = ""                # dense file for backend 'file', qcow2 image for the qcow2 ones
    image_size: int = 1 << 30
    iothreads: int = 2
    port: int = 0
    scratch: list = field(default_factory=list)   # files removed when the daemon is stopped

    @property
    def nbd_socket(self):
        return os.path.join(self.run_dir, self.tag + ".nbd")

    @property
    def qmp_socket(self):
        return os.path.join(self.run_dir, self.tag + ".qmp")

    @property
    def pidfile(self):
        return os.path.join(self.run_dir, self.tag + ".pid")

    @property
    def log(self):
        return os.path.join(self.run_dir, self.tag + ".log")

    @property
    def vhost_socket(self):
        return os.path.join(self.run_dir, self.tag + ".vhost")

    @property
    def uri(self):
        return fio.nbd_uri(self.setup.transport, EXPORT, self.nbd_socket, self.port)


def free_port():
    """An ephemeral TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    name = ""
    readiness = "pidfile"          # or 'qmp'
    package = ""                   # Debian package providing the binary

    def __init__(self, binary):
        self.binary = binary

    def available(self):
        """None if it can run, else why not."""
        path = shutil.which(self.binary) if os.sep not in self.binary else self.binary
        if not path or not os.access(path, os.X_OK):
            return f"{self.binary} not found"
        return None

    def cannot_serve(self, setup):
        """None if this server can run setup, else why not (the setup is skipped for it)."""
        return None

    def argv(self, ctx):
        raise NotImplementedError

    def version(self):
        try:
            out = subprocess.run([self.binary, "--version"], capture_output=True, timeout=900, text=True)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"unknown ({e})"
        text = (out.stdout or out.stderr).strip()
        return text.splitlines()[0] if text else f"unknown (exit {out.returncode})"


class QemuStyle(Server):
    """A daemon taking qemu-storage-daemon's command line."""
    readiness = "qmp"

    def __init__(self, name, binary, iothread_list, single_iothread=True):
        super().__init__(binary)
        self.name = name
        self.iothread_list = iothread_list      # all IoThreads in the export's iothread list
        self.single_iothread = single_iothread  # else: no IoThread at all (the main loop serves)

    def argv(self, ctx):
        s = ctx.setup
        if s.vhost:
            return self.vhost_argv(ctx)
        a = [self.binary]
        n_io = 0
        if s.iothreads and (self.iothread_list or self.single_iothread):
            n_io = max(1, ctx.iothreads) if self.iothread_list else 1
            for i in range(n_io):
                a += ["--object", f"iothread,id=io{i}"]
        a = self.blockdev(a, ctx)
        if s.transport == "unix":
            a += ["--nbd-server", f"addr.type=unix,addr.path={ctx.nbd_socket}"]
        else:
            a += ["--nbd-server", f"addr.type=inet,addr.host=127.0.0.1,addr.port={ctx.port}"]
        if n_io > 1:
            export = {"type": "nbd", "id": "exp0", "node-name": EXPORT, "name": EXPORT,
                      "writable": not s.readonly, "iothread": [f"io{i}" for i in range(n_io)]}
            a += ["--export", json.dumps(export, separators=(",", ":"))]
        else:
            e = f"type=nbd,id=exp0,node-name={EXPORT},name={EXPORT},writable={'off' if s.readonly else 'on'}"
            if n_io == 1:
                e += ",iothread=io0"
            a += ["--export", e]
        a += ["--chardev", f"socket,id=qmp0,path={ctx.qmp_socket},server=on,wait=off",
              "--monitor", "chardev=qmp0"]
        return a

    def vhost_argv(self, ctx):
        """A vhost-user-blk export of the node on ctx.vhost_socket, num-queues from the setup."""
        s = ctx.setup
        a = [self.binary]
        n_io = (s.queues if self.iothread_list else 1) if s.iothreads else 0
        for i in range(n_io):
            a += ["--object", f"iothread,id=io{i}"]
        a = self.blockdev(a, ctx)
        if n_io > 1:
            export = {"type": "vhost-user-blk", "id": "exp0", "node-name": EXPORT,
                      "addr": {"type": "unix", "path": ctx.vhost_socket}, "writable": not s.readonly,
                      "num-queues": s.queues, "iothread": [f"io{i}" for i in range(n_io)]}
            a += ["--export", json.dumps(export, separators=(",", ":"))]
        else:
            e = (f"type=vhost-user-blk,id=exp0,node-name={EXPORT},addr.type=unix,"
                 f"addr.path={ctx.vhost_socket.replace(',', ',,')},writable={'off' if s.readonly else 'on'},"
                 f"num-queues={s.queues}")
            if n_io == 1:
                e += ",iothread=io0"
            a += ["--export", e]
        a += ["--chardev", f"socket,id=qmp0,path={ctx.qmp_socket},server=on,wait=off",
              "--monitor", "chardev=qmp0"]
        return a

    @staticmethod
    def blockdev(a, ctx):
        s = ctx.setup
        node = f"{EXPORT}-base" if s.throttle else EXPORT
        if s.backend == "null":
            a += ["--blockdev", f"driver=null-co,node-name={node},size={ctx.image_size}"]
        elif s.backend == "file":
            a += ["--blockdev", f"driver=file,node-name={node},filename={ctx.image.replace(',', ',,')}"]
        elif s.backend in ("qcow2", "qcow2alloc"):
            a += ["--blockdev", f"driver=qcow2,node-name={node},file.driver=file,"
                                f"file.filename={ctx.image.replace(',', ',,')}"]
        else:
            raise ValueError(f"backend {s.backend!r}")
        if s.throttle:
            a += ["--object", "throttle-group,id=tg0",
                  "--blockdev", f"driver=throttle,node-name={EXPORT},throttle-group=tg0,file={node}"]
        return a


def _raw_only(server, setup):
    if setup.vhost:
        return f"{server.name} speaks NBD only (no vhost-user-blk)"
    if setup.throttle:
        return f"{server.name} has no throttle filter"
    if setup.backend in ("null", "file"):
        return None
    return f"{server.name} serves null and raw file setups only, not {setup.backend}"


class Nbdkit(Server):
    name = "nbdkit"
    package = "nbdkit"

    def cannot_serve(self, setup):
        return _raw_only(self, setup)

    def argv(self, ctx):
        s = ctx.setup
        a = [self.binary, "--foreground", "--exit-with-parent", "--pidfile", ctx.pidfile]
        if s.transport == "unix":
            a += ["--unix", ctx.nbd_socket]
        else:
            a += ["--ipaddr", "127.0.0.1", "--port", str(ctx.port)]
        if s.readonly:
            a += ["--readonly"]
        if s.backend == "null":
            a += ["null", f"size={ctx.image_size}"]
        else:
            a += ["file", f"file={ctx.image}"]
        return a


class Ceiling(Server):
    """The do-nothing server (ceiling.c), compiled by the harness."""
    name = "ceiling"
    package = "gcc"

    def available(self):
        if not self.binary or not os.access(self.binary, os.X_OK):
            return "ceiling server not built (needs gcc)"
        return None

    def version(self):
        return "ceiling.c (built with gcc by the harness)"

    def cannot_serve(self, setup):
        return _raw_only(self, setup)

    def argv(self, ctx):
        s = ctx.setup
        a = [self.binary, "-s", str(ctx.image_size), "-P", ctx.pidfile]
        if s.transport == "unix":
            a += ["-U", ctx.nbd_socket]
        else:
            a += ["-p", str(ctx.port)]
        return a


def build_ceiling(out_dir, cc="gcc"):
    """Compiles ceiling.c into out_dir; returns the binary path, or raises StartError."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ceiling.c")
    out = os.path.join(out_dir, "ceiling")
    r = subprocess.run([cc, "-O2", "-pthread", "-o", out, src], capture_output=True, text=True)
    if r.returncode != 0:
        raise StartError("gcc failed to build the ceiling server", r.stderr.splitlines()[-15:])
    return out


@dataclass
class Running:
    server: Server
    ctx: StartContext
    popen: subprocess.Popen
    ready_s: float                 # process start to readiness (QMP greeting or pidfile)
    qmp: object = None
    argv: list = field(default_factory=list)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log_tail(self, lines=15):
        return daemon.tail(self.ctx.log, lines)

    def exit_description(self):
        rc = self.popen.poll()
        if rc is None:
            return "still running"
        return f"exited with status {rc}" if rc >= 0 else f"killed by signal {-rc}"

    def stop(self):
        """Asks politely (QMP quit), then SIGTERM, then SIGKILL; reaps it; removes its files."""
        if self.qmp is not None:
            if self.alive():
                try:
                    self.qmp.command("quit", timeout=2.0)
                    daemon.reap(self.popen, 3.0)
                except (qmp.QmpError, OSError):
                    pass
            self.qmp.close()
            self.qmp = None
        daemon.terminate(self.popen)
        for path in [self.ctx.nbd_socket, self.ctx.vhost_socket, self.ctx.qmp_socket, self.ctx.pidfile] \
                + self.ctx.scratch:
            try:
                os.unlink(path)
            except OSError:
                pass


def negotiate(client, ctx, deadline, alive, attempts=3):
    """qmp_capabilities, on a fresh connection if need be. QSD 7.2 now and then loses a byte of
    what a client sends right after the greeting (seen: 'excute', a mangled qmp_capabilities,
    or no reply at all, about one start in 50), so a failed negotiation is retried on a new
    connection. Returns the negotiated client, or None (the daemon is then stopped by signal)."""
    for attempt in range(attempts):
        try:
            client.command("qmp_capabilities", timeout=2.0)
            return client
        except (qmp.QmpError, OSError) as e:
            client.close()
            daemon.note(f"{ctx.tag}: qmp_capabilities failed ({e}); reconnecting")
            if attempt + 1 == attempts or not alive():
                return None
            client, _ = qmp.Qmp.connect(ctx.qmp_socket, deadline, alive)
    return None


def start(server, ctx, timeout=30.0):
    """Starts server and waits until it is ready. Raises StartError with its last log lines.
    A TCP port already taken (a race with another program) is retried with a new port."""
    for attempt in range(3):
        if ctx.setup.transport == "tcp":
            ctx.port = free_port()
        try:
            return _start_once(server, ctx, timeout)
        except StartError as e:
            if ctx.setup.transport == "tcp" and any("in use" in line for line in e.log_tail) and attempt < 2:
                continue
            raise


def _start_once(server, ctx, timeout):
    argv = server.argv(ctx)
    with open(ctx.log, "ab") as f:
        f.write(("$ " + " ".join(argv) + "\n").encode())
    t0 = time.monotonic()
    try:
        p = daemon.spawn(argv, log_path=ctx.log)
    except OSError as e:
        raise StartError(f"{server.name} could not be started: {e}") from None
    deadline = t0 + timeout
    alive = lambda: p.poll() is None
    running = Running(server, ctx, p, 0.0, argv=argv)
    try:
        if server.readiness == "qmp":
            client, t_ready = qmp.Qmp.connect(ctx.qmp_socket, deadline, alive)
            running.ready_s = t_ready - t0
            running.qmp = negotiate(client, ctx, deadline, alive)
        else:
            while True:
                try:
                    with open(ctx.pidfile) as f:
                        if f.read().strip():
                            break
                except FileNotFoundError:
                    pass
                if not alive():
                    raise StartError("exited before it was ready")
                if time.monotonic() > deadline:
                    raise StartError(f"not ready after {timeout:g} s")
                time.sleep(0.001)
            running.ready_s = time.monotonic() - t0
    except (qmp.QmpError, StartError, OSError) as e:
        daemon.reap(p, 0.2)
        state = running.exit_description()
        running.stop()
        raise StartError(f"{server.name} failed to start ({e}; {state})", daemon.tail(ctx.log)) from None
    return running
