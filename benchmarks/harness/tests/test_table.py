import unittest

from isthmus_compare import table


def cell(median, cpu=None, rss=None, ok=1, rounds=1, ratio=None, cpu_ratio=None):
    return {"median": median, "cpu_per_op": cpu, "peak_rss": rss, "ok": ok, "rounds": rounds,
            "ratio": ratio, "cpu_ratio": cpu_ratio}


SUMMARY = {
    "servers": ["qsd", "isthmus", "ceiling"], "reference": "qsd",
    "rows": [
        {"workload": "nbd-unix-null-randread-4k-qd32", "unit": "IOPS", "higher_is_better": True,
         "ops_unit": "I/O", "pending": None,
         "cells": {"qsd": cell(205000.0, 4.8e-6, 9 << 20),
                   "isthmus": cell(0, ok=0, rounds=3),
                   "ceiling": cell(270000.0, 2.4e-6, 2 << 20, ok=2, rounds=3, ratio=270 / 205, cpu_ratio=0.5)}},
        {"workload": "nbd-unix-qcow2-randread-4k-qd1", "unit": "IOPS", "higher_is_better": True,
         "ops_unit": "I/O", "pending": None,
         "cells": {"qsd": cell(20000.0, 3e-5, 9 << 20), "isthmus": cell(30000.0, 2e-5, 40 << 20, ratio=1.5),
                   "ceiling": dict(cell(None, ok=0, rounds=0), skipped="ceiling serves null and raw file")}},
        {"workload": "startup-greeting", "unit": "ms", "higher_is_better": False, "ops_unit": "",
         "pending": None,
         "cells": {"qsd": cell(7.14), "isthmus": cell(250.0, ratio=35.01), "ceiling": cell(3.0, ratio=0.42)}},
        {"workload": "fuse-file-randread-4k-qd32", "unit": "IOPS", "higher_is_better": True, "ops_unit": "I/O",
         "pending": "FUSE not yet", "cells": {}},
    ],
}


class TableTest(unittest.TestCase):
    def setUp(self):
        self.out = table.render(SUMMARY)
        self.lines = self.out.splitlines()

    def row(self, name):
        return next(line for line in self.lines if line.startswith(name)).split()

    def test_header_groups_and_ratio_columns(self):
        self.assertIn("median", self.lines[0])
        self.assertIn("server CPU us per op", self.lines[0])
        self.assertIn("peak RSS MiB", self.lines[0])
        self.assertEqual(self.lines[1].split(),
                         ["workload", "unit", "qsd", "isthmus", "/qsd", "ceiling", "/qsd",
                          "qsd", "isthmus", "/qsd", "ceiling", "/qsd", "qsd", "isthmus", "ceiling"])

    def test_values_failures_and_partial_rounds(self):
        self.assertEqual(self.row("nbd-unix-null-randread-4k-qd32"),
                         ["nbd-unix-null-randread-4k-qd32", "IOPS", "205.0k", "FAIL", "FAIL", "270.0k*", "1.32x*",
                          "4.80", "FAIL", "FAIL", "2.40*", "0.50x*", "9.0", "FAIL", "2.0*"])

    def test_skipped_server_shows_n_a(self):
        self.assertEqual(self.row("nbd-unix-qcow2-randread-4k-qd1"),
                         ["nbd-unix-qcow2-randread-4k-qd1", "IOPS", "20.0k", "30.0k", "1.50x", "n/a", "n/a",
                          "30.0", "20.0", "-", "n/a", "n/a", "9.0", "40.0", "n/a"])

    def test_rows_without_cpu_leave_those_columns_empty(self):
        r = self.row("startup-greeting")
        self.assertEqual(r[:9], ["startup-greeting", "ms", "(lower", "better)", "7.1", "250.0", "35.01x", "3.0", "0.42x"])
        self.assertEqual(len(r), 9)

    def test_pending_row(self):
        line = next(line for line in self.lines if line.startswith("fuse-file"))
        self.assertIn("not yet available: FUSE not yet", line)

    def test_columns_line_up(self):
        widths = {len(line) for line in self.lines[1:3]}
        self.assertEqual(len(widths), 1, self.out)

    def test_without_reference_there_are_no_ratio_columns(self):
        out = table.render({"servers": ["nbdkit"], "reference": None, "rows": [
            {"workload": "w", "unit": "MiB/s", "higher_is_better": True, "ops_unit": "MiB", "pending": None,
             "cells": {"nbdkit": cell(1234.4, 410e-6, 1 << 20)}}]})
        self.assertNotIn("/", out.splitlines()[1])
        self.assertEqual(out.splitlines()[3].split(), ["w", "MiB/s", "1234", "410", "1.0"])

    def test_formatters(self):
        self.assertEqual(table.fmt_value(None, "IOPS"), "-")
        self.assertEqual(table.fmt_value(18342.7, "IOPS"), "18.3k")
        self.assertEqual(table.fmt_cpu(27.78e-6), "27.8")
        self.assertEqual(table.fmt_cpu(5.47e-6), "5.47")
        self.assertEqual(table.fmt_cpu(410.2e-6), "410")
        self.assertEqual(table.fmt_ratio(1.3456), "1.35x")


class FailuresTest(unittest.TestCase):
    def test_identical_failures_are_grouped_and_command_lines_ignored(self):
        fails = [{"server": "isthmus", "round": 1, "workload": f"w{i}", "message": "failed to start",
                  "log_tail": [f"$ bin/isthmus --nbd-server addr.path=/tmp/x/isthmus-{i}.nbd", "Error: no Main"]}
                 for i in range(8)]
        fails.append({"server": "qsd", "round": 2, "workload": "w9", "message": "qsd killed by signal 6",
                      "log_tail": ["assertion failed"]})
        out = table.render_failures(fails)
        self.assertEqual(out.count("FAILED isthmus: failed to start"), 1)
        self.assertIn("w0 (round 1), w1 (round 1)", out)
        self.assertIn("... 3 more", out)
        self.assertIn("$ bin/isthmus --nbd-server addr.path=/tmp/x/isthmus-0.nbd", out)
        self.assertEqual(out.count("Error: no Main"), 1)
        self.assertIn("FAILED qsd: qsd killed by signal 6", out)
        self.assertIn("    | assertion failed", out)


if __name__ == "__main__":
    unittest.main()
