"""Bad input gets a clear, specific result and never takes the grader down.

Each submission runs through the real pipeline: a fresh backend process, a real kernel, the
lab's pytest checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from course.grading.execute import Limits
from course.grading.grade import Grade, grade_all, grade_submission
from course.grading.reports import feedback_markdown

from tests.conftest import notebook_file

CREATE = """import boto3
sqs = boto3.client("sqs")
url = sqs.create_queue(QueueName="lab-standard-queue")["QueueUrl"]"""
SEND = """import json
for i in range(3):
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": str(i), "age": i}))"""

pytestmark = pytest.mark.slow


def outcomes(grade: Grade) -> dict[str, str]:
    return {r.id.split(".", 1)[1]: r.outcome for r in grade.results}


def test_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [ this is not json')
    grade = grade_submission(path, "01")
    assert grade.execution.status == "unreadable"
    assert "not a readable notebook" in grade.execution.summary
    assert grade.score == 0 and set(outcomes(grade).values()) == {"not_attempted"}


def test_json_that_is_not_a_notebook(tmp_path: Path) -> None:
    path = tmp_path / "list.ipynb"
    path.write_text(json.dumps([1, 2, 3]))
    grade = grade_submission(path, "01")
    assert grade.execution.status == "unreadable" and grade.score == 0


def test_an_empty_notebook(tmp_path: Path) -> None:
    path = tmp_path / "empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), path)
    grade = grade_submission(path, "01")
    assert grade.execution.status == "empty"
    assert "no code" in grade.execution.summary
    assert set(outcomes(grade).values()) == {"not_attempted"}


def test_a_notebook_for_another_lab_is_not_run(tmp_path: Path) -> None:
    path = notebook_file(tmp_path / "lab05.ipynb", [CREATE], lab="05")
    grade = grade_submission(path, "01")
    assert grade.execution.status == "wrong-lab"
    assert "lab 05" in grade.execution.summary
    assert grade.score == 0


def test_execution_goes_on_after_a_cell_that_raises(grade_cells: Callable[..., Grade]) -> None:
    grade = grade_cells("01", [CREATE, "1/0", SEND])
    assert outcomes(grade)["sent-three-json"] == "passed"
    assert [(p.cell, p.kind) for p in grade.execution.problems] == [(2, "error")]
    assert "ZeroDivisionError" in feedback_markdown(grade)


def test_an_endless_loop_is_stopped_and_later_cells_still_run(
    grade_cells: Callable[..., Grade],
) -> None:
    loop = "import time\nwhile True:\n    time.sleep(0.05)"
    grade = grade_cells("01", [CREATE, loop, SEND], cell_timeout=3)
    assert [(p.cell, p.kind) for p in grade.execution.problems] == [(2, "timeout")]
    assert outcomes(grade)["queue-exists"] == "passed"
    assert outcomes(grade)["sent-three-json"] == "passed"
    assert "time limit" in feedback_markdown(grade)


def test_a_loop_that_swallows_interrupts_stops_execution(grade_cells: Callable[..., Grade]) -> None:
    stubborn = (
        "while True:\n    try:\n        while True:\n            pass\n"
        "    except BaseException:\n        pass"
    )
    grade = grade_cells("01", [CREATE, stubborn, SEND], cell_timeout=3)
    assert grade.execution.status == "stopped" and grade.execution.stopped_at == 2
    kinds = [p.kind for p in grade.execution.problems]
    assert "timeout" in kinds and "stuck-kernel" in kinds
    assert outcomes(grade)["queue-exists"] == "passed"  # what was done before still counts
    assert outcomes(grade)["sent-three-json"] == "not_attempted"


def test_the_notebook_time_limit_stops_the_run(grade_cells: Callable[..., Grade]) -> None:
    grade = grade_cells(
        "01", [CREATE, "import time; time.sleep(4)", SEND], cell_timeout=30, total_timeout=3
    )
    assert grade.execution.status == "stopped"
    assert "time limit" in grade.execution.summary
    assert outcomes(grade)["queue-exists"] == "passed"


def test_a_kernel_that_dies(grade_cells: Callable[..., Grade]) -> None:
    grade = grade_cells("01", [CREATE, "import os\nos._exit(1)", SEND])
    assert grade.execution.status == "stopped" and grade.execution.stopped_at == 2
    assert "kernel died in code cell 2" in grade.execution.summary
    assert outcomes(grade)["queue-exists"] == "passed"
    assert "Execution stopped at code cell 2" in feedback_markdown(grade)


def test_a_cell_that_prints_megabytes_is_truncated(grade_cells: Callable[..., Grade]) -> None:
    flood = "for _ in range(40):\n    print('x' * 100_000)"
    grade = grade_cells("01", [CREATE, flood, SEND])
    assert [p.kind for p in grade.execution.problems] == ["output-truncated"]
    kept = sum(len(json.dumps(c.get("outputs", []))) for c in grade.notebook.cells)
    assert kept < Limits().output_bytes + 10_000
    assert outcomes(grade)["sent-three-json"] == "passed"


def test_a_submission_cannot_reset_the_backend_or_its_clock(
    grade_cells: Callable[..., Grade],
) -> None:
    tamper = """import os, urllib.request, urllib.error
codes = []
base = os.environ["AWS_ENDPOINT_URL"]
paths = ("/_course/reset", "/moto-api/reset", "/_course/clock?advance=3600", "/_course/shutdown")
for path in paths:
    try:
        request = urllib.request.Request(base + path, data=b"", method="POST")
        urllib.request.urlopen(request)
        codes.append(200)
    except urllib.error.HTTPError as e:
        codes.append(e.code)
print(codes)
assert codes == [403, 403, 403, 403], codes"""
    grade = grade_cells("01", [CREATE, SEND, tamper])
    assert grade.execution.problems == []
    assert outcomes(grade)["sent-three-json"] == "passed"


def test_the_instructors_credentials_never_reach_the_kernel(
    grade_cells: Callable[..., Grade], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "instructor-secret-key")
    monkeypatch.setenv("AWS_PROFILE", "instructor")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "instructor-token")
    spy = "import os\nprint(sorted((k, v) for k, v in os.environ.items() if k.startswith('AWS_')))"
    grade = grade_cells("01", [spy, CREATE])
    printed = json.dumps(grade.notebook.cells[0].outputs)
    assert "instructor" not in printed
    assert "AWS_ENDPOINT_URL" in printed
    assert grade.results[0].outcome == "passed", grade.results[0].message


def test_one_bad_submission_does_not_stop_the_others(tmp_path: Path) -> None:
    bad = tmp_path / "a-bad.ipynb"
    bad.write_text("garbage")
    good = notebook_file(tmp_path / "b-good.ipynb", [CREATE, SEND], lab="01")
    grades = grade_all([bad, good], "01")
    assert [g.student for g in grades] == ["a-bad", "b-good"]
    assert grades[0].execution.status == "unreadable"
    assert grades[1].score >= 3
