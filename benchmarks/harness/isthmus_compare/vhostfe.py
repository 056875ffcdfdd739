"""The userspace vhost-user-blk front end (benchmarks/vhost-user-blk-fe, a Java load generator over
the same FFM bindings as Isthmus): its command line for a workload, and parsing of its --json line.

The front end connects to the export's socket, shares memfd memory, sets up one split virtqueue per
queue and keeps iodepth requests in flight on each from its own thread; completions are taken from
the used ring, sleeping on the call eventfd when it is empty (as a guest driver does, so that the
client does not spin a core away from the daemon on a small machine). Every status byte is checked.
Its --ramp seconds are run first and not counted (the client's and the daemon's JITs warm up in the
same session); with --json it prints MEASURING on stdout the moment the measured time starts, so the
harness takes the daemon's CPU snapshot then (run() calls back), and its result's 'ios' counts the
I/Os from that moment on: the CPU per I/O covers the measured time only, as the fio rows' does."""
import json
import os
import subprocess
import threading

from . import daemon

HARNESS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # benchmarks/harness
DEFAULT = os.path.join(os.path.dirname(HARNESS_DIR), "vhost-user-blk-fe")


MEASURING = '{"event":"measuring"}'


class FrontEndError(Exception):
    pass


def run(argv, timeout, on_measuring):
    """Runs the front end under the harness's process rules; calls on_measuring() (from a reader
    thread) when it prints MEASURING. Returns (returncode or None on timeout, stdout, stderr) as
    str, and whether the marker was seen."""
    p = daemon.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err, seen = [], [], []

    def read_out():
        for raw in p.stdout:
            line = raw.decode("utf-8", "replace")
            if not seen and line.strip() == MEASURING:
                seen.append(True)
                on_measuring()
            out.append(line)

    readers = [threading.Thread(target=read_out, daemon=True),
               threading.Thread(target=lambda: err.append(p.stderr.read().decode("utf-8", "replace")),
                                daemon=True)]
    for t in readers:
        t.start()
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        daemon.kill_tree(p)
        p.wait()
        rc = None
    finally:
        if p.poll() is None:
            daemon.kill_tree(p)
            p.wait()
        for t in readers:
            t.join(5)
        daemon.forget(p)
    return rc, "".join(out), "".join(err), bool(seen)


def command(frontend, socket_path, rw, bs, iodepth, queues, runtime, ramp=0.0):
    return [frontend, "--socket", socket_path, "--queues", str(queues), "--depth", str(iodepth), "--bs", bs,
            "--rw", rw, "--runtime", f"{runtime:g}", "--ramp", f"{ramp:g}", "--json"]


def parse(stdout):
    """The front end's JSON result (the last line of stdout that is a JSON object). Raises
    FrontEndError if there is none, or if it reports errors, mismatches or no I/O."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                r = json.loads(line)
            except ValueError as e:
                raise FrontEndError(f"unreadable front-end result: {e}") from None
            break
    else:
        raise FrontEndError("the front end printed no result")
    if r.get("failures"):
        raise FrontEndError("front end: " + "; ".join(r["failures"]))
    if r.get("errors") or r.get("mismatches"):
        raise FrontEndError(f"front end: {r.get('errors')} I/O errors, {r.get('mismatches')} mismatches")
    if not r.get("ios_total") or not r.get("ios"):
        raise FrontEndError("front end: no I/O completed in the measured time")
    return r
