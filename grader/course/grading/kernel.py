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
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from ..sandbox.bwrap import RUN, Sandbox
from ..sandbox.cgroup import PidsCgroup
from ..sandbox.limits import ResourceLimits

KERNEL_NAME = "course-sandbox"
INSIDE_CONNECTION = f"{RUN}/kernel.json"
#: Imported at start-up, before the notebook is known; ``__import__`` binds no name.
WARM_UP = "__import__('boto3'); __import__('course.connection')"


class SandboxKernelManager(KernelManager):
    """A kernel manager for a kernel whose ipc folder lives inside its sandbox.

    Synchronous, so a kernel started in one thread can be run from another; its clients are
    nbclient's asynchronous ones.
    """

    def start_kernel(self, **kwargs: Any) -> None:
        try:
            super().start_kernel(**kwargs)
        finally:
            if self.has_kernel:
                folder = Path(self.ip).parent
                with contextlib.suppress(FileNotFoundError):
                    folder.unlink()
                folder.symlink_to(f"/proc/{self.sandbox_pid()}/root{folder}")

    def sandbox_pid(self, timeout: float = 10.0) -> int:
        """The host PID of bubblewrap's first child, whose root is the sandbox's."""
        launched = self.provisioner.process.pid  # type: ignore[union-attr]
        children = Path(f"/proc/{launched}/task/{launched}/children")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                found = children.read_text().split()
            except OSError:
                found = []
            if found:
                return int(found[0])
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
    cgroup: PidsCgroup | None
    limits: ResourceLimits

    @classmethod
    def start(cls, sandbox: Sandbox) -> SandboxedKernel:
        """Start a kernel in ``sandbox`` (its ``env`` is the kernel's whole environment)."""
        state_dir = Path(tempfile.mkdtemp(prefix="course-kernel-state-"))
        cgroup = PidsCgroup.create(sandbox.limits.processes)
        ipc_dir = f"/tmp/course-kernel-{secrets.token_hex(8)}"
        sandbox.ro_binds.append(("{connection_file}", INSIDE_CONNECTION))
        sandbox.dirs.append(ipc_dir)
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", INSIDE_CONNECTION]
        # History in memory: no SQLite file per kernel, as nbclient asks of kernels it starts.
        options = [
            f"--IPKernelApp.exec_lines={json.dumps([WARM_UP])}",
            "--HistoryManager.hist_file=:memory:",
        ]
        argv = sandbox.argv([*kernel, *options])
        if cgroup is not None:
            argv = cgroup.wrap(argv)
        spec_dir = state_dir / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": argv,
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
            client_class="jupyter_client.asynchronous.AsyncKernelClient",
        )
        kernel_ = cls(km, state_dir, cgroup, sandbox.limits)
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
        with contextlib.suppress(OSError):
            Path(self.km.ip).parent.unlink()
        if self.cgroup is not None:
            self.cgroup.remove()
        shutil.rmtree(self.state_dir, ignore_errors=True)
