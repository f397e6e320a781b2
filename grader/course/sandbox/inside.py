"""The first process inside a sandbox: set the caps, open the one network path, run the payload.

    python -I -m course.sandbox.inside --limits JSON [--forward PORT=SOCKET ...] -- COMMAND...
    python -I -m course.sandbox.inside --limits JSON [--forward ...] --module MODULE -- ARGS...

The sandbox has a network namespace of its own, holding nothing but loopback. For each
``--forward``, a relay child listens on ``127.0.0.1:PORT`` inside it and carries every connection
to the backend's gate (a Unix socket bound in from outside), announcing the port in a first line;
the gate relays only to the backend's own ports. The same port number inside and outside keeps
every URL the backend hands out (mail links, Lambda's endpoint) valid in the sandbox.

Then the limits are set, soft and hard alike so the payload cannot raise them, and the payload
is ``exec``-ed, or, with ``--module``, run in this same interpreter (``runpy``), which saves a
second interpreter's start for a Python payload such as the kernel.

Written by hand: no library does this small relay, and it must start in milliseconds with
nothing but the standard library.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import runpy
import selectors
import socket
import sys

from course.sandbox.limits import ResourceLimits

CPU_GRACE = 5  # seconds between SIGXCPU (catchable) and SIGKILL


def apply_limits(limits: ResourceLimits) -> None:
    """Set every cap on this process; its children inherit them."""
    caps = {
        resource.RLIMIT_DATA: limits.memory,
        resource.RLIMIT_FSIZE: limits.file_size,
        resource.RLIMIT_NOFILE: limits.open_files,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_NPROC: limits.processes,
    }
    for which, value in caps.items():
        resource.setrlimit(which, (value, value))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + CPU_GRACE))


def _listen(port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    listener.setblocking(False)
    return listener


def relay(listeners: dict[socket.socket, tuple[int, str]]) -> None:
    """Carry bytes between local clients and the gate until the sandbox ends (never returns)."""
    selector = selectors.DefaultSelector()
    for listener in listeners:
        selector.register(listener, selectors.EVENT_READ, None)
    peers: dict[socket.socket, socket.socket] = {}

    def close(sock: socket.socket) -> None:
        for end in (sock, peers.pop(sock, None)):
            if end is None:
                continue
            peers.pop(end, None)
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(end)
            end.close()

    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock in listeners:
                port, gate_path = listeners[sock]
                try:
                    client, _ = sock.accept()
                except OSError:
                    continue
                gate = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    gate.connect(gate_path)
                    gate.sendall(f"{port}\n".encode())
                except OSError:
                    client.close()
                    gate.close()
                    continue
                peers[client], peers[gate] = gate, client
                selector.register(client, selectors.EVENT_READ, None)
                selector.register(gate, selectors.EVENT_READ, None)
                continue
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            other = peers.get(sock)
            if not data or other is None:
                close(sock)
                continue
            try:
                other.sendall(data)  # accepted and gate sockets block: a full peer waits
            except OSError:
                close(sock)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m course.sandbox.inside")
    parser.add_argument("--limits", required=True, help="ResourceLimits as JSON")
    parser.add_argument("--forward", action="append", default=[], metavar="PORT=SOCKET")
    parser.add_argument(
        "--module", help="run this Python module here, with COMMAND as its arguments"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command and not args.module:
        parser.error("no command to run")
    listeners = {}
    for spec in args.forward:
        port, _, path = spec.partition("=")
        listeners[_listen(int(port))] = (int(port), path)
    if listeners and os.fork() == 0:
        os.setsid()
        relay(listeners)
        os._exit(0)
    for listener in listeners:
        listener.close()
    apply_limits(ResourceLimits.from_json(args.limits))
    if args.module:
        sys.argv = [args.module, *command]
        runpy.run_module(args.module, run_name="__main__", alter_sys=True)
        return
    sys.stdout.flush()
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
