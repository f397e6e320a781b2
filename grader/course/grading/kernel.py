"""A Jupyter kernel inside a sandbox, started ahead of time and driven by nbclient from outside.

The kernel has no network the grader shares, so it speaks ZeroMQ over Unix sockets (Jupyter's
``ipc`` transport) that it binds in a folder of its own tmpfs, ``/tmp/course-kernel-<token>``.
On the grader's side the same path is a symlink to that folder as seen through
``/proc/<pid>/root``, made as soon as the sandbox exists (ZeroMQ retries its connections until
then). So both sides use the connection file as it is, nothing the kernel writes lands on the
grader's disk, and the connection file is bound in read-only. Interrupts go as messages on the
control channel: no signal crosses the PID namespace.

A kernel can be started before its notebook is known (``SandboxedKernel.start``): it has
imported boto3 and the kit (without binding any name the notebook could see) and run nothing
else, so the grader starts the next submission's kernel while the current one runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from traitlets import default

from course.sandbox.bwrap import RUN, Launch, Sandbox
from course.sandbox.cgroup import PidsCgroup
from course.sandbox.limits import ResourceLimits
from course.timewarp import Dilation

KERNEL_NAME = "course-sandbox"
INSIDE_CONNECTION = f"{RUN}/kernel.json"
#: Imported at start-up, before the notebook is known; ``__import__`` binds no name. pyplot's
#: first import also builds matplotlib's font cache in the sandbox's fresh home: about a second
#: that a kernel started ahead takes off the next submission's time (labs plot timelines).
WARM_UP = "__import__('boto3'); __import__('course.connection'); __import__('matplotlib.pyplot')"


#: The largest message the grader takes from a kernel. One bigger (a cell printing 300 MB at
#: once) is dropped by ZeroMQ before it is read, instead of swelling the grader's memory; the
#: output budget (2 MB by default) then applies to what does arrive.
MAX_MESSAGE = 16 << 20


class BoundedKernelClient(AsyncKernelClient):
    """nbclient's client, with ZeroMQ sockets that refuse messages over ``MAX_MESSAGE``.

    ZeroMQ drops such a message by closing the connection (and reconnecting); ``dropped()``
    counts those closings, so the grader can say that output went missing and why.
    """

    _monitors: list[zmq.Socket[bytes]]

    @default("context")
    def _bounded_context(self) -> zmq.asyncio.Context:
        self._created_context = True
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE)
        return context

    def start_channels(self, *args: Any, **kwargs: Any) -> None:
        """Open the channels, and a monitor on the two that carry a cell's output and reply."""
        super().start_channels(*args, **kwargs)
        plain = zmq.Context.shadow(self.context.underlying)  # inproc needs the same context
        self._monitors = []
        for channel in (self.iopub_channel, self.shell_channel):
            address = f"inproc://course-monitor-{secrets.token_hex(8)}"
            channel.socket.monitor(address, zmq.EVENT_DISCONNECTED)
            monitor = plain.socket(zmq.PAIR)
            monitor.connect(address)
            self._monitors.append(monitor)

    def dropped(self) -> int:
        """How many times a channel lost its connection (an oversized message) since last asked."""
        count = 0
        for monitor in getattr(self, "_monitors", []):
            while monitor.poll(0):
                monitor.recv_multipart()
                count += 1
        return count

    def stop_channels(self) -> None:
        """Close the monitors, then the channels."""
        for monitor in getattr(self, "_monitors", []):
            monitor.close(linger=0)
        self._monitors = []
        super().stop_channels()


class SandboxKernelManager(KernelManager):
    """A kernel manager for a kernel whose ipc folder lives inside its sandbox.

    Synchronous, so a kernel started in one thread can be run from another; its clients are
    nbclient's asynchronous ones.
    """

    def start_kernel(self, **kwargs: Any) -> None:
        """Start the sandboxed kernel and link its ipc folder from this side."""
        try:
            super().start_kernel(**kwargs)
        finally:
            if self.has_kernel:
                folder = Path(self.ip).parent
                with contextlib.suppress(FileNotFoundError):
                    folder.unlink()
                folder.symlink_to(f"/proc/{self.sandbox_pid()}/root{folder}")

    # The grader-side link goes before the kernel does: what jupyter_client then removes by
    # path (the ipc sockets) must not be reached through a sandbox that could swap in links.
    def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        """Remove the link into the sandbox, then shut the kernel down."""
        self.remove_link()
        super().shutdown_kernel(now=now, restart=restart)

    def cleanup_resources(self, restart: bool = False) -> None:
        """Remove the link into the sandbox, then what jupyter_client left."""
        self.remove_link()
        super().cleanup_resources(restart)

    def remove_link(self) -> None:
        """Remove the grader-side symlink into the sandbox's ipc folder."""
        with contextlib.suppress(OSError):
            Path(self.ip).parent.unlink()

    def kernel_pid(self) -> int | None:
        """The kernel's host PID (the child of the sandbox's init), or None if it is gone."""
        try:
            sandbox = self.sandbox_pid(timeout=0)
            found = Path(f"/proc/{sandbox}/task/{sandbox}/children").read_text().split()
        except (OSError, RuntimeError, AttributeError):
            return None
        return int(found[0]) if found else None

    def sandbox_pid(self, timeout: float = 10.0) -> int:
        """The host PID of bubblewrap's first child, whose root is the sandbox's."""
        launched = self.provisioner.process.pid  # type: ignore[union-attr]
        children = Path(f"/proc/{launched}/task/{launched}/children")
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = children.read_text().split()
            except OSError:
                found = []
            if found:
                return int(found[0])
            if time.monotonic() >= deadline:
                break
            time.sleep(0.002)
        raise RuntimeError("the sandbox did not start its kernel")

    def exit_code(self) -> int | None:
        """bubblewrap's exit code once the kernel is gone (128 + signal if it was killed)."""
        process = getattr(self.provisioner, "process", None)
        return None if process is None else process.poll()


@dataclass
class SandboxedKernel:
    """A started kernel in its own sandbox, with the grader-side files and cgroup it owns."""

    km: SandboxKernelManager
    state_dir: Path
    launch: Launch
    limits: ResourceLimits

    @property
    def cgroup(self) -> PidsCgroup | None:
        """The pids cgroup the kernel's sandbox runs in, if the grader could make one."""
        return self.launch.cgroup

    @classmethod
    def start(cls, sandbox: Sandbox, dilation: Dilation | None = None) -> SandboxedKernel:
        """Start a kernel in ``sandbox`` (its ``env`` is the kernel's whole environment), on
        ``dilation``'s time if one is given."""
        state_dir = Path(tempfile.mkdtemp(prefix="course-kernel-state-"))
        ipc_dir = f"/tmp/course-kernel-{secrets.token_hex(8)}"
        sandbox.ro_binds.append(("{connection_file}", INSIDE_CONNECTION))
        sandbox.dirs.append(ipc_dir)
        # History in memory: no SQLite file per kernel, as nbclient asks of kernels it starts.
        options = [
            "-f",
            INSIDE_CONNECTION,
            f"--IPKernelApp.exec_lines={json.dumps([WARM_UP])}",
            "--HistoryManager.hist_file=:memory:",
            *(dilation.to_argv() if dilation else []),
        ]
        launch = sandbox.launch(options, module="course.sandbox.kernel")
        spec_dir = state_dir / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": launch.argv,
            "display_name": "Python 3 (grading sandbox)",
            "language": "python",
            "interrupt_mode": "message",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        km = SandboxKernelManager(
            kernel_name=KERNEL_NAME,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(state_dir / "kernels")]),
            transport="ipc",
            ip=f"{ipc_dir}/k",
            connection_file=str(state_dir / "connection.json"),
            client_class="course.grading.kernel.BoundedKernelClient",
        )
        kernel_ = cls(km, state_dir, launch, sandbox.limits)
        try:
            # The kernel's own stdout and stderr are its chatter; the student's go to iopub.
            km.start_kernel(
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                cwd=str(state_dir),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except Exception:
            kernel_.close()
            raise
        return kernel_

    def close(self) -> None:
        """Kill the kernel and its sandbox if still there; remove what it left on this side."""
        with contextlib.suppress(Exception):
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
        with contextlib.suppress(Exception):
            self.km.cleanup_resources()
        self.launch.done()
        shutil.rmtree(self.state_dir, ignore_errors=True)
