"""CI proves the grader can fail: every solution scores full marks, every student copy zero.

Each notebook runs through the real pipeline (fresh backend process, nbclient in a real kernel,
the lab's pytest checks in this process).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from course.checks.catalog import graded_lab_ids
from course.grading.grade import grade_submission
from course.grading.limits import Limits
from course.rules.estimates import drifted

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
GRADED = [p for p in sorted((ROOT / "solutions").glob("*.ipynb")) if p.name[:2] in graded_lab_ids()]


def test_every_lab_with_checks_has_a_solution() -> None:
    assert {p.name[:2] for p in GRADED} == set(graded_lab_ids())


@pytest.mark.parametrize("solution", GRADED, ids=lambda p: p.stem)
def test_the_solution_scores_full_marks(solution: Path, lab_limits: Limits) -> None:
    grade = grade_submission(solution, solution.name[:2], lab_limits)
    failing = {r.id: r.message for r in grade.results if not r.passed}
    assert failing == {}, grade.execution.summary
    assert grade.score == grade.max_score > 0
    assert grade.execution.problems == []
    # connect("aws") quotes this bill as the lab's estimate: it must still be about right.
    assert grade.cost is not None
    assert drifted(solution.name[:2], grade.cost.total) is None
    # The grading kernel imported pyplot before the notebook (its warm-up): figures still show.
    for cell in grade.notebook.cells:
        if cell.cell_type == "code" and "visibility_timeline(" in cell.source:
            assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source


@pytest.mark.parametrize("solution", GRADED, ids=lambda p: p.stem)
def test_the_unmodified_student_copy_scores_zero(solution: Path, lab_limits: Limits) -> None:
    student = ROOT / "labs" / solution.name
    grade = grade_submission(student, solution.name[:2], lab_limits)
    assert grade.score == 0
    assert {r.outcome for r in grade.results} <= {"not_attempted", "failed"}
    assert any(
        p.kind == "error" and "NotImplementedError" in p.message for p in grade.execution.problems
    )


def test_plain_boto3_without_the_kit_is_graded_the_same(tmp_path: Path, lab_limits: Limits) -> None:
    """A submission that never imports the kit: the grader's environment points boto3 there."""
    nb = nbformat.read(ROOT / "solutions" / "01-sqs-basics.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if "from course" not in c.source and "check(" not in c.source]
    # The kit's name() is the plain name on the local backend: a plain notebook writes it so.
    nb.cells.insert(0, nbformat.v4.new_code_cell("def name(base):\n    return base"))
    assert not any("course" in c.source for c in nb.cells if c.cell_type == "code")
    path = tmp_path / "plain.ipynb"
    nbformat.write(nb, path)
    grade = grade_submission(path, "01", lab_limits)
    assert grade.score == grade.max_score == 10, grade.execution.summary


@pytest.mark.parametrize(
    "solution",
    [p for p in sorted((ROOT / "solutions").glob("*.ipynb")) if p not in GRADED],
    ids=lambda p: p.stem,
)
def test_labs_without_points_run_cleanly(solution: Path, tmp_path: Path) -> None:
    import os

    from course.backend.process import Backend
    from course.connection import scrubbed_environment
    from course.grading.execute import execute_notebook

    nb = nbformat.read(solution, as_version=4)
    with Backend.start() as backend:
        env = scrubbed_environment(dict(os.environ), backend.url)
        execution = execute_notebook(nb, env=env, cwd=tmp_path, limits=Limits())
    assert execution.status == "completed" and execution.problems == []
    printed = "".join(str(o.get("text", "")) for c in nb.cells for o in c.get("outputs", []))
    assert "123456789012" in printed and "us-east-1" in printed
