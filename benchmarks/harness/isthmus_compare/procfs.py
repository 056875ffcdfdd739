"""Reading /proc: CPU time and resident memory of a daemon's whole process tree.

CPU time of a process (utime+stime) already includes its threads, exited ones too; the
children it has reaped are in cutime+cstime. A tree snapshot adds both for the root and
every live descendant, so a wrapper script that starts the real daemon as a child is
measured whole.
"""
import os

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def parse_stat(text):
    """Parses /proc/PID/stat. Returns dict pid, comm, state, ppid, utime, stime, cutime, cstime
    (clock ticks). comm may hold spaces and parentheses: it ends at the last ')'."""
    open_paren = text.index("(")
    close_paren = text.rindex(")")
    pid = int(text[:open_paren].strip())
    comm = text[open_paren + 1:close_paren]
    rest = text[close_paren + 2:].split()
    # rest[0] is field 3 (state); field n is rest[n - 3]
    return {
        "pid": pid,
        "comm": comm,
        "state": rest[0],
        "ppid": int(rest[1]),
        "utime": int(rest[11]),
        "stime": int(rest[12]),
        "cutime": int(rest[13]),
        "cstime": int(rest[14]),
    }


def parse_status(text):
    """Parses /proc/PID/status into {key: value}; the kB sizes (VmRSS, VmHWM, ...) become bytes."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        value = value.strip()
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            out[key] = int(parts[0]) * 1024
        else:
            out[key] = value
    return out


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def read_stat(pid, root="/proc"):
    text = _read(f"{root}/{pid}/stat")
    return parse_stat(text) if text else None


def read_status(pid, root="/proc"):
    text = _read(f"{root}/{pid}/status")
    return parse_status(text) if text else None


def tree_pids(root_pid, root="/proc"):
    """root_pid and all its live descendants (from the ppid links in /proc/*/stat)."""
    children = {}
    try:
        names = os.listdir(root)
    except OSError:
        return [root_pid]
    for name in names:
        if not name.isdigit():
            continue
        st = read_stat(name, root)
        if st:
            children.setdefault(st["ppid"], []).append(st["pid"])
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def tree_cpu_seconds(root_pid, root="/proc"):
    """utime+stime(+reaped children) of the tree in seconds, or None if the root is gone."""
    total, seen_root = 0, False
    for pid in tree_pids(root_pid, root):
        st = read_stat(pid, root)
        if not st:
            continue
        if pid == root_pid:
            seen_root = True
        total += st["utime"] + st["stime"] + st["cutime"] + st["cstime"]
    return total / CLK_TCK if seen_root else None


def tree_memory(root_pid, key, root="/proc"):
    """Sum of a status size (e.g. 'VmRSS', 'VmHWM') over the tree in bytes, or None."""
    total, seen = 0, False
    for pid in tree_pids(root_pid, root):
        st = read_status(pid, root)
        if st and isinstance(st.get(key), int):
            total += st[key]
            seen = True
    return total if seen else None


def reset_peak_rss(root_pid, root="/proc"):
    """Resets VmHWM of every process in the tree (writes 5 to clear_refs). True if all worked."""
    ok = True
    for pid in tree_pids(root_pid, root):
        try:
            with open(f"{root}/{pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            ok = False
    return ok
