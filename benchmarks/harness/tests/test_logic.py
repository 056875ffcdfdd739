"""Workload catalogue, summaries, command lines of every server, dependencies, arguments."""
import contextlib
import io
import json
import unittest

from isthmus_compare import cli, deps, runner, servers, vhostfe, workloads as wl


class WorkloadsTest(unittest.TestCase):
    def test_catalogue(self):
        ws = wl.all_workloads()
        names = [w.name for w in ws]
        self.assertEqual(len(names), len(set(names)))
        nbd = [w for w in ws if w.kind == "fio"]
        # transports x raw backends x patterns + 4-connection ones + throttle (2) + qcow2 (4) + qcow2alloc (1)
        self.assertEqual(len(nbd), 2 * 2 * 6 + 4 + 2 + 4 + 1)
        for w in nbd:
            self.assertEqual(w.jobs, 4 if w.name.endswith("-4conn") else 1)
            self.assertEqual(w.setup.iothreads, w.name.endswith("-4conn"))
            self.assertEqual(w.setup.fresh_image, w.name.startswith("nbd-unix-qcow2alloc-"))
        qcow2 = [w.name for w in wl.select(["nbd-unix-qcow2*"])]
        self.assertEqual(qcow2, ["nbd-unix-qcow2-randread-4k-qd1", "nbd-unix-qcow2-randread-4k-qd32",
                                 "nbd-unix-qcow2-randwrite-4k-qd32", "nbd-unix-qcow2-seqread-1m-qd4",
                                 "nbd-unix-qcow2alloc-randwrite-4k-qd32"])
        self.assertTrue(set(qcow2) <= set(wl.default_names()))
        self.assertTrue(all(not w.available for w in ws if w.name.startswith("fuse-")))
        self.assertNotIn("fuse-file-randread-4k-qd32", wl.default_names())

    def test_throttle_rows(self):
        th = [w for w in wl.all_workloads() if w.setup.throttle]
        self.assertEqual([w.name for w in th], ["nbd-unix-null-randread-4k-qd32-throttle",
                                                "nbd-unix-null-randwrite-4k-qd32-throttle"])
        plain = {w.name: w for w in wl.all_workloads()}
        for w in th:
            # the same row as the plain one but for the filter
            p = plain[w.name[:-len("-throttle")]]
            self.assertEqual((w.kind, w.rw, w.bs, w.iodepth, w.jobs, w.unit),
                             (p.kind, p.rw, p.bs, p.iodepth, p.jobs, p.unit))
            self.assertEqual(w.setup, wl.Setup("unix", "null", throttle=True))
            self.assertEqual(w.setup.key, "unix-null-throttle")
            self.assertTrue(w.available)
        self.assertTrue({w.name for w in th} <= set(wl.default_names()))

    def test_vhost_user_blk_rows(self):
        vh = [w for w in wl.all_workloads() if w.kind == "vhost"]
        self.assertEqual([w.name for w in vh], [
            "vhost-user-blk-null-randread-4k-qd32", "vhost-user-blk-null-randwrite-4k-qd32",
            "vhost-user-blk-null-randread-4k-qd32-2q", "vhost-user-blk-null-randwrite-4k-qd32-2q",
            "vhost-user-blk-file-randread-4k-qd32", "vhost-user-blk-file-randwrite-4k-qd32",
            "vhost-user-blk-file-randread-4k-qd32-2q", "vhost-user-blk-file-randwrite-4k-qd32-2q"])
        for w in vh:
            two = w.name.endswith("-2q")
            self.assertTrue(w.available and w.setup.vhost)
            self.assertEqual((w.setup.queues, w.jobs, w.setup.iothreads), (2, 2, True) if two else (1, 1, False))
            self.assertEqual((w.bs, w.iodepth, w.unit), ("4k", 32, "IOPS"))
            self.assertTrue(w.setup.key.endswith("-2q" if two else "-1q"))
        self.assertTrue({w.name for w in vh} <= set(wl.default_names()))

    def test_select_globs_in_catalogue_order(self):
        got = [w.name for w in wl.select(["startup-*", "nbd-tcp-null-seq*"])]
        self.assertEqual(got, ["nbd-tcp-null-seqread-1m-qd4", "nbd-tcp-null-seqwrite-1m-qd4",
                               "startup-greeting", "startup-idle-rss"])

    def test_select_unknown_pattern(self):
        with self.assertRaisesRegex(ValueError, "nbd-nope"):
            wl.select(["nbd-nope"])


def rec(ok, value=None, cpu=None, rss=None):
    return {"ok": ok, "value": value, "cpu_per_op": cpu, "peak_rss": rss}


class SummaryTest(unittest.TestCase):
    def test_medians_and_ratios(self):
        w = wl.select(["nbd-unix-null-randread-4k-qd32"])
        records = {w[0].name: {
            "qsd": [rec(True, 200.0, 5e-6, 10), rec(True, 210.0, 4e-6, 12), rec(True, 190.0, 6e-6, 11)],
            "isthmus": [rec(True, 300.0, 2e-6, 30), rec(False), rec(True, 320.0, 3e-6, 40)],
        }}
        s = runner.summarize(w, ["qsd", "isthmus"], records)
        self.assertEqual(s["reference"], "qsd")
        q, i = s["rows"][0]["cells"]["qsd"], s["rows"][0]["cells"]["isthmus"]
        self.assertEqual((q["median"], q["cpu_per_op"], q["peak_rss"]), (200.0, 5e-6, 11.0))
        self.assertEqual((i["median"], i["ok"], i["rounds"]), (310.0, 2, 3))
        self.assertAlmostEqual(i["ratio"], 1.55)
        self.assertAlmostEqual(i["cpu_ratio"], 0.5)
        self.assertIsNone(q["ratio"])

    def test_all_failed_and_no_reference(self):
        w = wl.select(["startup-greeting"])
        s = runner.summarize(w, ["isthmus"], {"startup-greeting": {"isthmus": [rec(False)]}})
        self.assertIsNone(s["reference"])
        c = s["rows"][0]["cells"]["isthmus"]
        self.assertEqual((c["median"], c["ok"], c["rounds"]), (None, 0, 1))
        json.dumps(s)   # the summary goes into the JSON result as it is

    def test_skipped_cells(self):
        w = wl.select(["nbd-unix-qcow2-randread-4k-qd1"])
        records = {w[0].name: {"qsd": [rec(True, 100.0, 1e-5, 10)], "nbdkit": []}}
        s = runner.summarize(w, ["qsd", "nbdkit"], records, skipped={w[0].name: {"nbdkit": "no qcow2"}})
        c = s["rows"][0]["cells"]["nbdkit"]
        self.assertEqual((c["skipped"], c["median"], c["ratio"]), ("no qcow2", None, None))
        self.assertNotIn("skipped", s["rows"][0]["cells"]["qsd"])

    def test_alloc_regions(self):
        warm, offset, count = runner.alloc_regions(1 << 30)
        self.assertEqual((warm, offset, count), (64 << 20, 64 << 20, 16384 - 1024))
        self.assertEqual(runner.alloc_regions(64 << 10), (64 << 10, 64 << 10, 1))

    def test_pending_row(self):
        s = runner.summarize(wl.select(["fuse-file-randread-4k-qd32"]), ["qsd"], {})
        self.assertIn("FUSE", s["rows"][0]["pending"])


class CommandLineTest(unittest.TestCase):
    def ctx(self, setup, **kw):
        return servers.StartContext(setup=setup, run_dir="/r", tag="t-1", image="/r/dense.img",
                                    image_size=1 << 30, iothreads=kw.get("iothreads", 2), port=10809)

    def test_qsd_and_isthmus_get_the_same_command_line(self):
        qsd = servers.QemuStyle("qsd", "qemu-storage-daemon", iothread_list=False)
        ist = servers.QemuStyle("isthmus", "/repo/bin/isthmus", iothread_list=True)
        for setup in (wl.Setup("unix", "null"), wl.Setup("tcp", "file"), wl.Setup("unix", "file", readonly=True)):
            self.assertEqual(qsd.argv(self.ctx(setup))[1:], ist.argv(self.ctx(setup))[1:])
        a = qsd.argv(self.ctx(wl.Setup("unix", "null")))
        self.assertEqual(a, ["qemu-storage-daemon",
                             "--blockdev", "driver=null-co,node-name=disk0,size=1073741824",
                             "--nbd-server", "addr.type=unix,addr.path=/r/t-1.nbd",
                             "--export", "type=nbd,id=exp0,node-name=disk0,name=disk0,writable=on",
                             "--chardev", "socket,id=qmp0,path=/r/t-1.qmp,server=on,wait=off",
                             "--monitor", "chardev=qmp0"])
        t = qsd.argv(self.ctx(wl.Setup("tcp", "file", readonly=True)))
        self.assertIn("driver=file,node-name=disk0,filename=/r/dense.img", t)
        self.assertIn("addr.type=inet,addr.host=127.0.0.1,addr.port=10809", t)
        self.assertIn("type=nbd,id=exp0,node-name=disk0,name=disk0,writable=off", t)

    def test_throttle_command_line(self):
        qsd = servers.QemuStyle("qsd", "qemu-storage-daemon", iothread_list=False)
        ist = servers.QemuStyle("isthmus", "/repo/bin/isthmus", iothread_list=True)
        setup = wl.Setup("unix", "null", throttle=True)
        self.assertEqual(qsd.argv(self.ctx(setup))[1:], ist.argv(self.ctx(setup))[1:])
        self.assertEqual(qsd.argv(self.ctx(setup)), ["qemu-storage-daemon",
                         "--blockdev", "driver=null-co,node-name=disk0-base,size=1073741824",
                         "--object", "throttle-group,id=tg0",
                         "--blockdev", "driver=throttle,node-name=disk0,throttle-group=tg0,file=disk0-base",
                         "--nbd-server", "addr.type=unix,addr.path=/r/t-1.nbd",
                         "--export", "type=nbd,id=exp0,node-name=disk0,name=disk0,writable=on",
                         "--chardev", "socket,id=qmp0,path=/r/t-1.qmp,server=on,wait=off",
                         "--monitor", "chardev=qmp0"])
        for ref in (servers.Nbdkit("nbdkit"), servers.Ceiling("/r/ceiling")):
            self.assertIn("no throttle filter", ref.cannot_serve(setup))

    def test_nbdcopy_warm_up_reads_like_nbdcopy(self):
        r = runner.Runner(runner.Settings(warmup=1.5), [], [], "/r")
        argv = r.nbdcopy_warm_up_command("nbd+unix:///disk0?socket=/r/t-1.nbd")
        self.assertIn("--rw=read", argv)
        self.assertIn("--bs=256k", argv)
        self.assertIn("--iodepth=64", argv)
        self.assertIn("--numjobs=2", argv)
        self.assertIn("--runtime=1500ms", argv)

    def test_iothreads(self):
        setup = wl.Setup("unix", "null", iothreads=True)
        ist = servers.QemuStyle("isthmus", "isthmus", iothread_list=True).argv(self.ctx(setup, iothreads=3))
        self.assertEqual([ist[i + 1] for i, x in enumerate(ist) if x == "--object"],
                         ["iothread,id=io0", "iothread,id=io1", "iothread,id=io2"])
        export = json.loads(ist[ist.index("--export") + 1])
        self.assertEqual(export["iothread"], ["io0", "io1", "io2"])
        self.assertEqual(export["writable"], True)
        one = servers.QemuStyle("qsd", "q", iothread_list=False, single_iothread=True).argv(self.ctx(setup))
        self.assertEqual(one.count("--object"), 1)
        self.assertTrue(one[one.index("--export") + 1].endswith(",iothread=io0"))
        none = servers.QemuStyle("qsd", "q", iothread_list=False, single_iothread=False).argv(self.ctx(setup))
        self.assertNotIn("--object", none)
        self.assertNotIn("iothread", " ".join(none))

    def test_qcow2(self):
        qsd = servers.QemuStyle("qsd", "qemu-storage-daemon", iothread_list=False)
        ist = servers.QemuStyle("isthmus", "/repo/bin/isthmus", iothread_list=True)
        for backend in ("qcow2", "qcow2alloc"):
            ctx = self.ctx(wl.Setup("unix", backend))
            ctx.image = "/r/a,b.qcow2"
            a = qsd.argv(ctx)
            self.assertEqual(a[1:], ist.argv(ctx)[1:])
            self.assertEqual(a[a.index("--blockdev") + 1],
                             "driver=qcow2,node-name=disk0,file.driver=file,file.filename=/r/a,,b.qcow2")
            self.assertIsNone(qsd.cannot_serve(ctx.setup))
            for ref in (servers.Nbdkit("nbdkit"), servers.Ceiling("/r/ceiling")):
                self.assertIn(backend, ref.cannot_serve(ctx.setup))
        for setup in (wl.Setup("unix", "null"), wl.Setup("tcp", "file", readonly=True)):
            self.assertIsNone(servers.Nbdkit("nbdkit").cannot_serve(setup))
            self.assertIsNone(servers.Ceiling("/r/ceiling").cannot_serve(setup))

    def test_vhost_user_blk_command_lines(self):
        qsd = servers.QemuStyle("qsd", "qemu-storage-daemon", iothread_list=False)
        ist = servers.QemuStyle("isthmus", "/repo/bin/isthmus", iothread_list=True)
        one = self.ctx(wl.Setup(wl.VHOST, "null", queues=1))
        self.assertEqual(qsd.argv(one)[1:], ist.argv(one)[1:])
        self.assertEqual(qsd.argv(one), [
            "qemu-storage-daemon", "--blockdev", "driver=null-co,node-name=disk0,size=1073741824",
            "--export", "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=/r/t-1.vhost,"
                        "writable=on,num-queues=1",
            "--chardev", "socket,id=qmp0,path=/r/t-1.qmp,server=on,wait=off", "--monitor", "chardev=qmp0"])
        two = self.ctx(wl.Setup(wl.VHOST, "file", iothreads=True, queues=2), iothreads=4)
        q = qsd.argv(two)
        self.assertNotIn("--nbd-server", q)
        self.assertIn("driver=file,node-name=disk0,filename=/r/dense.img", q)
        self.assertEqual([q[i + 1] for i, x in enumerate(q) if x == "--object"], ["iothread,id=io0"])
        self.assertTrue(q[q.index("--export") + 1].endswith(",num-queues=2,iothread=io0"))
        # QSD gets its one IoThread here even when NBD setups give it none (--qsd-iothread none)
        none = servers.QemuStyle("qsd", "q", iothread_list=False, single_iothread=False).argv(two)
        self.assertEqual(none.count("--object"), 1)
        i = ist.argv(two)
        self.assertEqual([i[k + 1] for k, x in enumerate(i) if x == "--object"],
                         ["iothread,id=io0", "iothread,id=io1"])   # one per queue, not --iothreads
        export = json.loads(i[i.index("--export") + 1])
        self.assertEqual(export, {"type": "vhost-user-blk", "id": "exp0", "node-name": "disk0",
                                  "addr": {"type": "unix", "path": "/r/t-1.vhost"}, "writable": True,
                                  "num-queues": 2, "iothread": ["io0", "io1"]})
        for ref in (servers.Nbdkit("nbdkit"), servers.Ceiling("/r/ceiling")):
            self.assertIn("NBD only", ref.cannot_serve(two.setup))

    def test_frontend_command_and_result(self):
        argv = vhostfe.command("/fe", "/r/t-1.vhost", "randwrite", "4k", 32, 2, 5.0, 1.0)
        self.assertEqual(argv, ["/fe", "--socket", "/r/t-1.vhost", "--queues", "2", "--depth", "32", "--bs", "4k",
                                "--rw", "randwrite", "--runtime", "5", "--ramp", "1", "--json"])
        good = ('note\n{"tool":"vhost-user-blk-fe","ios":900,"ios_total":1000,"iops":180.5,"errors":0,'
                '"mismatches":0,"ok":true,"failures":[]}\n')
        r = vhostfe.parse(good)
        self.assertEqual((r["iops"], r["ios_total"]), (180.5, 1000))
        for bad, text in ((good.replace('"errors":0', '"errors":3'), "3 I/O errors"),
                          (good.replace('"failures":[]', '"failures":["queue 0: stalled"]'), "stalled"),
                          (good.replace('"ios_total":1000', '"ios_total":0'), "no I/O"),
                          (good.replace('"ios":900', '"ios":0'), "no I/O"),
                          ("nothing\n", "no result")):
            with self.assertRaisesRegex(vhostfe.FrontEndError, text):
                vhostfe.parse(bad)

    def test_frontend_run_calls_back_at_the_marker(self):
        events = []
        script = ("echo setup >&2; echo '%s'; sleep 0.2; echo '{\"ios\":5,\"ios_total\":7}'; echo done >&2"
                  % vhostfe.MEASURING)
        rc, out, err, seen = vhostfe.run(["/bin/sh", "-c", script], 10, lambda: events.append(len(events)))
        self.assertEqual((rc, seen, events), (0, True, [0]))
        self.assertEqual(vhostfe.parse(out)["ios"], 5)
        self.assertEqual(err, "setup\ndone\n")
        rc, out, err, seen = vhostfe.run(["/bin/sh", "-c", "sleep 5"], 0.3, lambda: None)
        self.assertEqual((rc, seen), (None, False))

    def test_a_daemon_without_the_export_driver_is_not_available(self):
        logs = []
        r = runner.Runner(runner.Settings(), [], [], "/r", log=logs.append)
        group = [w for w in wl.all_workloads() if w.setup == wl.Setup(wl.VHOST, "null", queues=1)]
        ist = servers.QemuStyle("isthmus", "/repo/bin/isthmus", iothread_list=True)
        failure = ("isthmus failed to start", ["isthmus: --export ...: " + runner.NO_EXPORT_DRIVER])
        self.assertFalse(r._lacks_export(ist, wl.Setup("unix", "null"), failure, group, 1))
        self.assertFalse(r._lacks_export(ist, group[0].setup, ("isthmus failed to start", ["other"]), group, 1))
        self.assertTrue(r._lacks_export(ist, group[0].setup, failure, group, 1))
        self.assertIn("not available", r.skipped[group[0].name]["isthmus"])
        # every later vhost-user-blk setup is skipped without starting the daemon
        two = wl.Setup(wl.VHOST, "file", iothreads=True, queues=2)
        r.run_group(ist, two, [w for w in wl.all_workloads() if w.setup == two], 1)
        self.assertEqual(r.starts, 0)
        self.assertIn("not available", r.skipped["vhost-user-blk-file-randread-4k-qd32-2q"]["isthmus"])
        s = runner.summarize(group, ["qsd", "isthmus"], {}, skipped=r.skipped)
        self.assertIn("not available", s["rows"][0]["cells"]["isthmus"]["skipped"])

    def test_reference_servers(self):
        n = servers.Nbdkit("nbdkit").argv(self.ctx(wl.Setup("unix", "null")))
        self.assertEqual(n, ["nbdkit", "--foreground", "--exit-with-parent", "--pidfile", "/r/t-1.pid",
                             "--unix", "/r/t-1.nbd", "null", "size=1073741824"])
        n = servers.Nbdkit("nbdkit").argv(self.ctx(wl.Setup("tcp", "file", readonly=True)))
        self.assertEqual(n[-5:], ["--port", "10809", "--readonly", "file", "file=/r/dense.img"])
        c = servers.Ceiling("/r/ceiling").argv(self.ctx(wl.Setup("tcp", "null")))
        self.assertEqual(c, ["/r/ceiling", "-s", "1073741824", "-P", "/r/t-1.pid", "-p", "10809"])


class DepsTest(unittest.TestCase):
    def test_non_root_is_told_exactly_what_to_install(self):
        which = lambda t: None if t in ("fio", "nbdcopy", "qemu-storage-daemon") else "/usr/bin/" + t
        with self.assertRaises(deps.DepsError) as e:
            deps.ensure(["fio", "nbdcopy", "qemu-storage-daemon", "nbdkit"], log=lambda m: None,
                        which=which, is_root=False)
        self.assertIn("sudo apt-get install -y fio libnbd-bin qemu-system-common", str(e.exception))

    def test_nothing_missing(self):
        deps.ensure(["fio"], which=lambda t: "/usr/bin/fio", is_root=False)

    def test_qemu_img_needed_for_qcow2_only(self):
        self.assertIn("qemu-img", cli.needed_tools(["isthmus"], wl.select(["nbd-unix-qcow2alloc-*"])))
        self.assertNotIn("qemu-img", cli.needed_tools(["isthmus"], wl.select(["nbd-unix-file-*"])))
        self.assertEqual(deps.install_hint(["qemu-img"]), "sudo apt-get install -y qemu-utils")


class ArgsTest(unittest.TestCase):
    def test_quick_defaults(self):
        a = cli.parse_args(["--quick"])
        self.assertEqual((a.rounds, a.runtime, a.warmup), (1, 0.8, 1.0))
        a = cli.parse_args([])
        self.assertEqual((a.rounds, a.runtime, a.warmup), (3, 5.0, 1.0))
        self.assertEqual(cli.parse_args(["--quick", "--rounds", "2"]).rounds, 2)

    def test_sizes(self):
        self.assertEqual(cli.parse_size("1G"), 1 << 30)
        self.assertEqual(cli.parse_size("256MiB"), 256 << 20)
        self.assertEqual(cli.parse_size("4096"), 4096)
        for bad in ("1000", "x", "-4k"):
            with self.assertRaises(SystemExit):
                cli.parse_size(bad)

    def test_bad_servers_and_workloads_exit_2(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(cli.main(["--servers", "qsd,nope"]), 2)
            self.assertEqual(cli.main(["--servers", "qsd,qsd"]), 2)
            self.assertEqual(cli.main(["--workloads", "nbd-nope"]), 2)
        self.assertIn("--servers takes distinct names", err.getvalue())
        self.assertIn("no workload matches 'nbd-nope'", err.getvalue())


if __name__ == "__main__":
    unittest.main()
