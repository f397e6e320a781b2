"""A stand-in for a learner's real AWS account, and a notebook run against it.

The stand-in is a kit backend process that the notebook reaches only as any AWS-compatible
service is reached: ``COURSE_BACKEND=aws`` and ``AWS_ENDPOINT_URL`` (with ``COURSE_SMTP_ENDPOINT``
for its SMTP interface). Nothing kit-private reaches the kernel: no ``COURSE_ENDPOINT``, no admin
token, so ``mailbox()`` and the flow are unavailable, exactly as on AWS.

Why not a plain moto server: run that way, the solutions stop where moto lacks what AWS does
(StartMessageMoveTask, FIFO SequenceNumber, SES v2 DKIM tokens and MAIL FROM, Lambda without
Docker) — gaps the kit's backend fixes (``grader/docs/README.md``). A stand-in that answers as
AWS does is what lets these tests say whether the notebooks are right for AWS.

The test plays the learner's part in the world outside the notebook: a thread reads the
stand-in's mailbox (the learner's inbox) and opens every confirmation and verification link, as
a learner clicks them in their mail.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from course.backend.process import Backend
from course.checks.catalog import Lab
from course.grading.execute import NotebookRun
from course.grading.limits import Limits
from course.timewarp import Dilation

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "ana-"
EMAIL = "ana@student.example.edu"
DOMAIN = "ana-lab.example.org"
#: Operations a check may make on a real account: reading only.
READ_PREFIXES = ("Get", "List", "Describe", "Head", "Filter")


@dataclass
class StandinRun:
    """What one solution notebook did on the stand-in account."""

    lab: str
    nb: Any
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    timeouts: list[int] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    check_calls: list[str] = field(default_factory=list)
    printed: str = ""


def account_environment(standin: Backend | str, **changes: str | None) -> dict[str, str]:
    """A kernel's environment on the stand-in (or another emulator at the address given), as
    a learner on AWS with their own settings (``COURSE_PREFIX``, ``COURSE_EMAIL``,
    ``COURSE_DOMAIN``) would have it; ``changes`` sets others, or removes one given None."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COURSE_"))}
    url = standin if isinstance(standin, str) else standin.url
    host, port = ("127.0.0.1", 25) if isinstance(standin, str) else standin.api.smtp_endpoint()
    env.update(
        COURSE_BACKEND="aws",
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="AKIASTANDINLEARNER01",
        AWS_SECRET_ACCESS_KEY="stand-in-secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_CONFIG_FILE=os.devnull,
        COURSE_SMTP_ENDPOINT=f"{host}:{port}",
        COURSE_PREFIX=PREFIX,
        COURSE_EMAIL=EMAIL,
        COURSE_DOMAIN=DOMAIN,
    )
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class Inbox(threading.Thread):
    """The learner: opens each confirmation or verification link mailed on the stand-in."""

    def __init__(self, standin: Backend) -> None:
        super().__init__(daemon=True)
        self.api = standin.api
        self.opened: list[str] = []
        self._stop = threading.Event()

    def run(self) -> None:
        seen: set[str] = set()
        while not self._stop.wait(0.3):
            with contextlib.suppress(OSError, ValueError):
                for mail in self.api.mailbox():
                    key = json.dumps([mail.get("to"), mail.get("subject"), mail.get("links")])
                    subject = str(mail.get("subject", ""))
                    if key in seen or not any(
                        w in subject for w in ("Confirmation", "Verification")
                    ):
                        continue
                    seen.add(key)
                    for link in mail.get("links", []):
                        if "Token=" in link or "verify" in link.lower():
                            with contextlib.suppress(OSError):
                                urllib.request.urlopen(link, timeout=5).read()
                                self.opened.append(link)

    def stop(self) -> None:
        self._stop.set()


@contextlib.contextmanager
def standin_account(scale: float) -> Iterator[tuple[Backend, Dilation | None]]:
    """A fresh stand-in account on dilated time (``scale``), with the learner's inbox open."""
    dilation = Dilation.starting_now(scale) if scale != 1 else None
    backend = Backend.start(
        gate=True,
        time_scale=dilation.scale if dilation else None,
        time_anchor=dilation.wall_anchor if dilation else None,
    )
    inbox = Inbox(backend)
    inbox.start()
    try:
        yield backend, dilation
    finally:
        inbox.stop()
        backend.stop()


CHECK_CODE = """
import json as _json
from course.notebook.check import check as _check
_report = _check({lab!r})
print("@@CHECKS@@" + _json.dumps([
    {{"id": r.id, "kind": r.kind, "outcome": r.outcome, "message": r.message}}
    for r in _report.results
]))
"""


def run_solution(
    lab: Lab, standin: Backend | None, dilation: Dilation | None, env: dict[str, str]
) -> StandinRun:
    """Run ``lab``'s solution notebook on the account ``env`` names, then its checks in the
    same kernel, noting each cell's error and, on the ``standin``, every call the checks made."""
    assert lab.solution is not None
    nb = nbformat.read(lab.solution, as_version=4)
    run = StandinRun(lab.id, nb)
    env = {**env, "JPY_SESSION_NAME": str(lab.solution)}  # as Jupyter names a kernel's notebook
    limits = Limits(cell_timeout=240, total_timeout=900)
    with NotebookRun(nb, limits=limits, env=env, cwd=ROOT / "solutions", dilation=dilation) as nr:
        execution = nr.execute()
        for problem in execution.problems:
            if problem.kind == "timeout":
                run.timeouts.append(problem.cell)
            elif problem.kind == "error":
                run.errors.append((problem.cell, problem.kind, problem.message))
        mark = standin.api.flow_mark() if standin else 0
        cell = nbformat.v4.new_code_cell(CHECK_CODE.format(lab=lab.id))
        nr.run_cell(cell, timeout=120)
        calls = standin.api.flow(mark)["calls"] if standin else []
        run.check_calls = [f"{c['service']}.{c['action']}" for c in calls]
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            for line in text.splitlines():
                if line.startswith("@@CHECKS@@"):
                    run.checks = json.loads(line.removeprefix("@@CHECKS@@"))
    run.printed = "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    return run


@contextlib.contextmanager
def plain_moto() -> Iterator[str]:
    """A plain moto server (no kit extension), as another AWS emulator is: its address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/moto-api/", timeout=2).read()
                break
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def course_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``course ARGS`` as the learner runs it in a terminal with the same settings."""
    return subprocess.run(
        [sys.executable, "-m", "course.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
