"""The userspace vhost-user-blk front end (benchmarks/vhost-user-blk-fe, a Java load generator over
the same FFM bindings as Isthmus): its command line for a workload, and parsing of its --json line.

The front end connects to the export's socket, shares memfd memory, sets up one split virtqueue per
queue and keeps iodepth requests in flight on each from its own thread; completions are taken from
the used ring, sleeping on the call eventfd when it is empty (as a guest driver does, so that the
client does not spin a core away from the daemon on a small machine). Every status byte is checked.
Its --ramp seconds are run first and not counted in the IOPS (the client's and the daemon's JITs warm
up in the same session); 'ios_total' counts every I/O of the session, ramp included, which is what
the daemon's CPU time over the whole run is divided by."""
import json
import os

HARNESS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # benchmarks/harness
DEFAULT = os.path.join(os.path.dirname(HARNESS_DIR), "vhost-user-blk-fe")


class FrontEndError(Exception):
    pass


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
    if not r.get("ios_total"):
        raise FrontEndError("front end: no I/O completed")
    return r
