"""The pytest plugin that turns a lab's checks into graded tests.

Registered as the ``course`` pytest11 entry point, so an instructor can also run a lab's checks
by hand: ``pytest --pyargs course.checks.labs.lab01 --course-endpoint http://127.0.0.1:PORT``.
The grader runs them in its own process through ``run_checks``, which hands the plugin the
grader's ``Aws`` and takes back every outcome with its points.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from course.checks.api import CheckResult, outcome_of
from course.checks.catalog import Lab
from course.checks.context import Aws

AWS_KEY = pytest.StashKey[Aws]()
RESULTS_KEY = pytest.StashKey[list[CheckResult]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The options for running a lab's checks by hand."""
    group = parser.getgroup("course", "AWS messaging course grader")
    group.addoption("--course-endpoint", help="the local backend's URL to grade against")
    group.addoption("--course-answers", type=Path, help="JSON file of the notebook's answers")
    group.addoption("--course-results", type=Path, help="write the check results to this JSON file")


def pytest_configure(config: pytest.Config) -> None:
    """Start the session's list of check results."""
    config.stash[RESULTS_KEY] = []


@pytest.fixture
def aws(request: pytest.FixtureRequest) -> Aws:
    """The run's backend view: given by the grader, or built from ``--course-endpoint``."""
    config = request.config
    if AWS_KEY in config.stash:
        return config.stash[AWS_KEY]
    endpoint = config.getoption("--course-endpoint")
    if not endpoint:
        pytest.skip("no backend to grade: pass --course-endpoint")
    answers_file = config.getoption("--course-answers")
    answers = json.loads(answers_file.read_text()) if answers_file else None
    config.stash[AWS_KEY] = Aws(endpoint, answers=answers)
    return config.stash[AWS_KEY]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Classify each check's call with ``outcome_of`` and keep the result."""
    report = yield
    definition = getattr(getattr(item, "function", None), "__check__", None)
    if definition is None or call.when != "call":
        return report
    exc = call.excinfo.value if call.excinfo else None
    result = outcome_of(definition, exc)
    item.config.stash[RESULTS_KEY].append(result)
    report.user_properties.append(("course", result.to_json()))
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the results to ``--course-results``, when given."""
    path = session.config.getoption("--course-results", None)
    if path:
        results = [r.to_json() for r in session.config.stash[RESULTS_KEY]]
        Path(path).write_text(json.dumps(results, indent=2))


UNUSED_PLUGINS = (
    "unraisableexception",
    "threadexception",
    "doctest",
    "junitxml",
    "pastebin",
    "logging",
    "legacypath",
    "stepwise",
    "faulthandler",
    "setuponly",
    "setupplan",
    "warnings",
    "tmpdir",
    "monkeypatch",
    "recwarn",
    # pytest-xdist, where the test extra installed it: a checks run is one process.
    "xdist",
    "xdist.looponfail",
)


class _Injector:
    """Hands the grader's ``Aws`` to the plugin and collects the results afterwards."""

    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self.results: list[CheckResult] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[AWS_KEY] = self.aws

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.results = list(config.stash.get(RESULTS_KEY, []))


def run_checks(lab: Lab, aws: Aws) -> list[CheckResult]:
    """Run ``lab``'s checks module under pytest, in this process, against ``aws``, and return
    each check's result in the order they ran."""
    if lab.module is None:
        raise ValueError(f"lab {lab.id} has no checks to run")
    injector = _Injector(aws)
    args = [
        "--pyargs",
        lab.module,
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",
        # Built-in plugins a checks run has no use for; each costs time at every session's start
        # (unraisableexception also runs gc.collect() at its end: 0.15 s of CPU a submission).
        *(f"-pno:{name}" for name in UNUSED_PLUGINS),
        "--noconftest",  # the caller's own conftest.py (and its fixtures) must not leak in
        "-o",
        "python_files=lab*.py",
        "-o",
        "addopts=",
        "--rootdir",
        str(Path(__file__).parent),
    ]
    pytest.main(args, plugins=[injector])
    return injector.results
