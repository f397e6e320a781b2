"""A notebook's cells, simulated in the test process, for the checks that read the cell record.

``Notebook(backend)`` marks the flow as the grader does: ``with nb.cell():`` is one code cell;
an exception in it is swallowed (a graded notebook goes on after a failing cell) and recorded as
the cell having raised. ``results`` runs a lab's checks with the record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from course.backend.process import Backend
from course.cellwatch import CellMark
from course.checks.api import CheckResult, run_check
from course.checks.catalog import resolve_lab
from course.checks.cells import CellRecord
from course.checks.context import Aws
from course.client import BackendClient


class Notebook:
    """Code cells run in this process, with the flow marks the grader would take."""

    def __init__(self, backend: Backend) -> None:
        self.client = BackendClient(backend.url)
        self.start = self.client.flow_mark()
        self.marks: list[CellMark] = []

    @contextmanager
    def cell(self) -> Iterator[None]:
        """One code cell: what the block raises is recorded, not propagated."""
        raised, error = False, None
        try:
            yield
        except Exception as exc:
            raised, error = True, f"{type(exc).__name__}: {exc}"
        self.marks.append((len(self.marks) + 1, self.client.flow_mark(), raised, error))

    @property
    def record(self) -> CellRecord:
        return CellRecord.from_marks(self.start, self.marks)


def results(
    lab: str, backend: Backend, nb: Notebook | None, answers: dict[str, Any] | None = None
) -> dict[str, CheckResult]:
    """Every check of ``lab`` on ``backend`` with ``nb``'s cell record (none when None)."""
    aws = Aws(backend.url, answers=answers, cells=nb.record if nb else None)
    return {c.id: run_check(c, aws) for c in resolve_lab(lab).checks}
