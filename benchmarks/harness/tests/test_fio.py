import os
import unittest

from isthmus_compare import fio

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def sample():
    # Recorded: fio-3.33, nbd engine, 4 jobs (connections) x QD32 4 KiB randread against QSD null-co;
    # the engine's "fio: connected to NBD server" lines precede the JSON on stdout.
    with open(os.path.join(DATA, "fio-qsd-null-randread-4k-qd32-4conn.txt")) as f:
        return f.read()


class FioTest(unittest.TestCase):
    def test_recorded_sample(self):
        text = sample()
        self.assertTrue(text.startswith("fio: connected"))
        s = fio.summarize(fio.extract_json(text))
        self.assertEqual(s["ios"], 223207)
        self.assertAlmostEqual(s["iops"], 111436.345482, places=3)
        self.assertEqual(s["bw_bytes"], 456443271)
        self.assertAlmostEqual(s["read_iops"], 111436.345482, places=3)
        self.assertEqual(s["write_iops"], 0.0)
        self.assertEqual(s["job_runtime_ms"], 8003)

    def test_plain_json_and_several_jobs_are_summed(self):
        doc = ('{"jobs": [{"jobname": "a", "error": 0, "job_runtime": 1000,'
               ' "read": {"total_ios": 10, "iops": 10.0, "bw_bytes": 40960},'
               ' "write": {"total_ios": 5, "iops": 5.0, "bw_bytes": 20480}},'
               ' {"jobname": "b", "error": 0, "job_runtime": 1000,'
               ' "read": {"total_ios": 1, "iops": 1.0, "bw_bytes": 4096}, "write": {}}]}\n')
        s = fio.summarize(fio.extract_json(doc))
        self.assertEqual(s["ios"], 16)
        self.assertEqual(s["iops"], 16.0)
        self.assertEqual(s["bw_bytes"], 65536)
        self.assertEqual(s["write_iops"], 5.0)

    def test_job_error_raises(self):
        doc = '{"jobs": [{"jobname": "a", "error": 5, "read": {"total_ios": 3}}]}'
        with self.assertRaisesRegex(fio.FioError, "error 5"):
            fio.summarize(fio.extract_json(doc))

    def test_no_io_raises(self):
        doc = '{"jobs": [{"jobname": "a", "error": 0, "read": {"total_ios": 0}, "write": {"total_ios": 0}}]}'
        with self.assertRaisesRegex(fio.FioError, "no I/O"):
            fio.summarize(fio.extract_json(doc))

    def test_garbage_raises(self):
        with self.assertRaises(fio.FioError):
            fio.extract_json("fio: nbd_connect_uri: connect: No such file or directory\n")
        with self.assertRaises(fio.FioError):
            fio.extract_json("x\n{ not json")

    def test_runtime_goes_in_milliseconds(self):
        # fio parses "0.3s" as 0, which with time_based means "until the device is covered"
        self.assertEqual(fio.runtime_ms(0.3), 300)
        self.assertEqual(fio.runtime_ms(0.0001), 1)
        cmd = fio.command("fio", "nbd://127.0.0.1:1/x", "randread", "4k", 32, 0.3, jobs=4)
        self.assertIn("--runtime=300ms", cmd)
        self.assertIn("--numjobs=4", cmd)
        self.assertIn("--group_reporting", cmd)
        self.assertIn("--ioengine=nbd", cmd)
        self.assertNotIn("--numjobs=1", fio.command("fio", "u", "read", "1m", 4, 1))

    def test_fixed_count_in_a_region(self):
        cmd = fio.command("fio", "u", "randwrite", "4k", 32, None, offset=65536, number_ios=100)
        self.assertIn("--number_ios=100", cmd)
        self.assertIn("--offset=65536", cmd)
        self.assertIn("--randrepeat=1", cmd)     # the same offsets for every server
        self.assertFalse(any(x.startswith(("--time_based", "--runtime", "--size")) for x in cmd))
        cmd = fio.command("fio", "u", "randwrite", "4k", 32, 1.0, size=4096)
        self.assertIn("--size=4096", cmd)
        self.assertIn("--time_based", cmd)
        with self.assertRaises(ValueError):
            fio.command("fio", "u", "randwrite", "4k", 32, 1.0, number_ios=1)

    def test_uri(self):
        self.assertEqual(fio.nbd_uri("unix", "disk0", "/t/s.nbd"), "nbd+unix:///disk0?socket=/t/s.nbd")
        self.assertEqual(fio.nbd_uri("tcp", "disk0", port=10809), "nbd://127.0.0.1:10809/disk0")
        with self.assertRaises(ValueError):
            fio.nbd_uri("vsock", "x")


if __name__ == "__main__":
    unittest.main()
