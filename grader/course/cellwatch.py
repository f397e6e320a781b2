"""Which notebook cell made each API call: flow marks taken after every cell of a kernel.

A flow mark is the sequence number of the last call the local backend recorded. Taken after each
cell, the marks split the flow into one range per cell; ``course.checks.cells`` reads them. The
grader takes its marks itself, through nbclient's hooks (``course.grading.execute``); in a
student's own kernel ``watch_cells`` takes them through IPython's ``post_run_cell`` event (one
local HTTP call per cell), started by ``connect()`` or the first ``check()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course.client import BackendClient

#: After one notebook cell: its execution count, the flow's last sequence number then (None if it
#: could not be read), whether the cell raised, and its error (``course.checks.cells`` reads these).
CellMark = tuple[int, int | None, bool, str | None]


def read_mark(marker: Callable[[], int] | None) -> int | None:
    """``marker()``, or None when there is none or the backend did not answer (the record of
    cells then ends there)."""
    try:
        return marker() if marker else None
    except (OSError, ValueError, KeyError):
        return None


class _CellWatch:
    """This kernel's flow marks, one after each cell, taken by IPython's ``post_run_cell``."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.marker = BackendClient(endpoint).flow_mark
        self.start = read_mark(self.marker)
        self.marks: list[CellMark] = []

    def after_cell(self, result: Any) -> None:
        error = result.error_in_exec or result.error_before_exec
        described = f"{type(error).__name__}: {error}" if error is not None else None
        count = result.execution_count or (self.marks[-1][0] + 1 if self.marks else 1)
        self.marks.append((count, read_mark(self.marker), error is not None, described))


_watch: _CellWatch | None = None


def watch_cells(endpoint: str | None) -> None:
    """In an IPython kernel on the local backend at ``endpoint``, note after each cell the flow
    mark and whether the cell raised; a no-op elsewhere, and when already watching that
    backend. ``cell_marks`` returns what was noted."""
    global _watch
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or endpoint is None or (_watch and _watch.endpoint == endpoint):
        return
    if _watch is not None:
        shell.events.unregister("post_run_cell", _watch.after_cell)
    _watch = _CellWatch(endpoint)
    shell.events.register("post_run_cell", _watch.after_cell)


def cell_marks() -> tuple[int | None, list[CellMark]]:
    """The flow mark when ``watch_cells`` began (None if it never did) and the marks since."""
    return (_watch.start, list(_watch.marks)) if _watch else (None, [])
