"""Grade submissions: for each one a fresh backend, the notebook run, then the lab's checks.

The per-submission loop and its error handling live here once. Whatever a submission does —
not a notebook, another lab, a crash, an endless loop — it gets a score and a specific message,
and grading goes on to the next one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..backend.process import Backend, BackendError
from ..checks import answer_names, lab_checks, lab_module, normalize_lab
from ..checks.api import CheckResult, NotAttempted, outcome_of
from ..checks.context import Aws
from ..connection import scrubbed_environment
from .execute import Execution, Limits, execute_notebook
from .plugin import run_checks


@dataclass
class Grade:
    """One submission's grade: the checks' results and what running the notebook did."""

    student: str
    path: Path
    lab: str
    results: list[CheckResult]
    execution: Execution
    duration: float = 0.0
    notebook: Any = field(default=None, repr=False)

    @property
    def score(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_points for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "submission": self.path.name,
            "lab": self.lab,
            "score": self.score,
            "max_score": self.max_score,
            "checks": [r.to_json() for r in self.results],
            "execution": self.execution.to_json(),
            "duration": round(self.duration, 2),
        }


def grade_submission(
    path: Path, lab: str, limits: Limits | None = None, student: str | None = None
) -> Grade:
    """Grade one notebook file. Never raises for anything the submission does.

    ``student`` names the submission in reports; it defaults to the file's stem.
    """
    lab = normalize_lab(lab)
    limits = limits or Limits()
    started = time.monotonic()
    student = student or path.stem
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        reason = f"not a readable notebook ({type(exc).__name__}: {str(exc)[:200]})"
        execution = Execution(status="unreadable", summary=reason)
        return Grade(
            student, path, lab, _not_attempted(lab, reason), execution, time.monotonic() - started
        )

    other_lab = str(nb.metadata.get("course", {}).get("lab", "") or "")
    if other_lab and other_lab != lab:
        reason = f"this notebook is lab {other_lab}'s, not lab {lab}'s: it was not run"
        execution = Execution(status="wrong-lab", summary=reason)
        return Grade(
            student,
            path,
            lab,
            _not_attempted(lab, reason),
            execution,
            time.monotonic() - started,
            nb,
        )

    workdir = Path(tempfile.mkdtemp(prefix="course-grade-"))
    try:
        try:
            backend = Backend.start(log_path=workdir / "backend.log")
        except BackendError as exc:
            execution = Execution(
                status="crashed", summary=f"the grader's backend did not start: {exc}"
            )
            return Grade(
                student,
                path,
                lab,
                _not_attempted(lab, str(exc)),
                execution,
                time.monotonic() - started,
                nb,
            )
        with backend:
            env = scrubbed_environment(dict(os.environ), backend.url)
            env.update(
                {
                    "COURSE_LAB": lab,
                    "COURSE_STATE_DIR": str(workdir),
                    "AWS_EC2_METADATA_DISABLED": "true",
                }
            )
            execution = execute_notebook(
                nb, env=env, cwd=workdir, limits=limits, answer_names=answer_names(lab)
            )
            if not backend.healthy():
                execution.summary += "; the backend stopped answering during the run"
            aws = Aws(backend.url, answers=execution.answers)
            results = run_checks(lab_module(lab).__name__, aws)
        return Grade(student, path, lab, results, execution, time.monotonic() - started, nb)
    except Exception as exc:  # a fault of the grader's own: report it, go on with the next
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        execution = Execution(
            status="crashed", summary=f"the grader failed on this submission: {last}"
        )
        return Grade(
            student, path, lab, _not_attempted(lab, last), execution, time.monotonic() - started
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _not_attempted(lab: str, why: str) -> list[CheckResult]:
    return [outcome_of(c, NotAttempted(why)) for c in lab_checks(lab)]


def find_submissions(sources: list[Path]) -> list[Path]:
    """The ``.ipynb`` files named, or directly inside the folders named, sorted by name."""
    found: list[Path] = []
    for source in sources:
        if source.is_dir():
            found.extend(p for p in source.iterdir() if p.suffix == ".ipynb" and p.is_file())
        elif source.is_file():
            found.append(source)
    return sorted(set(found), key=lambda p: p.name)


def student_names(paths: list[Path]) -> dict[Path, str]:
    """A distinct report name per submission: the file's stem, or ``folder-stem`` where two
    submissions from different folders share a stem (numbered if even that repeats)."""
    stems = [p.stem for p in paths]
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for path in paths:
        name = path.stem if stems.count(path.stem) == 1 else f"{path.parent.name}-{path.stem}"
        candidate, n = name, 2
        while candidate in taken:
            candidate, n = f"{name}-{n}", n + 1
        taken.add(candidate)
        names[path] = candidate
    return names


def grade_all(
    paths: list[Path],
    lab: str,
    limits: Limits | None = None,
    on_done: Callable[[Grade], None] | None = None,
) -> list[Grade]:
    """Grade each submission in turn; ``on_done`` runs after each (progress, reports)."""
    grades = []
    names = student_names(paths)
    for path in paths:
        grade = grade_submission(path, lab, limits, names[path])
        grades.append(grade)
        if on_done:
            on_done(grade)
    return grades
