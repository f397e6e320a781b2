"""Execute one submitted notebook in a real Jupyter kernel, under limits, and say what happened.

nbclient runs the cells; this module adds what grading needs on top of it: a time limit per cell
and for the whole notebook, an output budget (a cell that prints megabytes does not fill the
grader's memory), execution that goes on after a failing cell (as nbgrader does), a stop when the
kernel dies or ignores an interrupt, and a record of every problem by cell.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from course.grading.kernel import MAX_MESSAGE, BoundedKernelClient, SandboxedKernel
from course.sandbox.limits import ResourceLimits, breach_message, breach_of

ANSWER_MARKER = "<<course-answers>>"
ProblemKind = Literal[
    "error", "timeout", "dead-kernel", "stuck-kernel", "output-truncated", "not-run", "limit"
]


@dataclass(frozen=True)
class Limits:
    """How long and how loud a submission may be, and (in a sandbox) what it may use."""

    cell_timeout: float = 120.0
    total_timeout: float = 900.0
    output_bytes: int = 2_000_000
    resources: ResourceLimits = field(default_factory=ResourceLimits)


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

    status: Literal["completed", "stopped", "unreadable", "wrong-lab", "empty", "crashed"]
    summary: str
    code_cells: int = 0
    cells_run: int = 0
    duration: float = 0.0
    problems: list[CellProblem] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)
    stopped_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _GradingClient(NotebookClient):
    """nbclient with an output budget and a record of which cells hit their time limit."""

    def __init__(
        self,
        nb: NotebookNode,
        output_budget: int,
        kernel: SandboxedKernel | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(nb, km=kernel.km if kernel else None, **kw)
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

    def output(
        self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None, cell_index: int
    ) -> NotebookNode | None:
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

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None) -> Any:
        self.timed_out = True
        return await super()._async_handle_timeout(timeout, cell)


def _excerpt(source: str, lines: int = 3) -> str:
    body = source.strip().splitlines()
    return "\n".join(body[:lines]) + ("\n…" if len(body) > lines else "")


def _error_of(cell: NotebookNode) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    return None


def answers_cell(names: list[str]) -> NotebookNode:
    """A cell that prints the notebook's answer variables as JSON, after everything else ran."""
    code = (
        "import json as _course_json\n"
        f"_course_names = {names!r}\n"
        "def _course_value(v):\n"
        "    try:\n"
        "        _course_json.dumps(v)\n"
        "        return v\n"
        "    except (TypeError, ValueError):\n"
        "        return repr(v)\n"
        f"print({ANSWER_MARKER!r} + _course_json.dumps("
        "{n: _course_value(globals()[n]) for n in _course_names if n in globals()}))"
    )
    return nbformat.v4.new_code_cell(code)


def _read_answers(cell: NotebookNode) -> dict[str, Any]:
    for out in cell.get("outputs", []):
        for line in str(out.get("text", "")).splitlines():
            if line.startswith(ANSWER_MARKER):
                try:
                    return json.loads(line[len(ANSWER_MARKER) :])
                except ValueError:
                    return {}
    return {}


def execute_notebook(
    nb: NotebookNode,
    *,
    limits: Limits,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    answer_names: list[str] | None = None,
    kernel: SandboxedKernel | None = None,
) -> Execution:
    """Run every code cell of ``nb`` in a fresh kernel; ``nb`` is updated with the outputs.

    ``kernel`` is a started sandboxed kernel to run in (this call closes it); without one a
    kernel is started here, unsandboxed, with ``env`` in ``cwd`` (both then required). A cap a
    sandboxed kernel hits is named in the problems. Never raises for anything the notebook
    does: problems are returned, cell by cell.
    """
    code_indices = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    result = Execution(status="completed", summary="", code_cells=len(code_indices))
    if not code_indices:
        if kernel is not None:
            kernel.close()
        result.status, result.summary = "empty", "the notebook has no code to run"
        return result

    client = _GradingClient(
        nb,
        limits.output_bytes,
        kernel,
        timeout=int(limits.cell_timeout),
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": "time limit", "traceback": []},
        kernel_name="python3",
        iopub_timeout=4,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(cwd)}} if cwd else {},
    )
    started = time.monotonic()
    deadline = started + limits.total_timeout
    try:
        # A kernel started here gets env and cwd; its own output is chatter, not the student's
        # (that goes to iopub). A kernel handed in was started so; it is ours to end too.
        start = {} if kernel else {"env": env, "cwd": str(cwd)}
        devnull = {} if kernel else {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        with client.setup_kernel(**start, **devnull, cleanup_kc=True):
            _run_cells(client, nb, code_indices, deadline, limits, result)
            kernel_gone = any(p.kind in ("dead-kernel", "stuck-kernel") for p in result.problems)
            if answer_names and not kernel_gone:
                result.answers = _collect_answers(client, nb, answer_names)
    except Exception as exc:  # the kernel failed to start or nbclient itself broke
        if result.status == "completed":
            result.status = "crashed"
            result.summary = f"the kernel could not run the notebook: {type(exc).__name__}: {exc}"
    finally:
        if kernel is not None:
            kernel.close()
    result.duration = round(time.monotonic() - started, 2)
    if not result.summary:
        failed = sum(1 for p in result.problems if p.kind in ("error", "timeout"))
        result.summary = run_summary(result.code_cells, failed)
    return result


def run_summary(cells: int, failed: int) -> str:
    """``ran all 9 code cells; 2 of them failed``, in good English for any count."""
    if cells == 1:
        return "ran its one code cell" + ("; it failed" if failed else "")
    return f"ran all {cells} code cells" + (
        f"; {failed} of them failed" if failed > 1 else "; 1 of them failed" if failed else ""
    )


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
    client.timed_out = False
    try:
        msg_id = client.kc.execute("pass", store_history=False)
        reply = client.wait_for_reply(msg_id)
    except Exception:
        return False
    return reply is not None and not client.timed_out


def _collect_answers(client: _GradingClient, nb: NotebookNode, names: list[str]) -> dict[str, Any]:
    cell = answers_cell(names)
    nb.cells.append(cell)
    try:
        client.timeout = 30
        client.execute_cell(cell, len(nb.cells) - 1, store_history=False)
        return _read_answers(cell)
    except Exception:
        return {}
    finally:
        nb.cells.pop()
