import os
import shutil
import tempfile
import unittest

from isthmus_compare import procfs

STAT_TAIL = "0 -1 4194560 616 0 5 0 {ut} {st} {cut} {cst} 20 0 3 0 45243 241713152 2218 0 0 0 0 0 0 0 0 0"


def stat_line(pid, comm, state, ppid, ut, st, cut=0, cst=0):
    return f"{pid} ({comm}) {state} {ppid} {pid} {pid} " + STAT_TAIL.format(ut=ut, st=st, cut=cut, cst=cst)


class ParseTest(unittest.TestCase):
    def test_parse_stat_real_sample(self):
        text = ("6768 (qemu-storage-da) S 6765 6765 6090 0 -1 4194560 616 0 5 0 48 101 0 0 20 0 3 0 45243 "
                "241713152 2218 18446744073709551615 94682195263488 94682196707093 140727778364464 0 0 0 "
                "268444224 4100 16387 0 0 0 17 1 0 0 0 0 0\n")
        st = procfs.parse_stat(text)
        self.assertEqual(st["pid"], 6768)
        self.assertEqual(st["comm"], "qemu-storage-da")
        self.assertEqual(st["ppid"], 6765)
        self.assertEqual((st["utime"], st["stime"], st["cutime"], st["cstime"]), (48, 101, 0, 0))

    def test_parse_stat_comm_with_spaces_and_parens(self):
        st = procfs.parse_stat(stat_line(42, "evil ) (name", "R", 1, 7, 9, 2, 3))
        self.assertEqual(st["comm"], "evil ) (name")
        self.assertEqual(st["state"], "R")
        self.assertEqual((st["ppid"], st["utime"], st["stime"], st["cutime"], st["cstime"]), (1, 7, 9, 2, 3))

    def test_parse_status_sizes_in_bytes(self):
        st = procfs.parse_status("Name:\tjava\nVmHWM:\t   9196 kB\nVmRSS:\t    1944 kB\nThreads:\t3\n")
        self.assertEqual(st["VmHWM"], 9196 * 1024)
        self.assertEqual(st["VmRSS"], 1944 * 1024)
        self.assertEqual(st["Name"], "java")
        self.assertEqual(st["Threads"], "3")


class FakeProcTest(unittest.TestCase):
    """A fake /proc: 10 is the daemon, 11 its child, 12 a grandchild, 20 unrelated."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="fakeproc-")
        self.add(10, 1, 100, 50, 30, 20, hwm=1000)
        self.add(11, 10, 10, 5, hwm=200)
        self.add(12, 11, 1, 1, hwm=30)
        self.add(20, 1, 999, 999, hwm=99999)
        os.makedirs(os.path.join(self.root, "self"))  # non-numeric entries are skipped

    def tearDown(self):
        shutil.rmtree(self.root)

    def add(self, pid, ppid, ut, st, cut=0, cst=0, hwm=0):
        d = os.path.join(self.root, str(pid))
        os.makedirs(d)
        with open(os.path.join(d, "stat"), "w") as f:
            f.write(stat_line(pid, "p", "S", ppid, ut, st, cut, cst))
        with open(os.path.join(d, "status"), "w") as f:
            f.write(f"Name:\tp\nVmHWM:\t{hwm} kB\nVmRSS:\t{hwm // 2} kB\n")

    def test_tree(self):
        self.assertEqual(sorted(procfs.tree_pids(10, self.root)), [10, 11, 12])

    def test_tree_cpu_sums_descendants_and_reaped_children(self):
        ticks = (100 + 50 + 30 + 20) + (10 + 5) + (1 + 1)
        self.assertAlmostEqual(procfs.tree_cpu_seconds(10, self.root), ticks / procfs.CLK_TCK)

    def test_tree_cpu_of_a_vanished_root_is_none(self):
        self.assertIsNone(procfs.tree_cpu_seconds(77, self.root))

    def test_tree_memory(self):
        self.assertEqual(procfs.tree_memory(10, "VmHWM", self.root), (1000 + 200 + 30) * 1024)
        self.assertEqual(procfs.tree_memory(11, "VmRSS", self.root), (100 + 15) * 1024)
        self.assertIsNone(procfs.tree_memory(77, "VmHWM", self.root))


class RealProcTest(unittest.TestCase):
    def test_own_process(self):
        self.assertIsNotNone(procfs.tree_cpu_seconds(os.getpid()))
        self.assertGreater(procfs.tree_memory(os.getpid(), "VmHWM"), 0)
        self.assertIn(os.getpid(), procfs.tree_pids(os.getpid()))


if __name__ == "__main__":
    unittest.main()
