"""Process lifetime: every process the harness starts (daemons, fio, nbdcopy) gets its own
process group and dies with the harness (PR_SET_PDEATHSIG); a registry lets the signal handlers
and the final cleanup kill whatever is still alive, whole process groups and descendants."""
import ctypes
import os
import signal
import subprocess
import time

from . import procfs

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

_libc = None
_live = []  # Popen objects not yet reaped


def _prctl(option, arg):
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        return _libc.prctl(option, arg, 0, 0, 0)
    except (OSError, AttributeError):
        return -1


def become_subreaper():
    """Orphaned descendants of our children are re-parented to the harness (so they can be
    found and killed) instead of to init."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def _child_setup():
    # Runs in the child between fork and exec: die with the harness even if it is SIGKILLed.
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(argv, log_path=None, stdout=None, stderr=None, env=None, cwd=None):
    """Starts argv in a new session (its own process group). Output goes to log_path (stdout and
    stderr together) unless stdout/stderr are given."""
    log = None
    if log_path is not None:
        log = open(log_path, "ab", buffering=0)
        stdout = stderr = log
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env,
                             cwd=cwd, start_new_session=True, preexec_fn=_child_setup)
    finally:
        if log is not None:
            log.close()
    _live.append(p)
    return p


def kill_tree(p, sig=signal.SIGKILL):
    """Sends sig to p's process group and to every live descendant of p."""
    pids = procfs.tree_pids(p.pid) if p.poll() is None else []
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def reap(p, timeout):
    try:
        p.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def terminate(p, grace=3.0):
    """SIGTERM to the group, SIGKILL after grace seconds; always reaps p and forgets it."""
    if p.poll() is None:
        kill_tree(p, signal.SIGTERM)
        if not reap(p, grace):
            kill_tree(p, signal.SIGKILL)
            reap(p, 10)
    else:
        kill_tree(p, signal.SIGKILL)  # the group may outlive its leader
    forget(p)


def forget(p):
    if p in _live:
        _live.remove(p)


def kill_all():
    """SIGKILL to everything the harness started and is still registered; reaps them."""
    for p in list(_live):
        kill_tree(p, signal.SIGKILL)
    for p in list(_live):
        reap(p, 5)
        forget(p)
    # Orphans re-parented to us (we are a subreaper) are reaped here.
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break


notes = []  # things worth a line in the JSON result (e.g. a QMP negotiation retried)


def note(text):
    notes.append(text)


def live_count():
    return sum(1 for p in _live if p.poll() is None)


def run(argv, timeout, log_path=None):
    """Runs a client (fio, nbdcopy) to completion under the same rules as the daemons.
    Returns (returncode or None on timeout, stdout bytes, stderr bytes, elapsed seconds)."""
    p = spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        kill_tree(p)
        out, err = p.communicate()
        rc = None
    finally:
        if p.poll() is None:
            kill_tree(p)
            p.wait()
        forget(p)
    elapsed = time.monotonic() - t0
    if log_path is not None:
        with open(log_path, "ab") as f:
            f.write(b"$ " + " ".join(argv).encode() + b"\n" + err)
    return rc, out, err, elapsed


def tail(path, lines=15):
    """The last lines of a log file as a list of str (empty if there is none)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read()
    except OSError:
        return []
    text = data.decode("utf-8", "replace").rstrip("\n")
    return text.split("\n")[-lines:] if text else []
