"""The harness end to end against real peers (qemu-storage-daemon, fio, gcc, nbdinfo): bad input
(a daemon that refuses to start, one that dies mid-run), Ctrl-C/SIGTERM leaving nothing behind,
and the ceiling server. Skipped when ISTHMUS_IT=false or a peer is absent. A few seconds each."""
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
COMPARE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "compare")
DATA = os.path.join(HERE, "data")


def need(*tools):
    if os.environ.get("ISTHMUS_IT", "true") == "false":
        raise unittest.SkipTest("integration tests disabled (ISTHMUS_IT=false)")
    gone = [t for t in tools if not shutil.which(t)]
    if gone:
        raise unittest.SkipTest(f"peer binaries absent: {', '.join(gone)} (bin/check installs them)")


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def procs_mentioning(text):
    """PIDs of live processes whose command line contains text (zombies have none)."""
    return [int(n) for n in os.listdir("/proc") if n.isdigit() and text.encode() in cmdline(n)]


class HarnessCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="compare-test-")
        self.json = os.path.join(self.tmp, "result.json")

    def tearDown(self):
        for pid in procs_mentioning(self.tmp):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def compare(self, *args, env=None, timeout=120):
        r = subprocess.run([COMPARE, "--tmpdir", self.tmp, "--json", self.json, *args], capture_output=True,
                           text=True, timeout=timeout, env=dict(os.environ, **(env or {})))
        return r

    def assert_nothing_left(self):
        self.assertEqual(procs_mentioning(self.tmp), [], "processes left running")
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith("isthmus-compare-")], [],
                         "run directory left behind")

    @staticmethod
    def row(stdout, name):
        return next(line for line in stdout.splitlines() if line.startswith(name + " ")).split()


class BadInputTest(HarnessCase):
    def test_daemon_that_fails_to_start_and_one_that_dies_mid_run(self):
        need("qemu-storage-daemon", "fio")
        wls = "nbd-unix-null-randread-4k-qd1,nbd-unix-null-randwrite-4k-qd1"
        r = self.compare("--servers", "qsd,isthmus", "--isthmus", os.path.join(DATA, "fake-isthmus-dies.sh"),
                         "--workloads", wls, "--runtime", "1", "--warmup", "0", "--rounds", "1",
                         env={"FAKE_CRASH_AFTER": "0.5"})
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in wls.split(","):
            row = self.row(r.stdout, name)
            self.assertRegex(row[2], r"^\d+\.\dk$", r.stdout)        # qsd measured
            self.assertEqual(row[3:5], ["FAIL", "FAIL"], r.stdout)  # isthmus failed, ratio too
        self.assertIn("FAILED isthmus: isthmus exited with status 1 during nbd-unix-null-randread-4k-qd1", r.stdout)
        self.assertIn("fake-isthmus: simulated crash", r.stdout)
        with open(self.json) as f:
            res = json.load(f)
        recs = res["records"]["nbd-unix-null-randwrite-4k-qd1"]
        self.assertTrue(recs["qsd"][0]["ok"])
        self.assertGreater(recs["qsd"][0]["ops"], 0)
        self.assertGreater(recs["qsd"][0]["cpu_s"], 0)
        self.assertFalse(recs["isthmus"][0]["ok"])
        self.assertIn("during nbd-unix-null-randwrite-4k-qd1", recs["isthmus"][0]["error"])
        self.assertEqual(res["machine"]["nproc"], os.cpu_count())
        self.assertIn("qemu-storage-daemon version", res["versions"]["qsd"])
        self.assert_nothing_left()

        r = self.compare("--servers", "isthmus", "--isthmus", os.path.join(DATA, "fake-isthmus-fails.sh"),
                         "--workloads", "startup-*,nbd-tcp-file-seqread-1m-qd4", "--image-size", "16M")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.row(r.stdout, "startup-greeting")[-1], "FAIL")
        self.assertEqual(self.row(r.stdout, "nbd-tcp-file-seqread-1m-qd4")[2:], ["FAIL", "FAIL", "FAIL"])
        self.assertIn("FAILED isthmus: isthmus failed to start", r.stdout)
        self.assertIn("fake-isthmus: --export: NBD export not implemented", r.stdout)
        self.assert_nothing_left()


class SignalTest(HarnessCase):
    def run_and_interrupt(self, sig, to_group):
        need("qemu-storage-daemon", "fio")
        p = subprocess.Popen([COMPARE, "--tmpdir", self.tmp, "--json", self.json, "--servers", "qsd",
                              "--workloads", "nbd-unix-null-randread-4k-qd1", "--runtime", "60", "--warmup", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in p.stderr], daemon=True).start()
        try:
            pid, deadline = None, time.monotonic() + 20
            while pid is None and time.monotonic() < deadline:
                try:
                    m = re.search(r"qsd started .*\(pid (\d+)", lines.get(timeout=1))
                except queue.Empty:
                    continue
                if m:
                    pid = int(m.group(1))
            self.assertIsNotNone(pid, "the daemon never started")
            while not any(b"--ioengine=nbd" in cmdline(q) for q in procs_mentioning(self.tmp)) \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            if to_group:
                os.killpg(p.pid, sig)   # what a terminal's Ctrl-C does
            else:
                os.kill(p.pid, sig)
            out, _ = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 128 + sig)
        self.assertIn("INTERRUPTED", out)
        self.assertFalse(os.path.exists(f"/proc/{pid}"), "the daemon is still there")
        self.assert_nothing_left()
        with open(self.json) as f:
            self.assertEqual(json.load(f)["interrupted"], sig)

    def test_sigterm(self):
        self.run_and_interrupt(signal.SIGTERM, to_group=False)

    def test_ctrl_c(self):
        self.run_and_interrupt(signal.SIGINT, to_group=True)


class Qcow2Test(HarnessCase):
    def test_images(self):
        need("qemu-img")
        sys.path.insert(0, os.path.dirname(HERE))
        from isthmus_compare import runner
        dense, img, empty = (os.path.join(self.tmp, n) for n in ("d.img", "d.qcow2", "e.qcow2"))
        runner.make_dense_image(dense, 4 << 20, log=lambda m: None)
        runner.make_qcow2_image("qemu-img", dense, img, log=lambda m: None)
        runner.make_empty_qcow2("qemu-img", empty, 4 << 20)

        def info(path):
            r = subprocess.run(["qemu-img", "info", "--output=json", path], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout)

        def extents(path):
            r = subprocess.run(["qemu-img", "map", "--output=json", path], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            return [(e["start"], e["length"], e["data"], e["zero"]) for e in json.loads(r.stdout)]

        for path in (img, empty):
            i = info(path)
            self.assertEqual((i["format"], i["cluster-size"], i["virtual-size"]), ("qcow2", 65536, 4 << 20))
        self.assertEqual(extents(img), [(0, 4 << 20, True, False)])     # every cluster allocated
        self.assertEqual(extents(empty), [(0, 4 << 20, False, True)])   # none
        r = subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", dense, img], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with self.assertRaises(runner.ImageError) as e:
            runner.make_qcow2_image("qemu-img", os.path.join(self.tmp, "absent.img"), img, log=lambda m: None)
        self.assertTrue(any("absent.img" in line for line in e.exception.log_tail), e.exception.log_tail)

    def test_qsd_runs_them_and_reference_servers_skip_them(self):
        need("qemu-storage-daemon", "qemu-img", "fio", "gcc")
        r = self.compare("--servers", "qsd,ceiling", "--workloads",
                         "nbd-unix-qcow2-randread-4k-qd1,nbd-unix-qcow2alloc-*", "--image-size", "16M",
                         "--runtime", "0.3", "--warmup", "0.2", "--rounds", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in ("nbd-unix-qcow2-randread-4k-qd1", "nbd-unix-qcow2alloc-randwrite-4k-qd32"):
            row = self.row(r.stdout, name)
            self.assertRegex(row[2], r"^\d+\.\dk$", r.stdout)
            self.assertEqual(row[3:5], ["n/a", "n/a"], r.stdout)
        self.assertNotIn("FAILED", r.stdout)
        with open(self.json) as f:
            res = json.load(f)
        self.assertIn("driver=qcow2,node-name=disk0,file.driver=file,file.filename=",
                      " ".join(res["daemon_command_lines"]["qsd"]["unix-qcow2alloc"]))
        alloc = res["records"]["nbd-unix-qcow2alloc-randwrite-4k-qd32"]
        self.assertEqual(alloc["ceiling"], [])
        raw = alloc["qsd"][0]["raw"]
        self.assertEqual(raw["ios"], 256 - 16)          # one write per cluster past the warm-up region
        self.assertGreater(raw["allocating_share"], 0.4)   # about 1 - 1/e
        self.assertLess(raw["allocating_share"], 0.9)
        self.assert_nothing_left()


class VhostUserBlkTest(HarnessCase):
    def test_qsd_rows_and_a_daemon_without_the_export(self):
        need("qemu-storage-daemon")
        if not os.environ.get("ISTHMUS_FE_CLASSPATH"):
            raise unittest.SkipTest("the vhost-user-blk front end's class path is not given (ISTHMUS_FE_CLASSPATH; "
                                    "CompareHarnessTest sets it)")
        wls = "vhost-user-blk-null-*,vhost-user-blk-file-randwrite-4k-qd32"
        r = self.compare("--servers", "qsd,isthmus", "--isthmus", os.path.join(DATA, "fake-isthmus-no-vhost.sh"),
                         "--workloads", wls, "--image-size", "16M", "--runtime", "0.3", "--warmup", "0.2",
                         "--rounds", "1", timeout=180)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in ("vhost-user-blk-null-randread-4k-qd32", "vhost-user-blk-null-randwrite-4k-qd32",
                     "vhost-user-blk-null-randread-4k-qd32-2q", "vhost-user-blk-null-randwrite-4k-qd32-2q",
                     "vhost-user-blk-file-randwrite-4k-qd32"):
            row = self.row(r.stdout, name)
            self.assertRegex(row[2], r"^\d+\.\dk$", r.stdout)     # qsd measured
            self.assertRegex(row[5], r"^\d+(\.\d+)?$", r.stdout)  # with its CPU per I/O
            self.assertEqual(row[3:5] + row[6:8], ["n/a"] * 4, r.stdout)   # isthmus: not available
        self.assertNotIn("FAILED", r.stdout)
        self.assertIn("isthmus: not available: isthmus has no vhost-user-blk export", r.stdout)
        with open(self.json) as f:
            res = json.load(f)
        rec = res["records"]["vhost-user-blk-null-randwrite-4k-qd32-2q"]["qsd"][0]
        self.assertTrue(rec["ok"])
        self.assertEqual((rec["raw"]["queues"], rec["raw"]["depth"], rec["raw"]["errors"]), (2, 32, 0))
        self.assertEqual(rec["ops"], rec["raw"]["ios"])          # CPU per I/O over the measured time only
        self.assertLess(rec["raw"]["ios"], rec["raw"]["ios_total"])   # the ramp's I/Os are not in it
        self.assertGreater(rec["cpu_s"], 0)
        self.assertIn("iothread,id=io0", res["daemon_command_lines"]["qsd"]["vhost-user-blk-null-iothreads-2q"])
        self.assert_nothing_left()


class CeilingTest(HarnessCase):
    def test_ceiling_serves_libnbd_clients(self):
        need("gcc", "fio", "nbdinfo")
        r = self.compare("--servers", "ceiling", "--workloads",
                         "nbd-unix-null-randread-4k-qd32,nbd-tcp-null-seqwrite-1m-qd4", "--runtime", "0.3",
                         "--warmup", "0", "--rounds", "1", "--keep-tmp")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(self.row(r.stdout, "nbd-unix-null-randread-4k-qd32")[2], r"^\d+\.\dk$")
        self.assertRegex(self.row(r.stdout, "nbd-tcp-null-seqwrite-1m-qd4")[2], r"^\d+$")
        # its handshake as nbdinfo sees it
        run_dir = next(os.path.join(self.tmp, n) for n in os.listdir(self.tmp) if n.startswith("isthmus-compare-"))
        sock = os.path.join(self.tmp, "c.sock")
        c = subprocess.Popen([os.path.join(run_dir, "ceiling"), "-U", sock, "-s", "1048576",
                              "-P", os.path.join(self.tmp, "c.pid")], stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(os.path.join(self.tmp, "c.pid")) and time.monotonic() < deadline:
                time.sleep(0.01)
            info = subprocess.run(["nbdinfo", "--json", f"nbd+unix:///any?socket={sock}"], capture_output=True,
                                  text=True, timeout=20)
            self.assertEqual(info.returncode, 0, info.stderr)
            export = json.loads(info.stdout)["exports"][0]
            self.assertEqual(export["export-size"], 1048576)
            self.assertTrue(export["can_multi_conn"])
            self.assertFalse(export["is_read_only"])
        finally:
            c.kill()
            c.wait()


if __name__ == "__main__":
    unittest.main()
