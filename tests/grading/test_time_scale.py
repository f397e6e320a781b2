"""Grading on dilated time: the notebook's clock and its backend's run K times faster, its
scores are the ones real time gives, and the reports say so."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
from course.backend.process import Backend
from course.checks.catalog import graded_lab_ids, resolve_lab
from course.grading.grade import grade_submission
from course.grading.limits import Limits
from course.grading.reports import feedback_markdown

from tests.conftest import time_scale

CLOCKS = """\
import time, datetime, threading, json
wall, mono, now = time.time(), time.monotonic(), datetime.datetime.now()
time.sleep(5)
ticked = threading.Event()
threading.Timer(3, ticked.set).start()
ticked.wait(10)
print(json.dumps({
    "wall": time.time() - wall,
    "mono": time.monotonic() - mono,
    "now": (datetime.datetime.now() - now).total_seconds(),
}))
"""


def clocks_notebook(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CLOCKS)]
    path = tmp_path / "clocks.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandboxed", "unsandboxed"])
def test_the_kernel_runs_k_times_faster_and_cannot_tell(tmp_path: Path, sandboxed: bool) -> None:
    limits = replace(Limits(), time_scale=10)
    grade = grade_submission(clocks_notebook(tmp_path), "01", limits, sandboxed=sandboxed)
    printed = json.loads(grade.notebook.cells[0].outputs[0]["text"])
    for clock, seconds in printed.items():
        assert 8 <= seconds < 30, (clock, printed)  # 5 s of sleep and 3 s of Timer, in AWS time
    assert grade.execution.status == "completed"
    assert grade.time_scale == 10 and grade.to_json()["time_scale"] == 10
    assert "dilated time" in feedback_markdown(grade)
    # 8 AWS seconds at 10x: well under the 8 real seconds the same cells take on the wall clock.
    assert grade.duration < 8, grade.duration


@pytest.mark.slow
def test_real_time_is_the_wall_clock(tmp_path: Path) -> None:
    grade = grade_submission(
        clocks_notebook(tmp_path), "01", replace(Limits(), time_scale=1), sandboxed=False
    )
    printed = json.loads(grade.notebook.cells[0].outputs[0]["text"])
    assert all(8 <= seconds < 30 for seconds in printed.values()), printed
    assert grade.duration >= 8
    assert grade.time_scale == 1 and "dilated time" not in feedback_markdown(grade)


def test_every_graded_lab_declares_a_factor_and_students_keep_real_time() -> None:
    for lab_id in graded_lab_ids():
        assert resolve_lab(lab_id).time_scale >= 1
    assert Limits().time_scale is None  # the grader takes the lab's own


def test_the_tests_backend_runs_on_the_time_scale_the_session_asks(
    backend: Backend, pytestconfig: pytest.Config
) -> None:
    """``pytest --time-scale K`` (CI's second pass over the check tests) really dilates the
    backend those tests use: without it that pass would prove nothing."""
    assert backend.api.clock()["scale"] == (time_scale(pytestconfig) or 1.0)
