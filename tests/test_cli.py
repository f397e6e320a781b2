"""The command line: help that answers, named exit codes, reports written where asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from course.cli import EXIT_NOTHING_TO_GRADE, main

from tests.conftest import notebook_file


@pytest.mark.parametrize(
    "command", [[], ["grade"], ["build"], ["backend"], ["start"], ["labs"], ["slides"]]
)
def test_help_answers(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_grade_with_an_unknown_lab_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["grade", "42", str(tmp_path)])
    assert result.exit_code == 2
    assert "there is no lab 42" in result.output


def test_grade_with_no_notebooks_says_so(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a notebook")
    result = CliRunner().invoke(main, ["grade", "01", str(tmp_path)])
    assert result.exit_code == EXIT_NOTHING_TO_GRADE
    assert "No .ipynb files" in result.output


def test_labs_lists_every_check_with_points() -> None:
    result = CliRunner().invoke(main, ["labs"])
    assert result.exit_code == 0
    assert "lab01.queue-attributes" in result.output and "(10 points)" in result.output


def test_labs_lists_the_graded_labs_of_the_catalog_with_their_titles() -> None:
    from course.checks.catalog import all_labs

    result = CliRunner().invoke(main, ["labs"])
    headings = [line for line in result.output.splitlines() if not line.startswith(" ")]
    assert headings == [
        f"{lab.id} {lab.title} ({lab.max_points:g} points)" for lab in all_labs() if lab.graded
    ]


def test_check_with_an_unknown_lab_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from course.backend import process

    monkeypatch.setattr(process, "running_backend", lambda: SimpleNamespace(url="http://x"))
    monkeypatch.setenv("COURSE_ENDPOINT", "http://127.0.0.1:9")
    result = CliRunner().invoke(main, ["check", "42"])
    assert result.exit_code == 2
    assert "there is no lab 42; the labs with checks are 01" in result.output


@pytest.mark.slow
def test_grade_writes_every_report(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    notebook_file(
        submissions / "an.ipynb",
        ['import boto3\nboto3.client("sqs").create_queue(QueueName="lab-standard-queue")'],
        lab="01",
    )
    (submissions / "binh.ipynb").write_text("{")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["grade", "01", str(submissions), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["version"] == 1
    assert [(s["student"], s["score"]) for s in summary["submissions"]] == [("an", 1), ("binh", 0)]
    for name in (
        "grades.csv",
        "summary.json",
        "an.json",
        "binh.json",
        "an/results.json",
        "an/feedback.html",
        "an/feedback.md",
        "an/executed.ipynb",
    ):
        assert (out / name).exists(), name


def test_backend_lifecycle_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path))
    runner = CliRunner()
    try:
        started = runner.invoke(main, ["start", "--no-lab"])
        assert (
            started.exit_code == 0
            and "Started local AWS backend at http://127.0.0.1:" in started.output
        )
        again = runner.invoke(main, ["backend", "start"])
        assert "already running" in again.output
        status = runner.invoke(main, ["backend", "status", "--json"])
        assert json.loads(status.output)["running"] is True
        assert runner.invoke(main, ["backend", "reset"]).exit_code == 0
    finally:
        stopped = runner.invoke(main, ["backend", "stop"])
    assert stopped.output.strip() == "stopped"
    assert runner.invoke(main, ["backend", "status"]).exit_code == 4


def test_submissions_with_the_same_name_get_distinct_reports(tmp_path: Path) -> None:
    from course.grading.grade import student_names

    a = tmp_path / "solutions" / "01-sqs-basics.ipynb"
    b = tmp_path / "labs" / "01-sqs-basics.ipynb"
    c = tmp_path / "an.ipynb"
    assert student_names([a, b, c]) == {
        a: "solutions-01-sqs-basics",
        b: "labs-01-sqs-basics",
        c: "an",
    }


@pytest.mark.slow
def test_course_start_opens_jupyterlab_whoever_the_user_is(tmp_path: Path) -> None:
    """As root (Docker images, cloud notebooks) JupyterLab refuses to start without
    --allow-root; `course start` must start it all the same, and say so."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {
        **os.environ,
        "COURSE_STATE_DIR": str(tmp_path / "state"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "course.cli", "start", "--no-browser"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            seen.append(line)
            if "http://" in line and "/lab" in line and "token=" in line:
                break
        output = "".join(seen)
        assert process.poll() is None, f"JupyterLab exited:\n{output}"
        assert "token=" in output, output
        if os.geteuid() == 0:
            assert "Running as root: starting JupyterLab with --allow-root" in output
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        subprocess.run(
            [sys.executable, "-m", "course.cli", "backend", "stop"], env=env, check=False
        )
