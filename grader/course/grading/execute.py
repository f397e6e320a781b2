"""Execute one submitted notebook in a real Jupyter kernel, under limits, and say what happened.

nbclient runs the cells; this module adds what grading needs on top of it: a time limit per cell
and for the whole notebook, an output budget (a cell that prints megabytes does not fill the
grader's memory), execution that goes on after a failing cell (as nbgrader does), a stop when the
kernel dies or ignores an interrupt, and a record of every problem by cell. A ``NotebookRun``
keeps its kernel up after the last cell until it is closed, for what the grader asks next
(``course.grading.answers``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from course.cellwatch import CellMark, read_mark
from course.checks.cells import CellRecord
from course.grading.kernel import MAX_MESSAGE, BoundedKernelClient, SandboxedKernel
from course.grading.limits import Limits
from course.i18n import N_
from course.sandbox.limits import breach_message, breach_of
from course.timewarp import Dilation

ProblemKind = Literal[
    "error", "timeout", "dead-kernel", "stuck-kernel", "output-truncated", "not-run", "limit"
]
Status = Literal["completed", "stopped", "unreadable", "wrong-lab", "empty", "crashed"]

#: The execute reply nbclient makes up for a cell it interrupted at its time limit (its
#: ``error_on_timeout``). ``TIMEOUT_MARK`` is how ``on_cell_executed`` tells it from a real
#: reply: a kernel's own replies have no such key.
TIMEOUT_MARK = "course_timed_out"
TIMEOUT_REPLY = {
    "ename": "CellTimeoutError",
    "evalue": "time limit",
    "traceback": [],
    TIMEOUT_MARK: True,
}


@dataclass
class CellProblem:
    """Something that went wrong in one cell (``cell`` counts code cells from 1)."""

    cell: int
    kind: ProblemKind
    message: str
    source: str = ""


@dataclass
class Execution:
    """What running a notebook did."""

    status: Status
    summary: str
    code_cells: int = 0
    cells_run: int = 0
    duration: float = 0.0
    problems: list[CellProblem] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)
    stopped_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The execution as the per-student JSON report writes it."""
        return asdict(self)


class _GradingClient(NotebookClient):
    """nbclient with an output budget, a record of which cells hit their time limit, and, given
    a ``marker`` (the backend's last flow sequence number), flow marks around the cells."""

    def __init__(
        self,
        nb: NotebookNode,
        output_budget: int,
        kernel: SandboxedKernel | None = None,
        marker: Callable[[], int] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(
            nb,
            km=kernel.km if kernel else None,
            interrupt_on_timeout=True,
            error_on_timeout=TIMEOUT_REPLY,
            on_cell_execute=self._mark_start,
            on_cell_executed=self._after_cell,
            **kw,
        )
        self.marker = marker
        #: While the notebook's own cells run: each cell's code-cell number by its index.
        self.numbers: dict[int, int] = {}
        self.mark_start: int | None = None
        self.marks: list[CellMark] = []
        self.kernel = kernel
        self.output_budget = output_budget
        self.output_used = 0
        self.truncated: set[int] = set()
        self.timed_out = False
        self.refusals = 0
        self.cell_started = time.monotonic()
        self.cpu_before: float | None = None

    def new_refusals(self) -> bool:
        """Did the process cap refuse a fork or thread since the last call?"""
        if self.kernel is None or self.kernel.cgroup is None:
            return False
        count = self.kernel.cgroup.refusals()
        grew, self.refusals = count > self.refusals, count
        return grew

    def note_cell_start(self) -> None:
        """Remember the kernel's CPU time and the time now, before a cell runs."""
        self.cell_started = time.monotonic()
        self.cpu_before = _cpu_seconds(self.kernel.km.kernel_pid()) if self.kernel else None

    def killed_by_cpu_limit(self) -> bool:
        """Did the kernel die at its CPU-time cap? SIGXCPU says so; a kernel that ignored it is
        SIGKILLed at the hard limit, which its CPU time before the cell plus the cell's
        duration (a busy thread's CPU time grows as fast as the clock) must reach."""
        if self.kernel is None:
            return False
        for _ in range(20):  # bubblewrap exits a moment after its kernel
            code = self.kernel.km.exit_code()
            if code is not None:
                break
            time.sleep(0.05)
        else:
            return False
        if code == 128 + signal.SIGXCPU:
            return True
        if code != 128 + signal.SIGKILL or self.cpu_before is None:
            return False
        reachable = self.cpu_before + (time.monotonic() - self.cell_started)
        return reachable >= self.kernel.limits.cpu_seconds

    def _mark(self) -> int | None:
        return read_mark(self.marker)

    def _mark_start(self, cell: NotebookNode, cell_index: int) -> None:
        """nbclient's ``on_cell_execute`` hook: before the notebook's first cell, the flow mark
        its range starts after."""
        if cell_index in self.numbers and not self.marks and self.mark_start is None:
            self.mark_start = self._mark()

    def note_cell_end(self, cell_index: int, raised: bool, error: str | None) -> None:
        """After one of the notebook's cells (not the grader's own): its flow mark, and whether
        it raised."""
        if self.marker is not None and cell_index in self.numbers:
            self.marks.append((self.numbers[cell_index], self._mark(), raised, error))

    def cell_record(self) -> CellRecord | None:
        """Which cell made each API call, and whether it raised; None without a marker."""
        if self.marker is None:
            return None
        return CellRecord.from_marks(self.mark_start, self.marks)

    def _after_cell(
        self, cell: NotebookNode, cell_index: int, execute_reply: dict[str, Any] | None
    ) -> None:
        """nbclient's ``on_cell_executed`` hook: was this cell's reply the one made up for an
        interrupt at its time limit? And the cell's flow mark, with whether it raised."""
        content = (execute_reply or {}).get("content", {})
        if content.get(TIMEOUT_MARK) is True:
            self.timed_out = True
        raised = content.get("status") == "error"
        error = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}" if raised else None
        self.note_cell_end(cell_index, raised, error)

    # nbclient has no hook per output message (``on_cell_*`` see whole cells, and an output
    # hook registered with ``register_output_hook`` replaces nbclient's own handling of the
    # output instead of vetting it), so the budget is kept in ``output``, the public method
    # every output message goes through.
    def output(
        self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None, cell_index: int
    ) -> NotebookNode | None:
        """Keep ``msg``'s output while the notebook's output budget lasts; past it, drop it and
        say so once in the cell."""
        size = len(json.dumps(msg.get("content", {}), default=str))
        if self.output_used + size > self.output_budget:
            if cell_index not in self.truncated:
                self.truncated.add(cell_index)
                outs.append(
                    nbformat.v4.new_output(
                        "stream",
                        name="stderr",
                        text=f"[the grader dropped further output: over "
                        f"{self.output_budget:,} bytes]\n",
                    )
                )
            return None
        self.output_used += size
        return super().output(outs, msg, display_id, cell_index)


def _excerpt(source: str, lines: int = 3) -> str:
    body = source.strip().splitlines()
    return "\n".join(body[:lines]) + ("\n…" if len(body) > lines else "")


def _error_of(cell: NotebookNode) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    return None


def _dilated(dilation: Dilation | None) -> list[str]:
    """The arguments that put a kernel started here on ``dilation``'s time (a sandboxed kernel
    is put on it by its own entry point, before ipykernel starts)."""
    if dilation is None:
        return []
    code = (
        "import course.timewarp as _warp; "
        f"_warp.install(_warp.Dilation.parse({dilation.spec!r})); del _warp"
    )
    return [f"--IPKernelApp.exec_lines={json.dumps([code])}"]


class NotebookRun:
    """One notebook run in one kernel: ``execute`` runs its code cells, then the kernel stays up
    for ``run_cell`` until ``close`` (or the end of a ``with`` block) ends it.

    ``kernel`` is a started sandboxed kernel to run in (closing the run closes it); without one
    a kernel is started here, unsandboxed, with ``env`` in ``cwd`` (both then required).
    ``marker`` returns the backend's last flow sequence number: with it, ``cells`` records
    which code cell made each API call and whether it raised (``course.checks.cells``).
    ``dilation`` puts a kernel started here on dilated time (``course.timewarp``).
    """

    def __init__(
        self,
        nb: NotebookNode,
        *,
        limits: Limits,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        kernel: SandboxedKernel | None = None,
        marker: Callable[[], int] | None = None,
        dilation: Dilation | None = None,
    ) -> None:
        self.nb = nb
        self.limits = limits
        self.kernel = kernel
        self.execution: Execution | None = None
        self._cells_ran = False
        self._started: float | None = None
        self._open = contextlib.ExitStack()
        # A kernel started here gets env and cwd; its own output is chatter, not the student's
        # (that goes to iopub). A kernel handed in was started so; it is ours to end too.
        self._start: dict[str, Any] = {}
        if kernel is None:
            self._start = {
                "env": env,
                "cwd": str(cwd),
                "stdout": subprocess.DEVNULL,
                "stderr": subprocess.DEVNULL,
            }
        try:
            self.client = _GradingClient(
                nb,
                limits.output_bytes,
                kernel,
                marker,
                timeout=int(limits.cell_timeout),
                allow_errors=True,
                kernel_name="python3",
                iopub_timeout=4,
                shutdown_kernel="immediate",
                resources={"metadata": {"path": str(cwd)}} if cwd else {},
                extra_arguments=_dilated(dilation) if kernel is None else [],
            )
        except BaseException:
            if kernel is not None:
                kernel.close()
            raise

    def execute(self) -> Execution:
        """Run every code cell of the notebook, which is updated with the outputs. A cap a
        sandboxed kernel hits is named in the problems. Never raises for anything the notebook
        does: problems are returned, cell by cell."""
        nb, limits = self.nb, self.limits
        code_indices = [
            i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()
        ]
        result = Execution(status="completed", summary="", code_cells=len(code_indices))
        self.execution = result
        if not code_indices:
            result.status, result.summary = "empty", "the notebook has no code to run"
            return result
        self._started = time.monotonic()
        deadline = self._started + limits.total_timeout
        try:
            self._open.enter_context(self.client.setup_kernel(**self._start, cleanup_kc=True))
            self.client.numbers = {index: n for n, index in enumerate(code_indices, start=1)}
            try:
                _run_cells(self.client, nb, code_indices, deadline, limits, result)
            finally:
                self.client.numbers = {}  # the grader's own cells are no one's record
            self._cells_ran = True
        except Exception as exc:  # the kernel failed to start or nbclient itself broke
            self._crashed(exc)
        if not result.summary:
            failed = sum(1 for p in result.problems if p.kind in ("error", "timeout"))
            result.summary = run_summary(result.code_cells, failed)
        return result

    @property
    def cells(self) -> CellRecord | None:
        """Which of the notebook's code cells (numbered from 1) made each API call and whether
        it raised; None without a ``marker``. Complete once ``execute`` has returned."""
        return self.client.cell_record()

    @property
    def kernel_usable(self) -> bool:
        """Whether every cell's turn came and the kernel is still there to ask something of."""
        return (
            self._cells_ran
            and self.execution is not None
            and not any(p.kind in ("dead-kernel", "stuck-kernel") for p in self.execution.problems)
        )

    def run_cell(self, cell: NotebookNode, *, timeout: int) -> NotebookNode:
        """Run one cell of the grader's own in the kernel, after the notebook's cells, outside
        its history and without leaving it in the notebook. Raises whatever nbclient raises."""
        self.nb.cells.append(cell)
        try:
            self.client.timeout = timeout
            return self.client.execute_cell(cell, len(self.nb.cells) - 1, store_history=False)
        finally:
            self.nb.cells.pop()

    def close(self) -> None:
        """End the kernel; the execution's duration runs to here."""
        try:
            self._open.close()
        except Exception as exc:  # nbclient failed to shut the kernel down
            self._crashed(exc)
        finally:
            if self.kernel is not None:
                self.kernel.close()
        if self.execution is not None and self._started is not None:
            self.execution.duration = round(time.monotonic() - self._started, 2)

    def _crashed(self, exc: Exception) -> None:
        result = self.execution
        if result is not None and result.status == "completed":
            result.status = "crashed"
            result.summary = f"the kernel could not run the notebook: {type(exc).__name__}: {exc}"

    def __enter__(self) -> NotebookRun:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def execute_notebook(
    nb: NotebookNode,
    *,
    limits: Limits,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    kernel: SandboxedKernel | None = None,
) -> Execution:
    """Run every code cell of ``nb`` in a fresh kernel, then end the kernel (see ``NotebookRun``
    for the arguments); ``nb`` is updated with the outputs. Never raises for anything the
    notebook does."""
    with NotebookRun(nb, limits=limits, env=env, cwd=cwd, kernel=kernel) as run:
        return run.execute()


#: What ``run_summary`` says, by how many cells there were and failed (templates: the
#: feedback page translates them, ``course.i18n``).
RUN_SUMMARY = {
    "one": N_("ran its one code cell"),
    "one, failed": N_("ran its one code cell; it failed"),
    "all": N_("ran all {cells} code cells"),
    "all, one failed": N_("ran all {cells} code cells; 1 of them failed"),
    "all, some failed": N_("ran all {cells} code cells; {failed} of them failed"),
}


def run_summary(cells: int, failed: int) -> str:
    """``ran all 9 code cells; 2 of them failed``, in good English for any count."""
    if cells == 1:
        return RUN_SUMMARY["one, failed" if failed else "one"]
    key = "all, some failed" if failed > 1 else "all, one failed" if failed else "all"
    return RUN_SUMMARY[key].format(cells=cells, failed=failed)


def _run_cells(
    client: _GradingClient,
    nb: NotebookNode,
    code_indices: list[int],
    deadline: float,
    limits: Limits,
    result: Execution,
) -> None:
    for number, index in enumerate(code_indices, start=1):
        cell = nb.cells[index]
        remaining = deadline - time.monotonic()
        if remaining <= 1:
            result.status, result.stopped_at = "stopped", number
            result.summary = (
                f"the notebook's time limit ({limits.total_timeout:g} s) ran out before code cell "
                f"{number}; cells {number}-{len(code_indices)} did not run"
            )
            return
        client.timeout = int(min(limits.cell_timeout, remaining))
        client.timed_out = False
        client.note_cell_start()
        try:
            client.execute_cell(cell, index)
        except DeadKernelError:
            client.note_cell_end(index, True, "DeadKernelError: the kernel died")
            result.cells_run = number
            result.status, result.stopped_at = "stopped", number
            if client.killed_by_cpu_limit():
                why = breach_message("cpu", client.kernel.limits)  # type: ignore[union-attr]
                result.problems.append(
                    CellProblem(number, "limit", f"{why} and was stopped", _excerpt(cell.source))
                )
                result.summary = f"{why} and was stopped in code cell {number}"
                return
            result.problems.append(
                CellProblem(
                    number,
                    "dead-kernel",
                    "the kernel died while running this cell",
                    _excerpt(cell.source),
                )
            )
            result.summary = f"the kernel died in code cell {number}; later cells did not run"
            return
        except CellTimeoutError:
            client.timed_out = True
            client.note_cell_end(index, True, "CellTimeoutError: time limit")
        result.cells_run = number
        if isinstance(client.kc, BoundedKernelClient) and client.kc.dropped():
            result.problems.append(
                CellProblem(
                    number,
                    "output-truncated",
                    f"a message of over {MAX_MESSAGE >> 20} MiB of output was dropped unread",
                )
            )
        if index in client.truncated:
            result.problems.append(
                CellProblem(
                    number,
                    "output-truncated",
                    f"output over {limits.output_bytes:,} bytes was dropped",
                )
            )
        if client.timed_out:
            result.problems.append(
                CellProblem(
                    number,
                    "timeout",
                    f"stopped after its time limit of {client.timeout} s",
                    _excerpt(cell.source),
                )
            )
            if not _kernel_responds(client):
                result.status, result.stopped_at = "stopped", number
                result.problems.append(
                    CellProblem(
                        number, "stuck-kernel", "the kernel ignored the interrupt and stayed busy"
                    )
                )
                result.summary = (
                    f"code cell {number} ran past its time limit and would not stop; "
                    "later cells did not run"
                )
                return
        elif error := _error_of(cell):
            result.problems.append(CellProblem(number, "error", error, _excerpt(cell.source)))
        _note_breaches(client, cell, number, result)


def _cpu_seconds(pid: int | None) -> float | None:
    """User plus system CPU seconds of process ``pid`` so far, or None if it cannot be read."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _note_breaches(
    client: _GradingClient, cell: NotebookNode, number: int, result: Execution
) -> None:
    """Name each cap the cell ran into, once per cell (a sandboxed kernel's only: without a
    sandbox there are no caps, and a MemoryError is only that)."""
    if client.kernel is None:
        return
    kinds = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            kinds.append(breach_of(out.get("ename", ""), out.get("evalue", "")))
    if client.new_refusals():
        kinds.append("processes")
    for kind in dict.fromkeys(k for k in kinds if k):
        result.problems.append(
            CellProblem(number, "limit", breach_message(kind, client.kernel.limits), "")
        )


def _kernel_responds(client: _GradingClient, timeout: int = 10) -> bool:
    """After an interrupt: does the kernel answer a trivial request within ``timeout`` s?"""
    client.timeout = timeout
    try:
        msg_id = client.kc.execute("pass", store_history=False)
        reply = client.wait_for_reply(msg_id)
    except Exception:
        return False
    return reply is not None  # nbclient gives None when the time ran out
