"""fio with its nbd engine: the command line for a workload, and parsing of --output-format=json."""
import json


class FioError(Exception):
    pass


def nbd_uri(transport, export, socket_path=None, port=None, host="127.0.0.1"):
    """The NBD URI libnbd (fio's nbd engine, nbdcopy) connects to."""
    if transport == "unix":
        return f"nbd+unix:///{export}?socket={socket_path}"
    if transport == "tcp":
        return f"nbd://{host}:{port}/{export}"
    raise ValueError(f"unknown transport {transport!r}")


def runtime_ms(seconds):
    """fio reads '0.3s' as 0 (and 0 as 'no limit'): time goes to fio in whole milliseconds."""
    return max(1, int(round(seconds * 1000)))


def command(fio, uri, rw, bs, iodepth, runtime, jobs=1, name="job", offset=None, size=None,
            number_ios=None):
    """fio's command line: time-based, one NBD connection per job (numjobs), results summed
    over the jobs (group_reporting), JSON on stdout. offset/size restrict the region (bytes).
    With number_ios (runtime None) the run is that many I/Os instead, with seeded offsets (the
    same sequence every run)."""
    cmd = [fio, f"--name={name}", "--ioengine=nbd", f"--uri={uri}", f"--rw={rw}", f"--bs={bs}",
           f"--iodepth={iodepth}"]
    if number_ios is not None:
        if runtime is not None:
            raise ValueError("runtime and number_ios exclude each other")
        cmd += [f"--number_ios={number_ios}", "--output-format=json", "--randrepeat=1", "--norandommap"]
    else:
        cmd += ["--time_based", f"--runtime={runtime_ms(runtime)}ms",
                "--output-format=json", "--randrepeat=0", "--norandommap"]
    if offset is not None:
        cmd.append(f"--offset={offset}")
    if size is not None:
        cmd.append(f"--size={size}")
    if jobs > 1:
        cmd += [f"--numjobs={jobs}", "--group_reporting"]
    return cmd


def extract_json(text):
    """fio's nbd engine prints 'fio: connected to NBD server' lines before the JSON document
    on the same stream: returns the decoded document that starts at the first '{' line."""
    start = 0 if text.startswith("{") else text.find("\n{")
    if start < 0:
        raise FioError("no JSON document in fio's output")
    if start > 0:
        start += 1
    try:
        doc, _ = json.JSONDecoder().raw_decode(text[start:])
    except ValueError as e:
        raise FioError(f"fio's JSON output does not parse: {e}") from None
    return doc


def summarize(doc):
    """Sums the jobs of a fio JSON document: {'ios', 'iops', 'bw_bytes', 'job_runtime_ms',
    'read_iops', 'write_iops', 'client_usr_cpu', 'client_sys_cpu'}. Raises FioError if a job
    reported an error or nothing completed."""
    jobs = doc.get("jobs") or []
    if not jobs:
        raise FioError("fio reported no jobs")
    out = {"ios": 0, "iops": 0.0, "bw_bytes": 0, "read_iops": 0.0, "write_iops": 0.0,
           "job_runtime_ms": 0, "client_usr_cpu": 0.0, "client_sys_cpu": 0.0}
    for job in jobs:
        if job.get("error"):
            raise FioError(f"fio job {job.get('jobname')!r} failed with error {job['error']}")
        for d in ("read", "write", "trim"):
            part = job.get(d) or {}
            out["ios"] += int(part.get("total_ios", 0))
            out["iops"] += float(part.get("iops", 0.0))
            out["bw_bytes"] += int(part.get("bw_bytes", 0))
        out["read_iops"] += float((job.get("read") or {}).get("iops", 0.0))
        out["write_iops"] += float((job.get("write") or {}).get("iops", 0.0))
        out["job_runtime_ms"] += int(job.get("job_runtime", 0))  # summed over jobs
        out["client_usr_cpu"] += float(job.get("usr_cpu", 0.0))
        out["client_sys_cpu"] += float(job.get("sys_cpu", 0.0))
    if out["ios"] == 0:
        raise FioError("fio completed no I/O")
    return out
