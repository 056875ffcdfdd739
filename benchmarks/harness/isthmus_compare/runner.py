"""The rounds: for each round, for each daemon setup, each server in turn (A B A B ...) is
started, runs every selected workload of that setup, and is stopped. Every measurement is a
record; summarize() turns the records into medians and ratios; failures never stop the run."""
import os
import shutil
import signal
import subprocess
import sys
import time

from . import daemon, fio, procfs, servers as srv, stats, vhostfe
from .workloads import QCOW2_ALLOC_WARM_PART, QCOW2_CLUSTER

MiB = 1 << 20
# What a daemon without a vhost-user-blk export driver says (QEMU's text for an unknown export type): the
# setup is then reported as not available for it instead of failing every round.
NO_EXPORT_DRIVER = "No driver found for the requested export type"


class Interrupted(BaseException):
    """Raised by the signal handlers; unwinds through every finally block."""

    def __init__(self, signum):
        super().__init__(f"signal {signum}")
        self.signum = signum


def install_signal_handlers():
    def handler(signum, frame):
        # Further signals are ignored while the harness cleans up.
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


def make_dense_image(path, size, log):
    """A fully written file (no holes): a 1 MiB block of random bytes repeated, then fsync."""
    block = os.urandom(MiB)
    t0 = time.monotonic()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        left = size
        while left > 0:
            n = min(left, MiB)
            os.write(fd, block[:n])
            left -= n
        os.fsync(fd)
    finally:
        os.close(fd)
    log(f"compare: wrote dense image {path} ({size // MiB} MiB) in {time.monotonic() - t0:.1f} s")


class ImageError(Exception):
    def __init__(self, message, log_tail=()):
        super().__init__(message)
        self.log_tail = list(log_tail)


def _qemu_img(argv, timeout=600):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ImageError(f"{argv[0]} {argv[1]} failed: {e}") from None
    if r.returncode != 0:
        raise ImageError(f"{argv[0]} {argv[1]} exited with status {r.returncode}",
                         ["$ " + " ".join(argv)] + (r.stdout + r.stderr).strip().splitlines()[-10:])


def make_qcow2_image(qemu_img, dense, path, log):
    """The dense file converted to qcow2 (64 KiB clusters): every cluster allocated (the dense
    file holds no zero block), data in guest order."""
    t0 = time.monotonic()
    _qemu_img([qemu_img, "convert", "-f", "raw", "-O", "qcow2", "-o", f"cluster_size={QCOW2_CLUSTER}",
               dense, path])
    log(f"compare: converted {dense} to qcow2 {path} in {time.monotonic() - t0:.1f} s")


def make_empty_qcow2(qemu_img, path, size):
    """A new qcow2 image (64 KiB clusters) with no cluster allocated."""
    _qemu_img([qemu_img, "create", "-q", "-f", "qcow2", "-o", f"cluster_size={QCOW2_CLUSTER}", path, str(size)],
              timeout=60)


def alloc_regions(image_size):
    """For the fresh-image workloads: (warm-up size, measured offset, number of measured I/Os).
    The warm-up writes [0, warm); the measured run writes one seeded random 4 KiB block per
    cluster of [warm, image_size), so about 1 - 1/e of its writes allocate a cluster."""
    clusters = image_size // QCOW2_CLUSTER
    warm_clusters = max(1, clusters // QCOW2_ALLOC_WARM_PART)
    warm = warm_clusters * QCOW2_CLUSTER
    return warm, warm, max(1, clusters - warm_clusters)


def file_size(path):
    try:
        return os.stat(path).st_size
    except OSError:
        return None


class Settings:
    """What the runner needs from the command line (cli builds it)."""

    def __init__(self, **kw):
        self.rounds = 3
        self.runtime = 5.0
        self.warmup = 1.0
        self.warmup_each = True     # warm up before every workload, else once per daemon start
        self.idle_settle = 1.0
        self.iothreads = 2
        self.image_size = 1 << 30
        self.start_timeout = 30.0
        self.fio = "fio"
        self.nbdcopy = "nbdcopy"
        self.qemu_img = "qemu-img"
        self.frontend = vhostfe.DEFAULT
        self.frontend_error = None  # (message, log tail) when the front end cannot be built
        self.__dict__.update(kw)


class Runner:
    def __init__(self, settings, server_list, workloads, run_dir, log=None):
        self.s = settings
        self.servers = server_list                 # list of servers.Server
        self.workloads = workloads                 # list of workloads.Workload
        self.run_dir = run_dir
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.records = {w.name: {sv.name: [] for sv in server_list} for w in workloads}
        self.failures = []
        self.unavailable = {}                      # server name -> (message, log tail)
        self.image = os.path.join(run_dir, "dense.img")
        self.qcow2_image = os.path.join(run_dir, "dense.qcow2")
        self.skipped = {}                          # workload -> server -> why it cannot serve it
        self.setup_errors = {}                     # Setup -> (message, log tail): image not made
        self.starts = 0
        self.no_driver = {}                        # (server, transport) -> why: the daemon lacks that export
        self.command_lines = {}                    # server -> setup key -> argv (first start)
        self.start_times = []

    # -- records -------------------------------------------------------------------------------

    def _record(self, w, server, rnd, ok, value=None, cpu_s=None, ops=None, peak_rss=None,
                message=None, log_tail=None, raw=None):
        rec = {"round": rnd, "ok": ok, "value": value, "cpu_s": cpu_s, "ops": ops,
               "cpu_per_op": stats.per_op(cpu_s, ops) if ok else None, "peak_rss": peak_rss}
        if raw is not None:
            rec["raw"] = raw
        if not ok:
            rec["error"] = message
            rec["log_tail"] = list(log_tail or [])
            self.failures.append({"server": server, "round": rnd, "workload": w.name,
                                  "message": message, "log_tail": rec["log_tail"]})
        self.records[w.name][server].append(rec)
        return rec

    # -- the run -------------------------------------------------------------------------------

    def run(self):
        runnable = [w for w in self.workloads if w.available]
        backends = {w.setup.backend for w in runnable if w.kind != "startup"}
        if backends & {"file", "qcow2"}:
            make_dense_image(self.image, self.s.image_size, self.log)
        if "qcow2" in backends:
            try:
                make_qcow2_image(self.s.qemu_img, self.image, self.qcow2_image, self.log)
            except ImageError as e:
                self.log(f"compare: {e}")
                for w in runnable:
                    if w.setup.backend == "qcow2":
                        self.setup_errors[w.setup] = (str(e), e.log_tail)
            if "file" not in backends:
                os.unlink(self.image)
        setups = []
        for w in runnable:
            if w.kind in ("fio", "nbdcopy", "vhost") and w.setup not in setups:
                setups.append(w.setup)
        startup = [w for w in runnable if w.kind == "startup"]
        for rnd in range(1, self.s.rounds + 1):
            if startup:
                for sv in self.servers:
                    self.run_startup(sv, startup, rnd)
            for setup in setups:
                group = [w for w in runnable if w.setup == setup and w.kind in ("fio", "nbdcopy", "vhost")]
                for sv in self.servers:
                    self.run_group(sv, setup, group, rnd)

    def _ctx(self, sv, setup):
        """The start's context; a fresh-image setup gets its new empty image here (ImageError)."""
        self.starts += 1
        tag = f"{sv.name}-{self.starts}"
        image = self.qcow2_image if setup.backend == "qcow2" else self.image
        ctx = srv.StartContext(setup=setup, run_dir=self.run_dir, tag=tag, image=image,
                               image_size=self.s.image_size, iothreads=self.s.iothreads)
        if setup.fresh_image:
            ctx.image = os.path.join(self.run_dir, tag + ".qcow2")
            ctx.scratch.append(ctx.image)
            try:
                make_empty_qcow2(self.s.qemu_img, ctx.image, self.s.image_size)
            except ImageError:
                if os.path.exists(ctx.image):
                    os.unlink(ctx.image)
                raise
        return ctx

    def _start(self, sv, setup):
        """Starts sv for setup; returns Running, or (message, log tail) on failure."""
        if sv.name in self.unavailable:
            return self.unavailable[sv.name]
        if setup in self.setup_errors:
            return self.setup_errors[setup]
        try:
            ctx = self._ctx(sv, setup)
        except ImageError as e:
            self.log(f"compare: {e}")
            return (str(e), e.log_tail)
        try:
            r = srv.start(sv, ctx, timeout=self.s.start_timeout)
        except srv.StartError as e:
            self.log(f"compare: {e}")
            return (str(e), e.log_tail)
        self.command_lines.setdefault(sv.name, {}).setdefault(setup.key, r.argv)
        self.log(f"compare: {sv.name} started for {setup.key} (pid {r.pid}, ready in {r.ready_s * 1000:.0f} ms)")
        return r

    def run_group(self, sv, setup, group, rnd):
        why_not = sv.cannot_serve(setup) or self.no_driver.get((sv.name, setup.transport))
        if why_not:
            for w in group:
                self.skipped.setdefault(w.name, {})[sv.name] = why_not
            if rnd == 1:
                self.log(f"compare: {sv.name} skips {setup.key}: {why_not}")
            return
        running, start_failures = None, 0
        try:
            for w in group:
                if running is not None and not running.alive():
                    running.stop()
                    running = None
                if running is None:
                    if start_failures >= 2:
                        self._record(w, sv.name, rnd, False, message=last[0], log_tail=last[1])
                        continue
                    got = self._start(sv, setup)
                    if not isinstance(got, srv.Running) and self._lacks_export(sv, setup, got, group, rnd):
                        return
                    if not isinstance(got, srv.Running):
                        start_failures += 1
                        last = got
                        self._record(w, sv.name, rnd, False, message=got[0], log_tail=got[1])
                        continue
                    running = got
                    if not self.s.warmup_each and not self.warm_up(w, running, rnd, group):
                        continue
                self.measure(w, running, rnd)
        finally:
            if running is not None:
                running.stop()

    def _lacks_export(self, sv, setup, failure, group, rnd):
        """A vhost-user-blk setup the daemon refused because it has no such export driver: the
        setup (and every later one of that export type) is not available for it, not a failure."""
        if not setup.vhost or not any(NO_EXPORT_DRIVER in line for line in [failure[0]] + list(failure[1])):
            return False
        why = f"not available: {sv.name} has no {setup.transport} export in this build ('{NO_EXPORT_DRIVER}')"
        self.no_driver[(sv.name, setup.transport)] = why
        for w in group:
            self.skipped.setdefault(w.name, {})[sv.name] = why
        self.log(f"compare: {sv.name} skips {setup.key}: {why}")
        return True

    # -- one measurement -------------------------------------------------------------------------

    def _died(self, w, running, rnd, during):
        daemon.reap(running.popen, 0.5)
        msg = f"{running.server.name} {running.exit_description()} during {during}"
        self._record(w, running.server.name, rnd, False, message=msg, log_tail=running.log_tail())

    def measure(self, w, running, rnd):
        name = running.server.name
        if w.kind == "fio":
            rec = self.measure_fio(w, running, rnd)
        elif w.kind == "vhost":
            rec = self.measure_vhost(w, running, rnd)
        else:
            rec = self.measure_nbdcopy(w, running, rnd)
        if rec is not None and rec["ok"]:
            cpu = rec["cpu_per_op"]
            cpu_text = f", {cpu * 1e6:.2f} us CPU per {w.ops_unit}" if cpu is not None else ""
            share = (rec.get("raw") or {}).get("allocating_share")
            if share is not None:
                cpu_text += f", {share * 100:.0f}% of writes allocated a cluster"
            self.log(f"compare: round {rnd} {name:8} {w.name}: {rec['value']:.1f} {w.unit}{cpu_text}")
        elif rec is not None:
            self.log(f"compare: round {rnd} {name:8} {w.name}: FAILED ({rec['error']})")

    def _client_failed(self, w, running, rnd, tool, rc, err):
        if not running.alive():
            return self._died(w, running, rnd, w.name)
        what = "timed out" if rc is None else f"exited with status {rc}"
        err_lines = err.decode("utf-8", "replace").strip().splitlines()[-8:]
        tail = [f"[{tool}] {line}" for line in err_lines] + running.log_tail(10)
        return self._record(w, running.server.name, rnd, False, message=f"{tool} {what}", log_tail=tail)

    def warm_up(self, w, running, rnd, group):
        """Once per daemon start (quick mode): mixed 4 KiB random reads and writes at QD32 over
        as many connections as the group uses, so both paths are warm. False if it failed (the
        failure is recorded against w)."""
        if self.s.warmup <= 0 or not any(x.kind == "fio" for x in group):
            return True
        jobs = max(x.jobs for x in group)
        size = alloc_regions(self.s.image_size)[0] if running.ctx.setup.fresh_image else None
        argv = fio.command(self.s.fio, running.ctx.uri, "randrw", "4k", 32, self.s.warmup, jobs, size=size)
        rc, out, err, _ = daemon.run(argv, self.s.warmup + 60)
        if rc != 0:
            self._client_failed(w, running, rnd, "fio (warm-up)", rc, err)
            return False
        return True

    def measure_fio(self, w, running, rnd):
        uri = running.ctx.uri
        timeout = self.s.runtime + self.s.warmup + 60
        fresh = running.ctx.setup.fresh_image
        if fresh:
            # warm-up in the first part of the image; then a fixed, seeded set of writes on the rest
            warm, offset, count = alloc_regions(self.s.image_size)
            measured = dict(runtime=None, offset=offset, number_ios=count)
            timeout = self.s.warmup + 600
        else:
            warm, measured = None, dict(runtime=self.s.runtime)
        if self.s.warmup > 0 and self.s.warmup_each:
            argv = fio.command(self.s.fio, uri, w.rw, w.bs, w.iodepth, self.s.warmup, w.jobs, size=warm)
            rc, out, err, _ = daemon.run(argv, timeout)
            if rc != 0:
                self._client_failed(w, running, rnd, "fio (warm-up)", rc, err)
                return self.records[w.name][running.server.name][-1]
        procfs.reset_peak_rss(running.pid)
        size0 = file_size(running.ctx.image) if fresh else None
        cpu0 = procfs.tree_cpu_seconds(running.pid)
        argv = fio.command(self.s.fio, uri, w.rw, w.bs, w.iodepth, jobs=w.jobs, **measured)
        rc, out, err, _ = daemon.run(argv, timeout)
        cpu1 = procfs.tree_cpu_seconds(running.pid)
        peak = procfs.tree_memory(running.pid, "VmHWM")
        size1 = file_size(running.ctx.image) if fresh else None
        if rc != 0:
            self._client_failed(w, running, rnd, "fio", rc, err)
            return self.records[w.name][running.server.name][-1]
        try:
            summary = fio.summarize(fio.extract_json(out.decode("utf-8", "replace")))
        except fio.FioError as e:
            tail = [f"[fio] {line}" for line in err.decode("utf-8", "replace").splitlines()[-8:]]
            return self._record(w, running.server.name, rnd, False, message=str(e), log_tail=tail)
        if cpu0 is None or cpu1 is None or not running.alive():
            self._died(w, running, rnd, w.name)
            return self.records[w.name][running.server.name][-1]
        value = summary["iops"] if w.unit == "IOPS" else summary["bw_bytes"] / MiB
        if fresh and size0 is not None and size1 is not None:
            # the image file grows by one cluster per allocation (plus a little metadata)
            summary["image_growth_bytes"] = size1 - size0
            summary["allocating_share"] = round((size1 - size0) / QCOW2_CLUSTER / summary["ios"], 3)
        return self._record(w, running.server.name, rnd, True, value=value, cpu_s=cpu1 - cpu0,
                            ops=summary["ios"], peak_rss=peak, raw=summary)

    def measure_vhost(self, w, running, rnd):
        """The userspace front end on the export's socket, one session: --ramp (the warm-up time)
        first, unmeasured; the daemon's CPU time and peak RSS are taken from the moment the front end
        says its measured time starts to its exit, and divided by the I/Os it counted from then."""
        name = running.server.name
        if self.s.frontend_error:
            return self._record(w, name, rnd, False, message=self.s.frontend_error[0],
                                log_tail=self.s.frontend_error[1])
        sock = running.ctx.vhost_socket
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            if not running.alive():
                self._died(w, running, rnd, "its start")
                return self.records[w.name][name][-1]
            if time.monotonic() > deadline:
                return self._record(w, name, rnd, False, message=f"no vhost-user-blk socket {sock} after 10 s",
                                    log_tail=running.log_tail(10))
            time.sleep(0.01)
        ramp = max(0.0, self.s.warmup)
        argv = vhostfe.command(self.s.frontend, sock, w.rw, w.bs, w.iodepth, w.setup.queues, self.s.runtime, ramp)
        cpu = []

        def measuring():
            procfs.reset_peak_rss(running.pid)
            cpu.append(procfs.tree_cpu_seconds(running.pid))

        rc, out, err, seen = vhostfe.run(argv, self.s.runtime + ramp + 120, measuring)
        cpu1 = procfs.tree_cpu_seconds(running.pid)
        peak = procfs.tree_memory(running.pid, "VmHWM")
        if rc != 0:
            self._client_failed(w, running, rnd, "vhost-user-blk-fe", rc, err.encode())
            return self.records[w.name][name][-1]
        try:
            if not seen:
                raise vhostfe.FrontEndError("the front end never said that its measured time started")
            r = vhostfe.parse(out)
        except vhostfe.FrontEndError as e:
            tail = [f"[vhost-user-blk-fe] {line}" for line in err.splitlines()[-8:]]
            return self._record(w, name, rnd, False, message=str(e), log_tail=tail)
        cpu0 = cpu[0] if cpu else None
        if cpu0 is None or cpu1 is None or not running.alive():
            self._died(w, running, rnd, w.name)
            return self.records[w.name][name][-1]
        value = r["iops"] if w.unit == "IOPS" else r["mib_s"]
        return self._record(w, name, rnd, True, value=value, cpu_s=cpu1 - cpu0, ops=r["ios"], peak_rss=peak, raw=r)

    def nbdcopy_warm_up_command(self, uri):
        """The unmeasured warm-up before a copy, as fio workloads get one: nbdcopy's own pattern (256 KiB
        sequential reads, 64 in flight on each of 2 connections) for the warm-up time, so that the copy is
        not timed while the daemon's JIT compiles its read path."""
        return fio.command(self.s.fio, uri, "read", "256k", 64, self.s.warmup, 2)

    def measure_nbdcopy(self, w, running, rnd):
        if self.s.warmup > 0 and self.s.warmup_each:
            rc, out, err, _ = daemon.run(self.nbdcopy_warm_up_command(running.ctx.uri), self.s.warmup + 60)
            if rc != 0:
                self._client_failed(w, running, rnd, "fio (warm-up)", rc, err)
                return self.records[w.name][running.server.name][-1]
        procfs.reset_peak_rss(running.pid)
        cpu0 = procfs.tree_cpu_seconds(running.pid)
        argv = [self.s.nbdcopy, running.ctx.uri, "null:"]
        rc, out, err, elapsed = daemon.run(argv, 600)
        cpu1 = procfs.tree_cpu_seconds(running.pid)
        peak = procfs.tree_memory(running.pid, "VmHWM")
        if rc != 0:
            self._client_failed(w, running, rnd, "nbdcopy", rc, err)
            return self.records[w.name][running.server.name][-1]
        if cpu0 is None or cpu1 is None or not running.alive():
            self._died(w, running, rnd, w.name)
            return self.records[w.name][running.server.name][-1]
        mib = self.s.image_size / MiB
        return self._record(w, running.server.name, rnd, True, value=mib / elapsed, cpu_s=cpu1 - cpu0,
                            ops=mib, peak_rss=peak, raw={"elapsed_s": elapsed, "bytes": self.s.image_size})

    def run_startup(self, sv, startup, rnd):
        """Start-up: process start to QMP greeting (to pidfile for the reference servers), then
        resident memory with the one export idle for a moment."""
        from .workloads import Setup
        by_name = {w.name: w for w in startup}
        got = self._start(sv, Setup("unix", "null"))
        if not isinstance(got, srv.Running):
            for w in startup:
                self._record(w, sv.name, rnd, False, message=got[0], log_tail=got[1])
            return
        running = got
        self.start_times.append({"server": sv.name, "round": rnd, "ready_s": running.ready_s,
                                 "readiness": sv.readiness})
        try:
            if "startup-greeting" in by_name:
                self._record(by_name["startup-greeting"], sv.name, rnd, True, value=running.ready_s * 1000,
                             raw={"readiness": sv.readiness})
            if "startup-idle-rss" in by_name:
                time.sleep(self.s.idle_settle)
                rss = procfs.tree_memory(running.pid, "VmRSS")
                if rss is None or not running.alive():
                    self._died(by_name["startup-idle-rss"], running, rnd, "the idle period")
                else:
                    self._record(by_name["startup-idle-rss"], sv.name, rnd, True, value=rss / MiB,
                                 raw={"rss_bytes": rss})
        finally:
            running.stop()


def summarize(workloads, server_names, records, reference="qsd", skipped=None):
    """Medians over the successful rounds and ratios to the reference server (see table.py for
    the shape). skipped: workload -> server -> why that server cannot serve it (cell 'skipped')."""
    ref = reference if reference in server_names else None
    skipped = skipped or {}
    rows = []
    for w in workloads:
        row = {"workload": w.name, "unit": w.unit, "higher_is_better": w.higher_is_better,
               "ops_unit": w.ops_unit, "pending": None if w.available else w.pending_reason, "cells": {}}
        if w.available:
            for s in server_names:
                recs = records.get(w.name, {}).get(s, [])
                ok = [r for r in recs if r["ok"]]
                row["cells"][s] = {
                    "median": stats.median(r["value"] for r in ok),
                    "cpu_per_op": stats.median(r["cpu_per_op"] for r in ok),
                    "peak_rss": stats.median(r["peak_rss"] for r in ok),
                    "ok": len(ok), "rounds": len(recs),
                }
                why = skipped.get(w.name, {}).get(s)
                if why and not recs:
                    row["cells"][s]["skipped"] = why
            if ref:
                base = row["cells"][ref]
                for s in server_names:
                    c = row["cells"][s]
                    c["ratio"] = stats.ratio(c["median"], base["median"]) if s != ref else None
                    c["cpu_ratio"] = stats.ratio(c["cpu_per_op"], base["cpu_per_op"]) if s != ref else None
        rows.append(row)
    return {"servers": list(server_names), "reference": ref, "rows": rows}


def cleanup(run_dir, keep=False):
    daemon.kill_all()
    if run_dir and not keep:
        shutil.rmtree(run_dir, ignore_errors=True)
