"""Shared fixtures: a real backend process, boto3 clients on it, and notebook grading helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import nbformat
import pytest
from botocore.config import Config
from course.backend.process import Backend
from course.checks.api import CheckResult, run_check
from course.checks.catalog import resolve_lab
from course.checks.context import Aws
from course.grading.execute import Limits
from course.grading.grade import Grade, grade_submission

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--time-scale",
        type=float,
        default=None,
        help="run the session's backend and the notebooks the tests grade K times faster than "
        "the wall clock (1: real time); the tests must give the same outcomes at any K. "
        "Default: real time for the check tests, each lab's own factor for its notebooks",
    )


def time_scale(config: pytest.Config) -> float | None:
    """The ``--time-scale`` given to the session, or None."""
    scale = config.getoption("--time-scale")
    return None if scale is None else float(scale)


@pytest.fixture(scope="session")
def lab_limits(pytestconfig: pytest.Config) -> Limits:
    """The limits a test grades a lab's own notebooks under: each lab's own time scale, unless
    ``--time-scale`` sets one (``--time-scale 1`` grades them on the wall clock)."""
    return Limits(time_scale=time_scale(pytestconfig))


@pytest.fixture(scope="session")
def backend_process(pytestconfig: pytest.Config) -> Iterator[Backend]:
    """One backend server process for the whole test session, on the session's time scale."""
    scale = time_scale(pytestconfig) or 1.0
    backend = Backend.start(time_scale=scale if scale != 1 else None)
    yield backend
    backend.stop()


@pytest.fixture
def backend(backend_process: Backend) -> Backend:
    """The session's backend, wiped clean (resources, flow and clock) for this test."""
    backend_process.reset()
    return backend_process


def make_client(
    backend: Backend, service: str, region: str = "us-east-1", config: Config | None = None
) -> Any:
    """A plain boto3 client on ``backend``, as a student's notebook would make it."""
    return boto3.client(
        service,
        endpoint_url=backend.url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def make_resource(backend: Backend, service: str = "sqs", region: str = "us-east-1") -> Any:
    """A boto3 resource (the object API) on ``backend``, as a student may use instead."""
    return boto3.resource(
        service,
        endpoint_url=backend.url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def sqs(backend: Backend) -> Any:
    return make_client(backend, "sqs")


@pytest.fixture
def aws(backend: Backend) -> Aws:
    """The checks' view of the backend, as the grader builds it."""
    return Aws(backend.url)


def check_results(lab: str, aws: Aws) -> dict[str, CheckResult]:
    """Run every check of ``lab`` against ``aws``; results keyed by short id (``queue-exists``)."""
    fresh = Aws(aws.endpoint_url, answers=aws._answers)  # a new flow read for each call
    return {c.id: run_check(c, fresh) for c in resolve_lab(lab).checks}


def printed_text(grade: Grade) -> str:
    """Everything the graded notebook's code cells printed (their stream outputs), in order."""
    return "".join(
        str(out.get("text", ""))
        for cell in grade.notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


def notebook_file(path: Path, cells: list[str], lab: str | None = None) -> Path:
    """Write a notebook of code cells (tagged as ``lab``'s when given)."""
    metadata: dict[str, Any] = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    }
    if lab:
        metadata["course"] = {"lab": lab}
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in cells], metadata=metadata
    )
    nbformat.write(nb, path)
    return path


@pytest.fixture
def grade_cells(tmp_path: Path, pytestconfig: pytest.Config) -> Callable[..., Grade]:
    """Grade a notebook made of the given code cells, through the real grading pipeline, on the
    session's time scale (the wall clock, as the cells' sleeps and limits were written for,
    unless ``--time-scale`` is given)."""
    scale = time_scale(pytestconfig) or 1.0

    def run(lab: str, cells: list[str], name: str = "submission", **limits: float) -> Grade:
        path = notebook_file(tmp_path / f"{name}.ipynb", cells, lab)
        return grade_submission(path, lab, Limits(**{"time_scale": scale, **limits}))

    return run
