"""The pytest plugin on its own: an instructor runs a lab's checks with plain ``pytest``.

The plugin is installed as the ``course`` pytest11 entry point. These tests run pytest in a
subprocess (pytester), the way an instructor would, and read what it reports.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from course.backend.process import Backend

from tests.conftest import make_client

CHECKS = """
from course.checks.api import CheckFailed, NotAttempted, check

LAB = "99"


@check("queue-exists", points=2, kind="state", statement="A queue named plugin-q exists.",
       hint="create_queue(QueueName='plugin-q')")
def test_queue_exists(aws):
    urls = aws.client("sqs").list_queues().get("QueueUrls", [])
    if not urls:
        raise NotAttempted("no queue yet")
    if not any(u.endswith("/plugin-q") for u in urls):
        raise CheckFailed(f"the queues are {urls}, not plugin-q")


@check("answer", points=1, kind="answer", statement="`answer` is 42.", hint="answer = 42")
def test_answer(aws):
    if aws.answer("answer") != 42:
        raise CheckFailed("answer is not 42")
"""


def _results(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, list[dict]]:
    pytester.makepyfile(labchecks=CHECKS)
    out = pytester.path / "results.json"
    run = pytester.runpytest_subprocess("labchecks.py", "-rs", "--course-results", str(out), *args)
    return run, json.loads(out.read_text()) if out.exists() else []


def test_without_a_backend_the_checks_are_skipped(pytester: pytest.Pytester) -> None:
    run, results = _results(pytester)
    run.assert_outcomes(skipped=2)
    assert "pass --course-endpoint" in run.stdout.str()
    assert results == []


def test_outcomes_and_points_against_a_backend(
    pytester: pytest.Pytester, backend: Backend, tmp_path: Path
) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"answer": 41}))
    endpoint = ("--course-endpoint", backend.url, "--course-answers", str(answers))

    run, results = _results(pytester, *endpoint)
    run.assert_outcomes(passed=0, failed=2)
    found = {r["id"]: (r["outcome"], r["points"], r["max_points"]) for r in results}
    assert found == {
        "lab99.queue-exists": ("not_attempted", 0, 2),
        "lab99.answer": ("failed", 0, 1),
    }

    make_client(backend, "sqs").create_queue(QueueName="other-q")
    run, results = _results(pytester, *endpoint)
    assert {r["id"]: r["outcome"] for r in results}["lab99.queue-exists"] == "failed"

    make_client(backend, "sqs").create_queue(QueueName="plugin-q")
    answers.write_text(json.dumps({"answer": 42}))
    run, results = _results(pytester, *endpoint)
    run.assert_outcomes(passed=2)
    assert [(r["id"], r["outcome"], r["points"]) for r in results] == [
        ("lab99.queue-exists", "passed", 2),
        ("lab99.answer", "passed", 1),
    ]
