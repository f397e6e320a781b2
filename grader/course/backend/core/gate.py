"""The backend's gate: the one way in from a sandbox, a Unix socket relayed to the backend's ports.

A sandboxed kernel or Lambda handler has no network but loopback of its own. Its relay
(``course.sandbox.inside``) connects here and names, in a first line, the port it was reached
on; the gate relays the connection to that port on this machine's loopback only if it is one of
the backend's own (its HTTP API and its SMTP interface), and closes it otherwise. So a sandbox
reaches its own backend and nothing else: not other backends, not the grader, not the network.
Written by hand: the standard library's ``socketserver`` accepts, and two threads copy bytes.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import threading
from dataclasses import dataclass
from pathlib import Path

HEADER_LIMIT = 16


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def _read_port(sock: socket.socket) -> int | None:
    header = b""
    while not header.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk or len(header) >= HEADER_LIMIT:
            return None
        header += chunk
    try:
        return int(header)
    except ValueError:
        return None


class _Handler(socketserver.BaseRequestHandler):
    server: _GateServer

    def handle(self) -> None:
        self.request.settimeout(10)
        port = _read_port(self.request)
        if port is None or port not in self.server.ports:
            return
        self.request.settimeout(None)
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            return
        upstream.settimeout(None)
        back = threading.Thread(target=_pump, args=(upstream, self.request), daemon=True)
        back.start()
        _pump(self.request, upstream)
        back.join()
        upstream.close()


class _GateServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, gate: Gate) -> None:
        self.ports = frozenset(gate.ports)
        super().__init__(str(gate.path), _Handler)


@dataclass(frozen=True)
class Gate:
    """Where a backend's gate listens, and the backend ports it relays to."""

    path: Path
    ports: tuple[int, ...]


_OPENED: Gate | None = None


def open_gate(path: Path, ports: list[int]) -> _GateServer:
    """Serve the gate at ``path`` in a background thread; returns the server (``shutdown()``)."""
    global _OPENED
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    gate = Gate(path, tuple(ports))
    server = _GateServer(gate)
    os.chmod(path, 0o600)
    threading.Thread(target=server.serve_forever, name="gate", daemon=True).start()
    _OPENED = gate
    return server


def opened() -> Gate | None:
    """The gate this backend process serves, if any: sandboxes it starts (Lambda handlers) reach
    it the way a graded kernel does."""
    return _OPENED
