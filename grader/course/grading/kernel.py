"""A Jupyter kernel inside a sandbox, driven by nbclient from outside it.

The kernel has no network the grader shares, so it speaks ZeroMQ over Unix sockets (Jupyter's
``ipc`` transport) that it binds in a folder of its own tmpfs, ``/tmp/course-kernel-<token>``.
On the grader's side the same path is a symlink to that folder as seen through
``/proc/<pid>/root``, made as soon as the sandbox exists (ZeroMQ retries its connections until
then). So both sides use the connection file as it is, nothing the kernel writes lands on the
grader's disk, and the connection file is bound in read-only. Interrupts go as messages on the
control channel: no signal crosses the PID namespace.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from ..sandbox.bwrap import RUN, Sandbox
from ..sandbox.cgroup import PidsCgroup

KERNEL_NAME = "course-sandbox"
INSIDE_CONNECTION = f"{RUN}/kernel.json"


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager for a kernel whose ipc folder lives inside its sandbox."""

    async def start_kernel(self, **kwargs: Any) -> None:  # type: ignore[override]
        try:
            await super().start_kernel(**kwargs)
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

    def remove_link(self) -> None:
        """Remove the grader-side symlink to the (gone) sandbox's ipc folder."""
        with contextlib.suppress(OSError):
            Path(self.ip).parent.unlink()


def sandboxed_kernel_manager(
    sandbox: Sandbox, state_dir: Path, cgroup: PidsCgroup | None
) -> SandboxKernelManager:
    """A kernel manager that starts ``python -m ipykernel_launcher`` inside ``sandbox``."""
    ipc_dir = f"/tmp/course-kernel-{secrets.token_hex(8)}"
    sandbox.ro_binds.append(("{connection_file}", INSIDE_CONNECTION))
    sandbox.dirs.append(ipc_dir)
    argv = sandbox.argv([sys.executable, "-m", "ipykernel_launcher", "-f", INSIDE_CONNECTION])
    if cgroup is not None:
        argv = cgroup.wrap(argv)
    spec_dir = state_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": argv,
        "display_name": "Python 3 (grading sandbox)",
        "language": "python",
        "interrupt_mode": "message",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return SandboxKernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(state_dir / "kernels")]),
        transport="ipc",
        ip=f"{ipc_dir}/k",
        connection_file=str(state_dir / "connection.json"),
    )
