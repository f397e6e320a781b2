"""Grade submissions: for each one a clean backend, the notebook run, its answers, the checks.

The per-submission pipeline and its error handling live here once: the lab is resolved once at
the entry (``grade_all``, ``grade_submission``) and passed down as a ``Lab``. Whatever a
submission does (not a notebook, another lab, a crash, an endless loop) it gets a score and a
specific message, and grading goes on to the next one; a submission that cannot be run at all
is ``Refused``, and every refusal becomes a grade in one place, ``Grade.refused``.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from course.backend.process import Backend, BackendError
from course.checks.api import CheckResult, NotAttempted, outcome_of
from course.checks.catalog import Lab, resolve_lab
from course.checks.context import Aws
from course.checks.readers.cost import Bill, meter
from course.client import BackendClient
from course.connection import scrubbed_environment
from course.grading.answers import collect_answers
from course.grading.execute import Execution, NotebookRun, Status
from course.grading.kernel import SandboxedKernel
from course.grading.limits import Limits
from course.grading.plugin import run_checks
from course.sandbox.bwrap import HOME, Sandbox, check_available
from course.sandbox.limits import ResourceLimits
from course.timewarp import Dilation

#: Variables of the grader's own environment a sandboxed kernel keeps (besides AWS_/COURSE_).
SANDBOX_ENV = ("LANG", "LC_ALL", "TZ")


class Refused(Exception):
    """A submission that cannot be run or checked: its ``status`` and ``summary`` for the
    report, the ``reason`` every check is marked not attempted with, and the notebook as read
    (None when there is none to report)."""

    def __init__(
        self, status: Status, summary: str, reason: str, notebook: NotebookNode | None = None
    ) -> None:
        super().__init__(summary)
        self.status = status
        self.summary = summary
        self.reason = reason
        self.notebook = notebook


@dataclass(kw_only=True)
class Grade:
    """One submission's grade: the checks' results and what running the notebook did.

    Built with keywords for a submission that ran and was checked, by ``Grade.refused`` for one
    that could not be.
    """

    student: str
    path: Path
    lab: Lab
    results: list[CheckResult]
    execution: Execution
    duration: float = 0.0
    notebook: Any = field(default=None, repr=False)
    isolated: bool = True  # False when graded with --no-sandbox
    time_scale: float = 1.0  # how much faster than the wall clock its time ran
    cost: Bill | None = None  # what its calls would cost on AWS (the cost meter)

    @classmethod
    def refused(
        cls,
        refusal: Refused,
        *,
        student: str,
        path: Path,
        lab: Lab,
        duration: float,
        isolated: bool,
        time_scale: float = 1.0,
    ) -> Grade:
        """The grade of a refused submission: every check not attempted, for the refusal's
        reason, and an execution that says why nothing (more) ran."""
        return cls(
            student=student,
            path=path,
            lab=lab,
            results=[outcome_of(c, NotAttempted(refusal.reason)) for c in lab.checks],
            execution=Execution(status=refusal.status, summary=refusal.summary),
            duration=duration,
            notebook=refusal.notebook,
            isolated=isolated,
            time_scale=time_scale,
        )

    @property
    def score(self) -> float:
        """The points earned."""
        return sum(r.points for r in self.results)

    @property
    def max_score(self) -> float:
        """The points there were to earn (checks that cannot run here left out)."""
        return sum(r.max_points for r in self.results)

    def to_json(self) -> dict[str, Any]:
        """The grade as the per-student JSON report writes it."""
        return {
            "student": self.student,
            "submission": self.path.name,
            "lab": self.lab.id,
            "score": self.score,
            "max_score": self.max_score,
            "checks": [r.to_json() for r in self.results],
            "execution": self.execution.to_json(),
            "duration": round(self.duration, 2),
            "isolated": self.isolated,
            "time_scale": self.time_scale,
        }


#: The least memory a graded submission's backend gets (moto and the kit take about 200 MiB).
BACKEND_MEMORY = 1 << 30


class KernelBudget:
    """How many submissions still need a kernel started for them, shared by all jobs, so a job
    starts its next kernel ahead only when some submission will use it."""

    def __init__(self, submissions: int) -> None:
        self._left = submissions
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Claim one kernel start; False when every submission has one."""
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True


class BackendSlot:
    """One grading job: its backend, reused from one submission to the next with a reset, and,
    when sandboxed, the kernel for its next submission, started while the current one runs.

    A reset wipes every resource, the extensions' state, the clock and the flow; a backend that
    does not come back healthy and empty is replaced by a fresh one (and a kernel started for
    the old one is dropped). Kernels are started in the slot's own long-lived thread: a sandbox
    dies with the thread that started it.
    """

    def __init__(
        self,
        sandboxed: bool,
        resources: ResourceLimits,
        budget: KernelBudget | None = None,
        time_scale: float = 1.0,
    ) -> None:
        self.sandboxed = sandboxed
        self.resources = resources
        self.budget = budget
        self.time_scale = time_scale
        #: The dilated time the slot's backend and kernels share (None: real time).
        self.dilation: Dilation | None = None
        self.backend: Backend | None = None
        self.log_dir = Path(tempfile.mkdtemp(prefix="course-slot-"))
        self._starter = ThreadPoolExecutor(1, thread_name_prefix="kernel-start")
        self._next: tuple[Backend, Lab, Future[SandboxedKernel]] | None = None

    @property
    def memory_limit(self) -> int | None:
        """The memory cap of the slot's backends: None without a sandbox."""
        return max(BACKEND_MEMORY, self.resources.memory) if self.sandboxed else None

    def clean_backend(self) -> Backend:
        """A running backend with nothing in it.

        The last one is reused after a reset if it answers, holds nothing, and uses under half
        its memory cap: one a submission flooded keeps the memory it grew to (Python seldom
        returns it) and may stall later, so it is replaced instead.
        """
        if self.backend is not None:
            # Memory first: it is read from /proc, while a flooded backend may not answer HTTP.
            if not self._memory_pressed(self.backend):
                try:
                    self.backend.reset()
                    if self.backend.healthy() and not self.backend.api.flow_page(0, 1)["calls"]:
                        return self.backend
                except (OSError, ValueError, BackendError):
                    pass
            self.backend.stop()
            self.backend = None
        self.dilation = Dilation.starting_now(self.time_scale) if self.time_scale != 1 else None
        self.backend = Backend.start(
            log_path=self.log_dir / "backend.log",
            gate=self.sandboxed,
            sandbox_lambda=self.resources.to_json() if self.sandboxed else None,
            memory_limit=self.memory_limit,
            time_scale=self.dilation.scale if self.dilation else None,
            time_anchor=self.dilation.wall_anchor if self.dilation else None,
        )
        return self.backend

    def _memory_pressed(self, backend: Backend) -> bool:
        limit = self.memory_limit
        if limit is None:
            return False
        try:
            status = Path(f"/proc/{backend.pid}/status").read_text()
        except OSError:
            return True
        data = next(
            (line.split()[1] for line in status.splitlines() if line.startswith("VmData:")), "0"
        )
        return int(data) * 1024 > limit // 2

    def kernel(self, backend: Backend, lab: Lab) -> SandboxedKernel:
        """A started sandboxed kernel for a submission on ``backend``; starts the next one's."""
        ready = None
        if self._next is not None:
            for_backend, for_lab, future = self._next
            self._next = None
            if for_backend is backend and for_lab == lab:
                ready = future
            else:
                future.add_done_callback(_close_started)
        if ready is None:
            if self.budget is not None:
                self.budget.take()  # this submission's own start
            ready = self._starter.submit(self._start, backend, lab)
        if self.budget is not None and self.budget.take():
            self._next = (backend, lab, self._starter.submit(self._start, backend, lab))
        try:
            return ready.result()
        except Exception:  # a kernel started ahead that failed gets one fresh try, now
            return self._starter.submit(self._start, backend, lab).result()

    def _start(self, backend: Backend, lab: Lab) -> SandboxedKernel:
        sandbox = Sandbox(
            self.resources,
            kernel_environment(backend, lab, sandboxed=True),
            forward_ports=backend.ports,
            gate=backend.gate,
        )
        return SandboxedKernel.start(sandbox, dilation=self.dilation)

    def close(self) -> None:
        """Stop the slot's backend and any kernel started ahead; remove its log folder."""
        if self._next is not None:
            self._next[2].add_done_callback(_close_started)
            self._next = None
        self._starter.shutdown(wait=True)
        if self.backend is not None:
            self.backend.stop()
            self.backend = None
        shutil.rmtree(self.log_dir, ignore_errors=True)


def _close_started(future: Future[SandboxedKernel]) -> None:
    if future.exception() is None:
        future.result().close()


def time_scale_of(lab: Lab, limits: Limits) -> float:
    """The time scale a submission of ``lab`` is graded at: the limits' if set, else the lab's."""
    return limits.time_scale if limits.time_scale is not None else lab.time_scale


def kernel_environment(backend: Backend, lab: Lab, *, sandboxed: bool) -> dict[str, str]:
    """The graded kernel's environment: pointed at ``backend``, nothing of the instructor's."""
    env = scrubbed_environment(dict(os.environ), backend.url)
    env.update({"COURSE_LAB": lab.id, "AWS_EC2_METADATA_DISABLED": "true"})
    if sandboxed:
        env = {
            k: v for k, v in env.items() if k in SANDBOX_ENV or k.startswith(("AWS_", "COURSE_"))
        }
        env["COURSE_STATE_DIR"] = f"{HOME}/.course"
    return env


# pytest keeps process-wide state (imports, plugins, capture): one checks session at a time.
_CHECKS_LOCK = threading.Lock()


def grade_submission(
    path: Path,
    lab: Lab | str,
    limits: Limits | None = None,
    student: str | None = None,
    *,
    sandboxed: bool = True,
    slot: BackendSlot | None = None,
) -> Grade:
    """Grade one notebook file as lab ``lab``'s (a ``Lab`` or any spelling of its id; an
    unknown lab raises ``UnknownLab``). Never raises for anything the submission does.

    ``student`` names the submission in reports; it defaults to the file's stem. With
    ``sandboxed`` (the default) the kernel runs in a sandbox that sees only itself and its
    backend. ``slot`` lends a backend to reuse; without one a backend is started and stopped.
    """
    lab = resolve_lab(lab)
    limits = limits or Limits()
    started = time.monotonic()
    student = student or path.stem
    scale = slot.time_scale if slot is not None else time_scale_of(lab, limits)
    try:
        nb = read_submission(path, lab)
        results, execution, cost = _run_and_check(nb, lab, limits, sandboxed=sandboxed, slot=slot)
    except Refused as refusal:
        return Grade.refused(
            refusal,
            student=student,
            path=path,
            lab=lab,
            duration=time.monotonic() - started,
            isolated=sandboxed,
            time_scale=scale,
        )
    return Grade(
        student=student,
        path=path,
        lab=lab,
        results=results,
        execution=execution,
        duration=time.monotonic() - started,
        notebook=nb,
        isolated=sandboxed,
        time_scale=scale,
        cost=cost,
    )


def read_submission(path: Path, lab: Lab) -> NotebookNode:
    """The submitted notebook, if it is one and not another lab's; else ``Refused``."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        reason = f"not a readable notebook ({type(exc).__name__}: {str(exc)[:200]})"
        raise Refused("unreadable", reason, reason) from None
    other_lab = str(nb.metadata.get("course", {}).get("lab", "") or "")
    if other_lab and other_lab != lab.id:
        reason = f"this notebook is lab {other_lab}'s, not lab {lab.id}'s: it was not run"
        raise Refused("wrong-lab", reason, reason, nb)
    return nb


def _run_and_check(
    nb: NotebookNode, lab: Lab, limits: Limits, *, sandboxed: bool, slot: BackendSlot | None
) -> tuple[list[CheckResult], Execution, Bill | None]:
    """Run ``nb`` on a clean backend, collect its answers, then run the lab's checks on what it
    did, and meter its calls' cost. A backend that does not start, or a fault of the grader's
    own, is ``Refused``."""
    own_slot = slot is None
    slot = slot or BackendSlot(sandboxed, limits.resources, time_scale=time_scale_of(lab, limits))
    try:
        try:
            backend = slot.clean_backend()
        except BackendError as exc:
            summary = f"the grader's backend did not start: {exc}"
            raise Refused("crashed", summary, str(exc), nb) from None
        # Which cell made each call, and whether it raised: marked from here, not the kernel.
        marker = BackendClient(backend.url).flow_mark
        if sandboxed:  # the kernel's environment and folders are its sandbox's
            run = NotebookRun(nb, limits=limits, kernel=slot.kernel(backend, lab), marker=marker)
            execution = _execute(run, lab)
        else:
            with tempfile.TemporaryDirectory(prefix="course-grade-") as workdir:
                env = kernel_environment(backend, lab, sandboxed=False)
                env["COURSE_STATE_DIR"] = workdir
                run = NotebookRun(
                    nb,
                    limits=limits,
                    env=env,
                    cwd=Path(workdir),
                    marker=marker,
                    dilation=slot.dilation,
                )
                execution = _execute(run, lab)
        if not backend.healthy():
            execution.summary += "; the backend stopped answering during the run"
        aws = Aws(backend.url, answers=execution.answers, cells=run.cells)
        cost = meter(aws)  # the notebook's calls, before the checks' own
        with _CHECKS_LOCK:
            return run_checks(lab, aws), execution, cost
    except Refused:
        raise
    except Exception as exc:  # a fault of the grader's own: report it, go on with the next
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        raise Refused("crashed", f"the grader failed on this submission: {last}", last) from None
    finally:
        if own_slot:
            slot.close()


def _execute(run: NotebookRun, lab: Lab) -> Execution:
    """Run the notebook's cells, then, in the same kernel, collect the lab's answers."""
    with run:
        execution = run.execute()
        execution.answers = collect_answers(run, lab.answer_names)
    return execution


def find_submissions(sources: list[Path]) -> list[Path]:
    """The ``.ipynb`` files named, or directly inside the folders named, sorted by name."""
    found: list[Path] = []
    for source in sources:
        if source.is_dir():
            found.extend(p for p in source.iterdir() if p.suffix == ".ipynb" and p.is_file())
        elif source.is_file():
            found.append(source)
    return sorted(set(found), key=lambda p: (p.name, str(p)))  # one order in every process


def safe_name(text: str) -> str:
    """``text`` as one harmless path component: letters, digits, ``.``, ``_`` and ``-`` kept
    (any script's letters too), anything else ``_``, no leading dot (so never ``.`` or ``..``)."""
    name = re.sub(r"[^\w.-]", "_", text).lstrip(".")
    return name or "submission"


def student_names(paths: list[Path]) -> dict[Path, str]:
    """A distinct report name per submission: the file's stem, or ``folder-stem`` where two
    submissions from different folders share a stem (numbered if even that repeats). Names are
    ``safe_name``s: a file called ``...ipynb`` writes no report outside the output folder."""
    stems = [safe_name(p.stem) for p in paths]
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for path, stem in zip(paths, stems, strict=True):
        name = stem if stems.count(stem) == 1 else f"{safe_name(path.parent.name)}-{stem}"
        candidate, n = name, 2
        while candidate in taken:
            candidate, n = f"{name}-{n}", n + 1
        taken.add(candidate)
        names[path] = candidate
    return names


def grade_all(
    paths: list[Path],
    lab: Lab | str,
    limits: Limits | None = None,
    on_done: Callable[[Grade], None] | None = None,
    *,
    jobs: int = 1,
    sandboxed: bool = True,
    on_start: Callable[[int, str], None] | None = None,
    names: dict[Path, str] | None = None,
) -> list[Grade]:
    """Grade every submission, ``jobs`` at a time, each job with its own backend.

    ``on_start(job, student)`` and ``on_done(grade)`` run as each submission starts and ends
    (one at a time, for progress and reports). The grades come back in the order of ``paths``,
    whatever order they finished in. ``lab`` is resolved here, once, for every submission.
    ``names`` gives the report names (a shard's, named over the whole class); by default
    ``student_names(paths)``.
    """
    lab = resolve_lab(lab)
    limits = limits or Limits()
    if sandboxed:
        check_available()
    names = names or student_names(paths)
    jobs = max(1, min(jobs, len(paths) or 1))
    slots: queue.Queue[tuple[int, BackendSlot]] = queue.Queue()
    budget = KernelBudget(len(paths))
    scale = time_scale_of(lab, limits)
    all_slots = [
        BackendSlot(sandboxed, limits.resources, budget, time_scale=scale) for _ in range(jobs)
    ]
    for number, slot in enumerate(all_slots, start=1):
        slots.put((number, slot))
    report_lock = threading.Lock()

    def one(path: Path) -> Grade:
        number, slot = slots.get()
        try:
            if on_start:
                with report_lock:
                    on_start(number, names[path])
            grade = grade_submission(path, lab, limits, names[path], sandboxed=sandboxed, slot=slot)
        finally:
            slots.put((number, slot))
        if on_done:
            with report_lock:
                on_done(grade)
        return grade

    try:
        # Each job's backend is started by the thread that uses it, and that thread lives
        # until the pool closes: a child that dies with its parent thread stays up.
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade") as pool:
            return list(pool.map(one, paths))
    finally:
        for slot in all_slots:
            slot.close()
