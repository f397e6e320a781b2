"""Which notebook cell made each recorded API call, and whether that cell raised.

A check that says "the notebook handled the error" needs more than the flow: a graded notebook
runs on after a failing cell, so a refused call looks the same whether a ``try/except`` caught
it or the cell crashed on it. The cell record says, per executed code cell, which flow sequence
numbers its calls got and whether the cell raised.

It is built from *marks*: the flow's last sequence number when recording began, then, after
each cell, that cell's number, the flow's last sequence number, whether it raised and the
error. Two places take them, and both build the record with ``CellRecord.from_marks``:

- the grader, in its own process, through nbclient's cell hooks
  (``course.grading.execute.NotebookRun``); a cell's number counts code cells from 1;
- a student's kernel, through IPython's ``post_run_cell`` event, registered by ``connect()``
  (or the first ``check()``) in ``course.connection``; a cell's number is its execution count.

A cell's range runs from the mark after the previous cell to the mark after it, so a call a
background thread makes between two cells lands in the later cell's range, and a thread's own
uncaught exception does not make its cell "raise" (Python prints it and the cell goes on).
Where there is no record (plain Python, ``course check`` from a shell, a real account), or a
call falls outside it (made before the kernel started recording), the checks that need it say
"not checkable" rather than guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from course.cellwatch import CellMark, cell_marks
from course.checks.api import CheckFailed, NotCheckable
from course.flow import ApiCall

#: A sequence number above any the flow will reach: the end of a cell still running.
OPEN_END = 2**62


@dataclass(frozen=True)
class CellRun:
    """One executed code cell: the flow sequence numbers its calls got (``first_seq`` to
    ``last_seq``, both included; empty when ``first_seq > last_seq``), whether it raised, and
    its error as ``Name: message`` (None when it did not raise, or the error is unknown)."""

    index: int
    first_seq: int
    last_seq: int
    raised: bool
    error: str | None = None

    def holds(self, call: ApiCall) -> bool:
        """Whether ``call`` got a sequence number in this cell's range."""
        return self.first_seq <= call.seq <= self.last_seq

    def raised_on(self, call: ApiCall) -> bool:
        """Whether this cell raised, and (when its error is known) the error is ``call``'s own
        AWS error: a cell that caught the refusal and later raised something else handled it."""
        if not self.raised:
            return False
        if not self.error or not call.error_code:
            return True
        return call.error_code in self.error or call.action in self.error


@dataclass(frozen=True)
class CellRecord:
    """The executed code cells of one run, in order (see the module's docstring)."""

    runs: tuple[CellRun, ...] = field(default_factory=tuple)

    @classmethod
    def from_marks(cls, start: int | None, marks: Sequence[CellMark]) -> CellRecord:
        """The record the marks describe: each cell's range runs from the previous mark (or
        ``start``) to its own. A mark that could not be read (None) ends the record there, as
        later ranges would be wrong; a mark below the previous one means the backend was reset,
        and the record starts again from it."""
        runs: list[CellRun] = []
        last = start
        for index, mark, raised, error in marks:
            if last is None or mark is None:
                break
            if mark < last:  # the backend's flow was wiped: what came before is gone
                runs, last = [], -1
            runs.append(CellRun(index, last + 1, mark, raised, error))
            last = mark
        return cls(tuple(runs))

    def cell_of(self, call: ApiCall) -> CellRun | None:
        """The cell whose range holds ``call``, or None when no recorded cell made it."""
        for run in self.runs:
            if run.holds(call):
                return run
        return None

    def with_running_cell(self, index: int = 0) -> CellRecord:
        """This record plus the cell that is running now (in a kernel, the one calling
        ``check()``): every call after the last mark is its, and it has not raised so far."""
        start = self.runs[-1].last_seq + 1 if self.runs else 0
        return CellRecord((*self.runs, CellRun(index, start, OPEN_END, False)))


def kernel_record() -> CellRecord | None:
    """The record of this kernel's cells since ``connect()`` (or the first ``check()``), with
    the running cell last; None when this process is not an IPython kernel recording them."""
    start, marks = cell_marks()
    if start is None:
        return None
    record = CellRecord.from_marks(start, marks)
    if any(mark is None for _, mark, _, _ in marks):
        return record  # the record ended at a mark it could not read: later calls are unknown
    return record.with_running_cell(marks[-1][0] + 1 if marks else 0)


@dataclass(frozen=True)
class ByCell:
    """Calls sorted by what their cells did: ``handled`` (the cell did not raise on them),
    ``crashed`` (the cell raised on them) and ``unknown`` (no cell record holds them)."""

    handled: list[ApiCall]
    crashed: list[tuple[ApiCall, CellRun]]
    unknown: list[ApiCall]


def by_cell(record: CellRecord | None, calls: Iterable[ApiCall]) -> ByCell:
    """Sort ``calls`` by whether the cell that made each one raised on it."""
    handled: list[ApiCall] = []
    crashed: list[tuple[ApiCall, CellRun]] = []
    unknown: list[ApiCall] = []
    for call in calls:
        run = record.cell_of(call) if record is not None else None
        if run is None:
            unknown.append(call)
        elif run.raised_on(call):
            crashed.append((call, run))
        else:
            handled.append(call)
    return ByCell(handled, crashed, unknown)


def require_handled(record: CellRecord | None, calls: Iterable[ApiCall], what: str) -> None:
    """Return when a cell made one of the refused ``calls`` and did not fail on it; else raise
    ``CheckFailed`` naming the cell that failed on it (and saying to catch ``ClientError``), or
    ``NotCheckable`` when no cell record holds any of them. ``what`` names the refusal
    ("SES rejected the send to ...")."""
    cells = by_cell(record, calls)
    if cells.handled:
        return
    if cells.crashed:
        _, run = cells.crashed[-1]
        raise CheckFailed(
            f"{what}, but cell {run.index} failed on it ({run.error or 'it raised'}): catch "
            "botocore's ClientError (try/except) so the notebook handles it and goes on"
        )
    raise NotCheckable(
        f"{what}, but whether the notebook caught the error is known only from its cells: "
        "run check() in the notebook after that cell, or grade the notebook"
    )
