"""The caps a sandboxed submission runs under, and how a breach of each reads in its feedback.

Memory, processes, file size and CPU time are POSIX rlimits set inside the sandbox before any
submitted code runs (soft and hard alike, so the code cannot raise them); temporary disk is the
size of the sandbox's only writable file system (a tmpfs). A root grader is not bound by
``RLIMIT_NPROC``, so there the process cap is a pids cgroup instead (``cgroup.py``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True)
class ResourceLimits:
    """What one sandbox may use. Sizes are bytes; ``processes`` counts threads too."""

    memory: int = 2 * GIB
    processes: int = 256
    file_size: int = 64 * MIB
    disk: int = 256 * MIB
    cpu_seconds: int = 600
    open_files: int = 1024

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ResourceLimits:
        return cls(**json.loads(text))


def size_text(size: int) -> str:
    """``2 GiB``, ``64 MiB``: a size as a person reads it."""
    if size >= GIB and size % GIB == 0:
        return f"{size // GIB} GiB"
    if size >= GIB:
        return f"{size / GIB:.1f} GiB"
    return f"{size / MIB:g} MiB"


def parse_size(text: str) -> int:
    """Bytes from ``512M``, ``2G``, ``2GiB``, ``1048576``; ValueError with the accepted forms."""
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1 << 10, "M": MIB, "G": GIB}
    try:
        if value and value[-1] in units:
            number = float(value[:-1]) * units[value[-1]]
        else:
            number = float(value)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (use e.g. 512M, 2G or a number of bytes)") from None
    if number <= 0:
        raise ValueError(f"a size must be positive, not {text!r}")
    return int(number)


def breach_of(ename: str, evalue: str) -> str | None:
    """Which cap a cell's error shows was hit (``memory``, ``disk``, ...), or None.

    Python reports each rlimit as an ordinary exception: MemoryError for the data limit,
    ``EFBIG`` (errno 27) for the file-size limit (CPython ignores SIGXFSZ), ``ENOSPC``
    (errno 28) when the tmpfs is full and ``EAGAIN`` (errno 11) from fork at the process cap.
    """
    if ename == "MemoryError":
        return "memory"
    if "[Errno 27]" in evalue or "File too large" in evalue:
        return "file_size"
    if "[Errno 28]" in evalue or "No space left on device" in evalue:
        return "disk"
    if ename in ("BlockingIOError", "OSError", "RuntimeError") and (
        "[Errno 11]" in evalue or "can't start new thread" in evalue
    ):
        return "processes"
    return None


def breach_message(kind: str, limits: ResourceLimits) -> str:
    """The feedback line for a breach of cap ``kind``."""
    return {
        "memory": f"the kernel asked for more than its {size_text(limits.memory)} of memory",
        "file_size": f"a file grew past the {size_text(limits.file_size)} file-size limit",
        "disk": f"the sandbox's {size_text(limits.disk)} of temporary disk filled up",
        "processes": f"the kernel reached its limit of {limits.processes} processes and threads",
        "cpu": f"the kernel used more than its {limits.cpu_seconds} s of CPU time",
    }[kind]
