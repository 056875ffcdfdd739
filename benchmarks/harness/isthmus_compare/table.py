"""Renders the side-by-side table from a summary (see runner.summarize):

summary = {"servers": [names], "reference": "qsd",
           "rows": [{"workload", "unit", "higher_is_better", "ops_unit", "pending": reason or None,
                     "cells": {server: {"median", "cpu_per_op", "peak_rss", "ok", "rounds",
                                        "ratio", "cpu_ratio", "skipped": why (if skipped)}}}]}

Every non-reference server's median and CPU per operation is followed by its ratio to the
reference (value / reference). A cell whose every round failed shows FAIL; one where only
some rounds failed shows its median with '*'; one the server cannot serve (the setup was
skipped for it) shows n/a."""


def fmt_value(v, unit):
    if v is None:
        return "-"
    if unit == "IOPS":
        return f"{v / 1000:.1f}k"
    if unit in ("MiB/s",):
        return f"{v:.0f}"
    return f"{v:.1f}"


def fmt_cpu(seconds):
    """CPU seconds per operation as microseconds, 3 significant figures."""
    if seconds is None:
        return "-"
    us = seconds * 1e6
    if us >= 100:
        return f"{us:.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.2f}"


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def fmt_mib(b):
    return "-" if b is None else f"{b / (1 << 20):.1f}"


def _cell(c, text):
    if c is None or c.get("skipped"):
        return "n/a"
    if c["ok"] == 0:
        return "FAIL"
    return text + ("*" if c["ok"] < c["rounds"] else "")


def render(summary):
    servers = summary["servers"]
    ref = summary.get("reference")
    others = [s for s in servers if s != ref]
    # header: two rows, grouped
    groups = [("", ["workload", "unit"])]
    thr = []
    for s in servers:
        thr.append(s)
        if s != ref and ref in servers:
            thr.append(f"/{ref}")
    groups.append(("median", thr))
    cpu = []
    for s in servers:
        cpu.append(s)
        if s != ref and ref in servers:
            cpu.append(f"/{ref}")
    groups.append(("server CPU us per op", cpu))
    groups.append(("peak RSS MiB", list(servers)))

    rows = []
    for row in summary["rows"]:
        cells = row["cells"]
        line = [row["workload"], row["unit"] + ("" if row["higher_is_better"] else " (lower better)")]
        if row.get("pending"):
            line.append("not yet available: " + row["pending"])
            rows.append(line)
            continue
        for s in servers:
            c = cells.get(s)
            line.append(_cell(c, fmt_value(c and c["median"], row["unit"])))
            if s != ref and ref in servers:
                line.append(_cell(c, fmt_ratio(c and c.get("ratio"))) if c else "n/a")
        has_cpu = bool(row.get("ops_unit"))
        for s in servers:
            c = cells.get(s)
            line.append(_cell(c, fmt_cpu(c and c["cpu_per_op"])) if has_cpu else "")
            if s != ref and ref in servers:
                line.append(_cell(c, fmt_ratio(c and c.get("cpu_ratio"))) if has_cpu else "")
        for s in servers:
            c = cells.get(s)
            line.append(_cell(c, fmt_mib(c and c["peak_rss"])) if has_cpu else "")
        rows.append(line)

    header2 = [h for _, hs in groups for h in hs]
    ncols = len(header2)
    full = [r for r in rows if len(r) == ncols]
    widths = [max([len(header2[i])] + [len(r[i]) for r in full]) for i in range(ncols)]
    # group titles over their columns
    header1, i = [], 0
    for title, hs in groups:
        span = sum(widths[i:i + len(hs)]) + 2 * (len(hs) - 1)
        header1.append(title.center(span, "-") if title else " " * span)
        i += len(hs)

    def join(cols):
        out = []
        for k, text in enumerate(cols):
            out.append(text.ljust(widths[k]) if k < 2 else text.rjust(widths[k]))
        return "  ".join(out).rstrip()

    lines = ["  ".join(header1).rstrip(), join(header2), "  ".join("-" * w for w in widths)]
    for r in rows:
        if len(r) == ncols:
            lines.append(join(r))
        else:
            lines.append(join(r[:2]) + "  " + r[2])
    return "\n".join(lines)


def render_failures(failures, max_groups=20):
    """failures: list of {"server", "round", "workload", "message", "log_tail"}. Failures with the
    same server, message and log lines (the daemon's command line, which names unique paths, left
    aside) are listed once, with every workload they hit and the first command line."""
    groups = {}
    for f in failures:
        tail = f.get("log_tail") or []
        body = tuple(t for t in tail if not t.startswith("$ "))
        key = (f["server"], f["message"], body)
        g = groups.setdefault(key, {"where": [], "cmd": next((t for t in tail if t.startswith("$ ")), None)})
        g["where"].append(f"{f['workload']} (round {f['round']})")
    lines = []
    for n, ((server, message, body), g) in enumerate(groups.items()):
        if n == max_groups:
            lines.append(f"... and {len(groups) - max_groups} more kinds of failure (see the JSON result)")
            break
        where = g["where"]
        shown = where if len(where) <= 6 else where[:5] + [f"... {len(where) - 5} more"]
        lines.append(f"FAILED {server}: {message}")
        lines.append("  in: " + ", ".join(shown))
        if g["cmd"] or body:
            lines.append("  last log lines:")
            if g["cmd"]:
                lines.append("    | " + g["cmd"])
            lines.extend("    | " + t for t in body)
    return "\n".join(lines)
