"""A pids cgroup per sandbox, for graders that run as root.

``RLIMIT_NPROC`` does not bind a process whose real user is root outside the sandbox (the kernel
exempts ``INIT_USER``), so a root grader caps processes with the pids controller instead, on
cgroup v1 (``/sys/fs/cgroup/pids``) or v2 (``/sys/fs/cgroup`` with ``pids`` delegated). Where
neither is writable the rlimit is all there is, and ``PidsCgroup.create`` returns None.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


def _writable_root() -> Path | None:
    if os.geteuid() != 0:
        return None
    for root in ROOTS:
        if not (root / "cgroup.procs").exists() or not os.access(root, os.W_OK):
            continue
        controllers = root / "cgroup.subtree_control"
        if controllers.exists() and "pids" not in controllers.read_text().split():
            continue  # v2 without the pids controller delegated below the root
        return root
    return None


@dataclass
class PidsCgroup:
    """One sandbox's cgroup: at most ``limit`` tasks (processes and threads) at once."""

    path: Path
    limit: int

    @classmethod
    def create(cls, limit: int) -> PidsCgroup | None:
        """A new cgroup capped at ``limit`` tasks, or None where this grader cannot make one."""
        root = _writable_root()
        if root is None:
            return None
        path = root / f"course-sandbox-{secrets.token_hex(6)}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(limit))
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            return None
        return cls(path, limit)

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` started inside this cgroup (the shell joins it, then becomes ``argv``)."""
        join = 'echo $$ > "$0/cgroup.procs" && exec "$@"'
        return ["/bin/sh", "-c", join, str(self.path), *argv]

    def refusals(self) -> int:
        """How many times a fork or thread was refused at the cap."""
        try:
            for line in (self.path / "pids.events").read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "max":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def remove(self) -> None:
        """Kill whatever is left in the cgroup and remove it."""
        with contextlib.suppress(OSError):
            for pid in (self.path / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    os.kill(int(pid), 9)
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.02)
