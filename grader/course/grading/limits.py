"""What a graded submission may take: time per cell and in all, output, and its sandbox's caps.

Kept apart from ``execute`` (which brings nbclient) so that the command line can take its
options' defaults from here without loading a notebook runner first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from course.sandbox.limits import ResourceLimits


@dataclass(frozen=True)
class Limits:
    """How long and how loud a submission may be, and (in a sandbox) what it may use."""

    cell_timeout: float = 120.0
    total_timeout: float = 900.0
    output_bytes: int = 2_000_000
    resources: ResourceLimits = field(default_factory=ResourceLimits)
    #: How many times faster than the wall clock the submission's time runs (kernel and
    #: backend alike); None takes the lab's own (``Lab.time_scale``), 1 is real time.
    time_scale: float | None = None
