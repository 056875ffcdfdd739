import json
import os
import shutil
import socket
import tempfile
import threading
import time
import unittest

from isthmus_compare import daemon, qmp, servers, workloads as wl


class FakeMonitor:
    """A QMP server on a UNIX socket: greets, then answers qmp_capabilities with an error on the
    first `bad` connections (as a QSD that lost a byte of the command would) and with success after."""

    def __init__(self, path, bad):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.bad = bad
        self.connections = 0
        self.received = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with c:
                c.sendall(b'{"QMP": {"version": {}, "capabilities": ["oob"]}}\r\n')
                f = c.makefile("rb")
                line = f.readline()
                self.received.append(json.loads(line))
                if self.connections <= self.bad:
                    c.sendall(b'{"event": "X", "data": {}}\r\n{"error": {"class": "CommandNotFound", '
                              b'"desc": "Expecting capabilities negotiation with \'qmp_capabilities\'"}}\r\n')
                else:
                    c.sendall(b'{"return": {}}\r\n')
                    f.readline()   # hold the connection until the client closes it

    def close(self):
        self.sock.close()


class QmpTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="qmp-test-")
        self.path = os.path.join(self.dir, "m.qmp")
        self.ctx = servers.StartContext(setup=wl.Setup(), run_dir=self.dir, tag="t")
        del daemon.notes[:]

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_negotiation_is_retried_on_a_new_connection(self):
        mon = FakeMonitor(self.ctx.qmp_socket, bad=1)
        try:
            deadline = time.monotonic() + 10
            client, t = qmp.Qmp.connect(self.ctx.qmp_socket, deadline)
            self.assertIn("QMP", client.greeting)
            got = servers.negotiate(client, self.ctx, deadline, alive=lambda: True)
            self.assertIsNotNone(got)
            self.assertEqual(mon.connections, 2)
            self.assertEqual(mon.received, [{"execute": "qmp_capabilities"}] * 2)
            self.assertEqual(len(daemon.notes), 1)
            self.assertIn("CommandNotFound", daemon.notes[0])
            got.close()
        finally:
            mon.close()

    def test_negotiation_gives_up(self):
        mon = FakeMonitor(self.ctx.qmp_socket, bad=10)
        try:
            deadline = time.monotonic() + 10
            client, _ = qmp.Qmp.connect(self.ctx.qmp_socket, deadline)
            self.assertIsNone(servers.negotiate(client, self.ctx, deadline, alive=lambda: True, attempts=3))
            self.assertEqual(mon.connections, 3)
        finally:
            mon.close()

    def test_connect_notices_a_dead_daemon_and_a_deadline(self):
        with self.assertRaisesRegex(qmp.QmpError, "exited"):
            qmp.Qmp.connect(self.path, time.monotonic() + 10, alive=lambda: False)
        with self.assertRaisesRegex(qmp.QmpError, "timed out"):
            qmp.Qmp.connect(self.path, time.monotonic() + 0.05)


if __name__ == "__main__":
    unittest.main()
