"""What is measured. Every workload has a unique name (selectable with --workloads, globs allowed)
and belongs to a daemon configuration (Setup): workloads of one setup run against one daemon
start, so a round starts each server once per setup rather than once per workload."""
import fnmatch
from dataclasses import dataclass, field


BACKENDS = {
    "null": "null-co",
    "file": "the dense file (written fully once per run)",
    "qcow2": "a fully allocated qcow2 image (64 KiB clusters) converted from the dense file once per run",
    "qcow2alloc": "an empty qcow2 image of the same size (64 KiB clusters), new for every daemon start",
}
VHOST = "vhost-user-blk"           # the transport of the vhost-user-blk setups
QCOW2_BACKENDS = ("qcow2", "qcow2alloc")
QCOW2_CLUSTER = 64 << 10


@dataclass(frozen=True)
class Setup:
    """How the daemon is started: transport of the NBD server (or a vhost-user-blk export instead),
    backend of the export, whether the export runs on IoThreads (the multi-connection and
    multi-queue workloads), read-only or writable, the vhost-user-blk export's num-queues, and
    whether the exported node is a throttle filter (in a throttle-group with no limits) over the
    backend's node: what the filter costs when nothing is limited (Proxmox tops every drive so)."""
    transport: str = "unix"        # unix | tcp | vhost-user-blk
    backend: str = "null"          # see BACKENDS
    iothreads: bool = False
    readonly: bool = False
    queues: int = 1                # vhost-user-blk only
    throttle: bool = False         # export a throttle filter over the backend's node

    @property
    def vhost(self):
        return self.transport == VHOST

    @property
    def fresh_image(self):
        """Every daemon start gets a new empty image (the allocating-write workloads)."""
        return self.backend == "qcow2alloc"

    @property
    def key(self):
        return "-".join([self.transport, self.backend] + (["iothreads"] if self.iothreads else [])
                        + (["ro"] if self.readonly else []) + ([f"{self.queues}q"] if self.vhost else [])
                        + (["throttle"] if self.throttle else []))


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str                      # fio | nbdcopy | vhost | startup | pending
    setup: Setup = field(default_factory=Setup)
    rw: str = ""
    bs: str = ""
    iodepth: int = 1
    jobs: int = 1                  # fio jobs (NBD connections); vhost: queues
    unit: str = ""                 # what the median column holds
    higher_is_better: bool = True
    ops_unit: str = "I/O"          # CPU time is reported per one of these
    pending_reason: str = ""       # for kind 'pending': why it cannot run yet

    @property
    def available(self):
        return self.kind != "pending"


FIO_PATTERNS = [
    # suffix, rw, bs, iodepth, unit
    ("randread-4k-qd1", "randread", "4k", 1, "IOPS"),
    ("randread-4k-qd32", "randread", "4k", 32, "IOPS"),
    ("randwrite-4k-qd1", "randwrite", "4k", 1, "IOPS"),
    ("randwrite-4k-qd32", "randwrite", "4k", 32, "IOPS"),
    ("seqread-1m-qd4", "read", "1m", 4, "MiB/s"),
    ("seqwrite-1m-qd4", "write", "1m", 4, "MiB/s"),
]
MULTI_CONN_PATTERNS = [
    ("randread-4k-qd32-4conn", "randread", "4k", 32, "IOPS"),
    ("randwrite-4k-qd32-4conn", "randwrite", "4k", 32, "IOPS"),
]
QCOW2_PATTERNS = [
    ("randread-4k-qd1", "randread", "4k", 1, "IOPS"),
    ("randread-4k-qd32", "randread", "4k", 32, "IOPS"),
    ("randwrite-4k-qd32", "randwrite", "4k", 32, "IOPS"),
    ("seqread-1m-qd4", "read", "1m", 4, "MiB/s"),
]
# On a fresh empty image: the warm-up writes only the first 1/QCOW2_ALLOC_WARM_PART of it; the
# measured run is a fixed number of random 4 KiB writes (one per cluster of the rest, the same
# seeded offsets for every server) so that most of them allocate a cluster (about 1 - 1/e).
QCOW2_ALLOC_PATTERNS = [
    ("randwrite-4k-qd32", "randwrite", "4k", 32, "IOPS"),
]
QCOW2_ALLOC_WARM_PART = 16
CONNECTIONS = 4
# vhost-user-blk through the userspace front end (benchmarks/vhost-user-blk-fe), QD32 on every queue; the
# 2-queue rows run the export on IoThreads (Isthmus: a list of 2, one per queue; QSD 7.2: its one IoThread)
VHOST_PATTERNS = [
    ("randread-4k-qd32", "randread", "4k", 32, "IOPS"),
    ("randwrite-4k-qd32", "randwrite", "4k", 32, "IOPS"),
]
VHOST_QUEUES = (1, 2)
# The same rows as the plain null ones, with a throttle filter without limits over the null-co node
# (issue 13: the filter must cost less than 5% of the IOPS at 4 KiB QD32); QSD and Isthmus only.
THROTTLE_PATTERNS = [
    ("randread-4k-qd32", "randread", "4k", 32, "IOPS"),
    ("randwrite-4k-qd32", "randwrite", "4k", 32, "IOPS"),
]


def all_workloads():
    out = []
    for transport in ("unix", "tcp"):
        for backend in ("null", "file"):
            setup = Setup(transport, backend)
            for suffix, rw, bs, qd, unit in FIO_PATTERNS:
                out.append(Workload(f"nbd-{transport}-{backend}-{suffix}", "fio", setup, rw, bs, qd, 1, unit))
    for backend in ("null", "file"):
        setup = Setup("unix", backend, iothreads=True)
        for suffix, rw, bs, qd, unit in MULTI_CONN_PATTERNS:
            out.append(Workload(f"nbd-unix-{backend}-{suffix}", "fio", setup, rw, bs, qd, CONNECTIONS, unit))
    setup = Setup("unix", "null", throttle=True)
    for suffix, rw, bs, qd, unit in THROTTLE_PATTERNS:
        out.append(Workload(f"nbd-unix-null-{suffix}-throttle", "fio", setup, rw, bs, qd, 1, unit))
    for backend, patterns in (("qcow2", QCOW2_PATTERNS), ("qcow2alloc", QCOW2_ALLOC_PATTERNS)):
        setup = Setup("unix", backend)
        for suffix, rw, bs, qd, unit in patterns:
            out.append(Workload(f"nbd-unix-{backend}-{suffix}", "fio", setup, rw, bs, qd, 1, unit))
    out.append(Workload("nbdcopy-unix-file", "nbdcopy", Setup("unix", "file", readonly=True),
                        unit="MiB/s", ops_unit="MiB"))
    out.append(Workload("startup-greeting", "startup", unit="ms", higher_is_better=False, ops_unit=""))
    out.append(Workload("startup-idle-rss", "startup", unit="MiB", higher_is_better=False, ops_unit=""))
    # Hooks for the exports that land later: listed, selectable by name, reported as not available.
    out.append(Workload("fuse-file-randread-4k-qd32", "pending", Setup("fuse", "file"), unit="IOPS",
                        pending_reason="FUSE export workloads are not implemented in the harness yet "
                                       "(fio io_uring O_DIRECT on the mount; add them in workloads.py/runner.py)"))
    out.append(Workload("fuse-file-randwrite-4k-qd32", "pending", Setup("fuse", "file"), unit="IOPS",
                        pending_reason="FUSE export workloads are not implemented in the harness yet"))
    for backend in ("null", "file"):
        for queues in VHOST_QUEUES:
            setup = Setup(VHOST, backend, iothreads=queues > 1, queues=queues)
            for suffix, rw, bs, qd, unit in VHOST_PATTERNS:
                name = f"{VHOST}-{backend}-{suffix}" + (f"-{queues}q" if queues > 1 else "")
                out.append(Workload(name, "vhost", setup, rw, bs, qd, queues, unit))
    return out


# The default set: everything that can run. --quick runs the same set with shorter runs.
def default_names():
    return [w.name for w in all_workloads() if w.available]


def select(patterns, workloads=None):
    """Workloads matching any of the comma-separated names or globs, in catalogue order.
    Raises ValueError naming a pattern that matches nothing."""
    workloads = workloads if workloads is not None else all_workloads()
    chosen = set()
    for pat in patterns:
        hits = [w.name for w in workloads if fnmatch.fnmatchcase(w.name, pat)]
        if not hits:
            raise ValueError(f"no workload matches {pat!r} (see --list)")
        chosen.update(hits)
    return [w for w in workloads if w.name in chosen]
