"""benchmarks/compare's command line: picks servers and workloads, runs them, prints the table
and writes the JSON result."""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time

from . import daemon, deps, runner, servers as srv, table, vhostfe, workloads as wl

HARNESS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # benchmarks/harness
REPO_ROOT = os.path.dirname(os.path.dirname(HARNESS_DIR))
KNOWN_SERVERS = ("qsd", "isthmus", "nbdkit", "ceiling")
# bin/isthmus's own messages when it cannot produce a daemon at all (no point retrying per round)
ISTHMUS_FATAL = ("build failed", "jars missing", "no JDK", "missing packages")


_T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="benchmarks/compare",
        description="Runs qemu-storage-daemon, Isthmus and reference NBD servers side by side on the same "
                    "workloads (alternating rounds) and prints medians, ratios to QSD, server CPU per I/O "
                    "and peak resident memory.")
    p.add_argument("--servers", default="qsd,isthmus",
                   help="comma-separated, in run order, from: " + ",".join(KNOWN_SERVERS) + " (default qsd,isthmus)")
    p.add_argument("--workloads", default="*",
                   help="comma-separated workload names or globs (default: all; see --list)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--quick", action="store_true",
                   help="1 round, 0.8 s runs, one 1 s warm-up per daemon start (a JIT needs about a second of traffic to compile the data path): the whole default set in under "
                        "two minutes")
    p.add_argument("--rounds", type=int, help="rounds per workload and server (default 3; quick 1)")
    p.add_argument("--runtime", type=float, help="seconds per measured fio run (default 5; quick 1)")
    p.add_argument("--warmup", type=float,
                   help="seconds of unmeasured fio before each workload (default 1), or in --quick mode once "
                        "per daemon start (mixed 4k random read/write, default 1)")
    p.add_argument("--iothreads", type=int, default=None,
                   help="IoThreads for the multi-connection workloads (Isthmus gets them all in a list; "
                        "QSD 7.2 takes one); default: number of CPUs, at most 4")
    p.add_argument("--qsd-iothread", choices=("none", "one"), default="none",
                   help="QSD's export on the IoThread setups: 'none' (default; the main loop serves, because "
                        "QSD 7.2 aborts on an NBD client disconnect when its export runs in an IoThread) or "
                        "'one' (--object iothread + iothread=io0)")
    p.add_argument("--image-size", default="1G", help="size of the null-co device and the dense file (default 1G)")
    p.add_argument("--isthmus", default=os.path.join(REPO_ROOT, "bin", "isthmus"), help="the Isthmus launcher")
    p.add_argument("--qsd", default="qemu-storage-daemon", help="the qemu-storage-daemon binary")
    p.add_argument("--nbdkit", default="nbdkit", help="the nbdkit binary")
    p.add_argument("--frontend", default=vhostfe.DEFAULT,
                   help="the userspace vhost-user-blk front end for the vhost-user-blk workloads "
                        "(default benchmarks/vhost-user-blk-fe, which builds the benchmarks jar when stale)")
    p.add_argument("--json", help="where to write the JSON result (default benchmarks/results/compare-DATE.json)")
    p.add_argument("--tmpdir", default=None, help="parent of the run's temporary directory (default: system temp)")
    p.add_argument("--keep-tmp", action="store_true", help="keep the run's temporary directory (logs)")
    p.add_argument("--start-timeout", type=float, default=30.0, help="seconds a daemon may take to be ready")
    a = p.parse_args(argv)
    a.rounds = a.rounds or (1 if a.quick else 3)
    a.runtime = a.runtime if a.runtime is not None else (0.8 if a.quick else 5.0)
    a.warmup = a.warmup if a.warmup is not None else 1.0
    a.idle_settle = 0.3 if a.quick else 1.0
    if a.iothreads is None:
        a.iothreads = max(1, min(4, os.cpu_count() or 1))
    a.image_size_bytes = parse_size(a.image_size)
    return a


def parse_size(text):
    """'1G', '256M', '512MiB', '4096' -> bytes; a positive multiple of 4 KiB."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:i?[bB])?\s*", text)
    if not m:
        raise SystemExit(f"compare: --image-size: cannot read {text!r} (use e.g. 1G or 256M)")
    size = int(float(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()])
    if size <= 0 or size % 4096:
        raise SystemExit(f"compare: --image-size must be a positive multiple of 4 KiB, not {text!r}")
    return size


def machine_info():
    info = {"nproc": os.cpu_count(), "kernel": platform.release(), "machine": platform.machine(),
            "hostname": platform.node(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["mem_total_kib"] = int(f.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return info


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def tool_version(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        text = (r.stdout or r.stderr).strip()
        return text.splitlines()[0] if text else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def git_revision():
    try:
        r = subprocess.run(["git", "-C", REPO_ROOT, "describe", "--always", "--dirty"],
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def make_servers(a, names, run_dir):
    out = []
    for n in names:
        if n == "qsd":
            out.append(srv.QemuStyle("qsd", a.qsd, iothread_list=False,
                                      single_iothread=a.qsd_iothread == "one"))
        elif n == "isthmus":
            out.append(srv.QemuStyle("isthmus", a.isthmus, iothread_list=True))
        elif n == "nbdkit":
            s = srv.Nbdkit(a.nbdkit)
            out.append(s)
        elif n == "ceiling":
            out.append(srv.Ceiling(None))
    return out


def preflight(servers, run, run_dir):
    """Builds the ceiling server, asks every daemon its version (bin/isthmus builds its jars here,
    so no round pays for it) and marks what cannot run at all."""
    versions = {}
    for s in servers:
        if s.name == "ceiling":
            try:
                s.binary = srv.build_ceiling(run_dir)
            except srv.StartError as e:
                run.unavailable["ceiling"] = (str(e), e.log_tail)
            versions["ceiling"] = s.version()
            continue
        problem = s.available()
        if problem:
            run.unavailable[s.name] = (problem, [])
            versions[s.name] = None
            continue
        if s.name == "isthmus":
            log(f"compare: isthmus: {s.binary} --version (builds the jars when stale)")
            try:
                r = subprocess.run([s.binary, "--version"], capture_output=True, text=True, timeout=1200)
                text = (r.stdout + r.stderr).strip()
                lines = text.splitlines()
                versions["isthmus"] = (lines[0] if lines and r.returncode == 0 else
                                       f"unknown (--version exited {r.returncode})")
                if r.returncode != 0 and any(m in text for m in ISTHMUS_FATAL):
                    run.unavailable["isthmus"] = (f"{s.binary} cannot run (exit {r.returncode})", lines[-15:])
            except (OSError, subprocess.TimeoutExpired) as e:
                run.unavailable["isthmus"] = (f"{s.binary} --version failed: {e}", [])
                versions["isthmus"] = None
            continue
        versions[s.name] = s.version()
    return versions


def build_frontend(a, chosen, settings):
    """Builds the vhost-user-blk front end once (its launcher builds the benchmarks jar when stale)
    if a vhost-user-blk workload is selected; a failure is recorded against those workloads."""
    if not any(w.kind == "vhost" for w in chosen):
        return None
    log(f"compare: {a.frontend} --build (the vhost-user-blk front end; builds the benchmarks jar when stale)")
    try:
        r = subprocess.run([a.frontend, "--build"], capture_output=True, text=True, timeout=1200)
    except (OSError, subprocess.TimeoutExpired) as e:
        settings.frontend_error = (f"the vhost-user-blk front end cannot run: {e}", [])
        return None
    if r.returncode != 0:
        settings.frontend_error = (f"the vhost-user-blk front end could not be built (exit {r.returncode})",
                                   (r.stdout + r.stderr).strip().splitlines()[-15:])
        return None
    return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else a.frontend


def needed_tools(server_names, workloads):
    tools = []
    if any(w.kind == "fio" for w in workloads):
        tools.append("fio")
    if any(w.kind == "nbdcopy" for w in workloads):
        tools.append("nbdcopy")
    if any(w.setup.backend in wl.QCOW2_BACKENDS for w in workloads):
        tools.append("qemu-img")
    if "qsd" in server_names:
        tools.append("qemu-storage-daemon")
    if "nbdkit" in server_names:
        tools.append("nbdkit")
    if "ceiling" in server_names:
        tools.append("gcc")
    return tools


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    catalogue = wl.all_workloads()
    if a.list:
        for w in catalogue:
            state = "" if w.available else "   (not yet available)"
            print(f"{w.name:44} {w.kind:8} setup={w.setup.key}{state}")
        return 0
    names = [n.strip() for n in a.servers.split(",") if n.strip()]
    bad = [n for n in names if n not in KNOWN_SERVERS]
    if bad or not names or len(set(names)) != len(names):
        log(f"compare: --servers takes distinct names from {', '.join(KNOWN_SERVERS)}; got {a.servers!r}")
        return 2
    try:
        chosen = wl.select([p.strip() for p in a.workloads.split(",") if p.strip()], catalogue)
    except ValueError as e:
        log(f"compare: {e}")
        return 2
    try:
        deps.ensure(needed_tools(names, [w for w in chosen if w.available]), log=log)
    except deps.DepsError as e:
        log(f"compare: {e}")
        return 3

    started = datetime.datetime.now()
    json_path = a.json or os.path.join(REPO_ROOT, "benchmarks", "results",
                                       f"compare-{started.strftime('%Y%m%d-%H%M%S')}.json")
    run_dir = tempfile.mkdtemp(prefix="isthmus-compare-", dir=a.tmpdir)
    log(f"compare: work directory {run_dir}")
    settings = runner.Settings(rounds=a.rounds, runtime=a.runtime, warmup=a.warmup, idle_settle=a.idle_settle,
                               warmup_each=not a.quick,
                               iothreads=a.iothreads, image_size=a.image_size_bytes,
                               start_timeout=a.start_timeout, frontend=a.frontend)
    runner.install_signal_handlers()
    daemon.become_subreaper()
    t0 = time.monotonic()
    load_before = loadavg()
    interrupted = None
    server_objs = make_servers(a, names, run_dir)
    run = runner.Runner(settings, server_objs, chosen, run_dir, log=log)
    versions = {}
    try:
        try:
            versions = preflight(server_objs, run, run_dir)
            versions["vhost_user_blk_frontend"] = build_frontend(a, chosen, settings)
            if settings.frontend_error:
                log(f"compare: {settings.frontend_error[0]}")
            for name, (msg, _) in run.unavailable.items():
                log(f"compare: {name} cannot run: {msg}")
            run.run()
        except runner.Interrupted as e:
            interrupted = e.signum
            log(f"compare: interrupted by signal {e.signum}; stopping every daemon and printing partial results")
    finally:
        runner.cleanup(run_dir, keep=a.keep_tmp)
    wall = time.monotonic() - t0
    load_after = loadavg()

    summary = runner.summarize(chosen, names, run.records, skipped=run.skipped)
    print()
    print(f"benchmarks/compare {started.strftime('%Y-%m-%d %H:%M')}  rounds={a.rounds} runtime={a.runtime:g}s "
          f"warmup={a.warmup:g}s{'/start' if a.quick else '/workload'} iothreads={a.iothreads} image={a.image_size}  "
          f"{os.cpu_count()} CPUs, kernel {platform.release()}  wall {wall:.0f} s"
          + ("  (INTERRUPTED: partial)" if interrupted else ""))
    print(f"load average (1 min) before {load_before}, after {load_after}"
          + ("  -- BUSY MACHINE before the run (other work competes with it): ratios are noisy"
             if (load_before or 0) > max(1.0, 0.5 * (os.cpu_count() or 1)) else ""))
    print(table.render(summary))
    print()
    print("median over successful rounds; /qsd = ratio to qemu-storage-daemon (for 'lower better' rows "
          "and CPU, below 1 is better); server CPU = utime+stime of the daemon's process tree per I/O "
          "(per MiB for nbdcopy); * = some rounds failed; n/a = the server cannot serve that setup (qcow2, "
          "throttle: nbdkit, ceiling); startup-greeting of nbdkit/ceiling is time to pidfile (no QMP)."
          + (" qcow2alloc: a new empty qcow2 image per daemon start; the measured run is one seeded random "
             "4k write per cluster of the image's last 15/16 (about 63% of them allocate)."
             if any(w.setup.fresh_image for w in chosen) else "")
          + (" vhost-user-blk: the userspace front end (benchmarks/vhost-user-blk-fe), QD32 per queue, one "
             "thread per queue, completions by call eventfd; its ramp (the warm-up) "
             "precedes the measured time in the same session; the -2q rows: Isthmus with an IoThread per queue, QSD with its one IoThread."
             if any(w.kind == "vhost" for w in chosen) else ""))
    reasons = {}
    for wname, by_server in run.skipped.items():
        for server, why in by_server.items():
            reasons.setdefault((server, why), []).append(wname)
    for (server, why), wnames in reasons.items():
        if why.startswith("not available"):
            print(f"{server}: {why}: {', '.join(wnames)}")
    if run.failures:
        print()
        print(table.render_failures(run.failures))

    result = {
        "tool": "benchmarks/compare", "started": started.isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 1), "interrupted": interrupted,
        "command_line": " ".join(shlex.quote(x) for x in [os.path.join("benchmarks", "compare")] + (sys.argv[1:] if argv is None else list(argv))),
        "settings": {"rounds": a.rounds, "runtime_s": a.runtime, "warmup_s": a.warmup, "warmup_each_workload": not a.quick,
                     "quick": a.quick,
                     "iothreads": a.iothreads, "qsd_iothread": a.qsd_iothread, "image_size": a.image_size_bytes, "servers": names},
        "machine": dict(machine_info(), loadavg_before=load_before, loadavg_after=load_after),
        "versions": dict(versions, fio=tool_version(["fio", "--version"]),
                         nbdcopy=tool_version(["nbdcopy", "--version"]), isthmus_git=git_revision()),
        "daemon_command_lines": run.command_lines,
        "unavailable": {k: {"message": m, "log_tail": t} for k, (m, t) in run.unavailable.items()},
        "summary": summary, "records": run.records, "failures": run.failures, "notes": list(daemon.notes),
    }
    try:
        os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
        with open(json_path, "w") as f:
            json.dump(result, f, indent=1)
        print(f"\nJSON result: {json_path}")
    except OSError as e:
        log(f"compare: could not write {json_path}: {e}")
    if interrupted:
        return 128 + interrupted
    return 0
