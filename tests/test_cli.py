"""The command line: help that answers, named exit codes, reports written where asked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from course.backend.process import Backend
from course.cli import EXIT_NOTHING_TO_GRADE, main

from tests.conftest import make_client, notebook_file


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


# --- `course start` and the shared backend's lifecycle, with real processes -----------------

READY = "JupyterLab is ready: "


def course_env(tmp_path: Path) -> dict[str, str]:
    """An environment of its own for `course`: state, Jupyter's folders, temporary files."""
    import os

    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {
        **os.environ,
        "COURSE_STATE_DIR": str(tmp_path / "state"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "TMPDIR": str(tmp_path / "tmp"),
    }


def _course(env: dict[str, str], *args: str, timeout: float = 60) -> Any:
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "course.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class CourseStart:
    """A `course start` running in its own session, and what it printed so far."""

    process: Any
    url: str
    lines: list[str]
    reader: Any

    def output(self) -> str:
        """Its output so far; all of it once it has ended."""
        if self.process.poll() is not None:
            self.reader.join(timeout=10)
        return "".join(self.lines)


def _as_in_a_terminal() -> None:
    """Ctrl+C as a terminal's foreground job gets it, whatever the test runner's own: a shell
    starts a background job (`pytest &`) with SIGINT ignored, and a child inherits that."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_course(env: dict[str, str], *args: str, timeout: float = 60) -> CourseStart:
    """`course start --no-browser ARGS` in its own session, once it has printed JupyterLab's
    URL. Fails if it prints none within ``timeout`` seconds."""
    import subprocess
    import sys
    import threading

    process = subprocess.Popen(
        [sys.executable, "-m", "course.cli", "start", "--no-browser", *args],
        env=env,
        stdout=subprocess.PIPE,
        # JupyterLab's log, next to the state folder, for a failing test to be understood.
        stderr=open(Path(env["COURSE_STATE_DIR"]).with_name("jupyterlab.log"), "ab"),  # noqa: SIM115
        text=True,
        start_new_session=True,
        preexec_fn=_as_in_a_terminal,
    )
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if line.startswith(READY):
                found.set()
        found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    found.wait(timeout)
    urls = [line[len(READY) :].strip() for line in lines if line.startswith(READY)]
    if not urls:
        end_course(process, env)
        pytest.fail(f"`course start` printed no URL within {timeout:.0f} s:\n{''.join(lines)}")
    return CourseStart(process, urls[0], lines, reader)


def end_course(process: Any, env: dict[str, str]) -> None:
    """Stop what a test's `course start` left: its process group, then the backend."""
    import os
    import signal
    import subprocess

    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _course(env, "backend", "stop")


def _get_json(url: str) -> Any:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _lab_api(url: str, path: str) -> Any:
    """``GET /api/<path>`` of the JupyterLab at ``url`` (its /lab?token=... address)."""
    from urllib.parse import urlparse

    parts = urlparse(url)
    return _get_json(f"{parts.scheme}://{parts.netloc}/api/{path}?{parts.query}")


def _gone(pid: int, timeout: float) -> bool:
    import os
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            os.kill(pid, 0)
            # An orphan ended but not yet reaped (a container's init may never reap) is gone.
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


@pytest.mark.slow
def test_course_start_prints_its_url_opens_on_the_folder_and_is_reused(tmp_path: Path) -> None:
    env = course_env(tmp_path)
    labs = tmp_path / "my labs"
    labs.mkdir()
    notebook_file(labs / "01-mine.ipynb", ["print('hello')"], lab="01")
    run = start_course(env, "--labs", str(labs))
    process, url, output = run.process, run.url, run.output()
    try:
        assert url.startswith("http://127.0.0.1:") and "/lab?token=" in url, output
        assert f"Starting JupyterLab on {labs}" in output
        # The URL with its token opens JupyterLab's API, rooted at the folder asked for.
        listing = _lab_api(url, "contents")
        assert [item["name"] for item in listing["content"]] == ["01-mine.ipynb"]
        again = _course(env, "start", "--no-browser", timeout=30)
        assert again.returncode == 0, again.stderr
        assert f"JupyterLab already runs on {labs}: {url}" in again.stdout
        assert "Using the running local AWS backend" in again.stdout
        assert process.poll() is None  # the first one still serves
    finally:
        end_course(process, env)


@pytest.mark.slow
def test_ctrl_c_stops_jupyterlab_and_leaves_the_backend_running(tmp_path: Path) -> None:
    import os
    import signal

    env = course_env(tmp_path)
    state = tmp_path / "state"
    run = start_course(env, "--labs", str(tmp_path))
    process, url = run.process, run.url
    try:
        lab_pid = json.loads((state / "jupyterlab.json").read_text())["pid"]
        backend_pid = json.loads((state / "backend.json").read_text())["pid"]
        process.send_signal(signal.SIGINT)  # Ctrl+C reaches `course start`...
        os.kill(lab_pid, signal.SIGINT)  # ...and JupyterLab, in the terminal's process group
        assert process.wait(timeout=30) == 0
        assert "JupyterLab stopped. The backend still runs at http://127.0.0.1:" in run.output()
        assert _gone(lab_pid, 5), "JupyterLab still runs"
        with pytest.raises(OSError):
            _lab_api(url, "status")
        assert not (state / "jupyterlab.json").exists()
        status = _course(env, "backend", "status", "--json")
        assert status.returncode == 0 and json.loads(status.stdout)["running"] is True
        # A new `course start` starts a new JupyterLab on the same backend.
        again = _course(env, "start", "--no-lab")
        assert "Using the running local AWS backend" in again.stdout
    finally:
        end_course(process, env)
    assert _gone(backend_pid, 10), "`course backend stop` left the backend running"


@pytest.mark.slow
def test_a_killed_course_start_takes_its_jupyterlab_along(tmp_path: Path) -> None:
    import signal

    env = course_env(tmp_path)
    process = start_course(env, "--labs", str(tmp_path)).process
    try:
        lab_pid = json.loads((tmp_path / "state" / "jupyterlab.json").read_text())["pid"]
        process.send_signal(signal.SIGTERM)  # only `course start`, as `kill` would
        assert process.wait(timeout=30) == 0
        assert _gone(lab_pid, 5), "JupyterLab outlived `course start`"
    finally:
        end_course(process, env)


LAMBDA_TRUST = (
    '{"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, '
    '"Action": "sts:AssumeRole"}]}'
)


def _invoke_a_lambda(backend: Backend) -> None:
    """Create and invoke a Lambda function on ``backend``: the backend then keeps the
    function's code in a temporary folder of its own."""
    from tests.backend.awslambda.test_lambda import create, invoke

    role = make_client(backend, "iam").create_role(
        RoleName="runner", AssumeRolePolicyDocument=LAMBDA_TRUST
    )
    lam = make_client(backend, "lambda")
    create(lam, role["Role"]["Arn"])
    answer, _ = invoke(lam, {"name": "An"})
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer


def test_the_backend_exits_promptly_on_sigterm_and_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal
    import time

    env = course_env(tmp_path)
    monkeypatch.setenv("TMPDIR", env["TMPDIR"])  # the backend's temporary folders go there
    backend = Backend.start(log_path=tmp_path / "backend.log", detached=True)
    try:
        _invoke_a_lambda(backend)
        assert any((tmp_path / "tmp").iterdir()), "the backend made no temporary folder"
        began = time.monotonic()
        backend.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        assert backend.process.wait(timeout=5) == 0  # type: ignore[union-attr]
        assert time.monotonic() - began < 2
    finally:
        backend.stop()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_backend_stop_ends_the_backend_and_its_temporary_folder(tmp_path: Path) -> None:
    env = course_env(tmp_path)
    started = _course(env, "backend", "start")
    assert started.returncode == 0, started.stderr
    state = tmp_path / "state" / "backend.json"
    recorded = json.loads(state.read_text())
    try:
        _invoke_a_lambda(Backend(recorded["url"], recorded["pid"], recorded["admin_token"]))
        assert any((tmp_path / "tmp").iterdir()), "the backend made no temporary folder"
    finally:
        stopped = _course(env, "backend", "stop")
    assert stopped.stdout.strip() == "stopped"
    assert _gone(recorded["pid"], 5)
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not state.exists()


def test_backend_stop_ends_a_backend_that_no_longer_answers(tmp_path: Path) -> None:
    import os
    import signal

    env = course_env(tmp_path)
    assert _course(env, "backend", "start").returncode == 0
    pid = json.loads((tmp_path / "state" / "backend.json").read_text())["pid"]
    os.kill(pid, signal.SIGSTOP)  # hung: it answers nothing, not even SIGTERM
    try:
        stopped = _course(env, "backend", "stop")
        assert stopped.stdout.strip() == "stopped", stopped.stdout + stopped.stderr
        assert _gone(pid, 5)
    finally:
        if not _gone(pid, 0.1):
            os.kill(pid, signal.SIGKILL)
