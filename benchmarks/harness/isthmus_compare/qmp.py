"""A minimal QMP client: waits for the greeting (the readiness signal), negotiates
capabilities, sends commands. QMP messages are JSON objects, one per line."""
import json
import socket
import time


class QmpError(Exception):
    pass


class Qmp:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.greeting = None

    @classmethod
    def connect(cls, path, deadline, alive=lambda: True):
        """Connects to a UNIX socket that may not exist yet, polling until deadline
        (time.monotonic()) or until alive() says the daemon is gone. Returns the client and the
        monotonic time at which the greeting arrived."""
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
            if not alive():
                raise QmpError("daemon exited before its QMP socket accepted a connection")
            if time.monotonic() > deadline:
                raise QmpError("timed out waiting for the QMP socket")
            time.sleep(0.001)
        q = cls(s)
        while True:
            s.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
            try:
                msg = q._read_message()
                break
            except socket.timeout:
                if not alive():
                    q.close()
                    raise QmpError("daemon exited before sending the QMP greeting") from None
                if time.monotonic() > deadline:
                    q.close()
                    raise QmpError("timed out waiting for the QMP greeting") from None
        t = time.monotonic()
        if "QMP" not in msg:
            q.close()
            raise QmpError(f"first QMP message is not a greeting: {msg!r}")
        q.greeting = msg
        return q, t

    def _read_message(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QmpError("QMP connection closed")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        if not line.strip():
            return self._read_message()
        try:
            return json.loads(line)
        except ValueError:
            raise QmpError(f"QMP sent invalid JSON: {line[:200]!r}") from None

    def command(self, name, arguments=None, timeout=10.0):
        msg = {"execute": name}
        if arguments is not None:
            msg["arguments"] = arguments
        self.sock.settimeout(timeout)
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read_message()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise QmpError(f"{name}: {reply['error'].get('class')}: {reply['error'].get('desc')}")
            # an event: skip it

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
