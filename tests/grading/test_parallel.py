"""Grading many submissions at once: same scores as one at a time, deterministic reports, a
clean backend for each submission, and a clear stop where no sandbox can be made."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from course.cli import EXIT_NO_SANDBOX, main
from course.grading.grade import grade_all

from tests.conftest import ROOT, notebook_file

pytestmark = pytest.mark.slow

SLEEP = "time.sleep(11)  # longer than the 10-second visibility timeout"
NO_SLEEP = (
    'sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=first["ReceiptHandle"], '
    "VisibilityTimeout=0)"
)


def sleep_free_solution(path: Path) -> Path:
    """Lab 01's solution, with the visibility timeout ended by a call instead of a wait."""
    nb = nbformat.read(ROOT / "solutions" / "01-sqs-basics.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and SLEEP in c.source]
    assert cells, "the solution no longer waits out the timeout: update this test"
    for cell in cells:
        cell.source = cell.source.replace(SLEEP, NO_SLEEP)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def submissions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A right answer first, then work that must not inherit its queue, then partial work."""
    folder = tmp_path_factory.mktemp("submissions")
    sleep_free_solution(folder / "a-right.ipynb")
    shutil.copy(ROOT / "labs" / "01-sqs-basics.ipynb", folder / "b-untouched.ipynb")
    notebook_file(
        folder / "c-partial.ipynb",
        ['import boto3\nboto3.client("sqs").create_queue(QueueName="lab-standard-queue")'],
        lab="01",
    )
    sleep_free_solution(folder / "d-right-again.ipynb")
    return folder


def scores(grades: list) -> list[tuple[str, float]]:  # type: ignore[type-arg]
    return [(g.student, g.score) for g in grades]


def test_parallel_grading_gives_the_scores_of_one_at_a_time(submissions: Path) -> None:
    paths = sorted(submissions.glob("*.ipynb"))
    one_at_a_time = grade_all(paths, "01", jobs=1)
    finished: list[str] = []
    in_parallel = grade_all(paths, "01", jobs=2, on_done=lambda g: finished.append(g.student))
    expected = [("a-right", 10), ("b-untouched", 0), ("c-partial", 1), ("d-right-again", 10)]
    assert scores(one_at_a_time) == expected
    assert scores(in_parallel) == expected  # in the order given, whatever order they finished
    assert sorted(finished) == [s for s, _ in expected]
    for a, b in zip(one_at_a_time, in_parallel, strict=True):
        assert [r.outcome for r in a.results] == [r.outcome for r in b.results]


def test_a_reused_backend_starts_each_submission_empty(submissions: Path) -> None:
    # One job: "b-untouched" runs on the backend "a-right" used; a queue left over from it
    # would pass b's checks.
    right, untouched = sorted(submissions.glob("*.ipynb"))[:2]
    grades = grade_all([right, untouched], "01", jobs=1)
    assert scores(grades) == [("a-right", 10), ("b-untouched", 0)]


def test_the_command_line_grades_in_parallel_and_writes_reports_in_order(
    submissions: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["grade", "01", str(submissions), "--out", str(out), "-j", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["isolated"] is True
    assert [s["student"] for s in summary["submissions"]] == [
        "a-right",
        "b-untouched",
        "c-partial",
        "d-right-again",
    ]
    with (out / "grades.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["student"] for r in rows] == [s["student"] for s in summary["submissions"]]


def test_no_sandbox_here_stops_with_the_fix(
    submissions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from course.sandbox.bwrap import check_available

    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on it
    check_available.cache_clear()
    try:
        result = CliRunner().invoke(
            main, ["grade", "01", str(submissions), "--out", str(tmp_path / "out")]
        )
    finally:
        check_available.cache_clear()
    assert result.exit_code == EXIT_NO_SANDBOX
    assert "bubblewrap" in result.output and "--no-sandbox" in result.output
    assert not (tmp_path / "out").exists()


def test_no_sandbox_grades_and_every_report_says_it_was_not_isolated(
    submissions: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    right = next(submissions.glob("a-*.ipynb"))
    result = CliRunner().invoke(
        main, ["grade", "01", str(right), "--out", str(out), "--no-sandbox"]
    )
    assert result.exit_code == 0, result.output
    assert "NOT ISOLATED" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["isolated"] is False and summary["submissions"][0]["isolated"] is False
    assert "Not isolated" in (out / "a-right" / "feedback.md").read_text()
    assert "Not isolated" in json.loads((out / "a-right" / "results.json").read_text())["output"]
    assert json.loads((out / "a-right.json").read_text())["isolated"] is False


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--memory", "lots", "not a size"),
        ("--disk", "-1G", "positive"),
        ("-j", "0", "0 is not in the range x>=1"),
    ],
)
def test_bad_limits_are_usage_errors(
    submissions: Path, tmp_path: Path, flag: str, value: str, message: str
) -> None:
    result = CliRunner().invoke(
        main, ["grade", "01", str(submissions), "--out", str(tmp_path / "o"), flag, value]
    )
    assert result.exit_code == 2 and message in result.output
