"""The cell record: which notebook cell made each API call and whether that cell raised.

The grader builds it in its own process through nbclient's hooks (``NotebookRun(marker=...)``);
a student's kernel builds it through IPython's ``post_run_cell`` for ``check()``. Both are shown
here on real kernels: the record itself, a graded notebook that catches a refusal against one
that crashes on it, and ``check()`` in a kernel.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from course.backend.process import Backend
from course.client import BackendClient
from course.connection import scrubbed_environment
from course.flow import Flow
from course.grading.execute import Limits, NotebookRun
from course.grading.grade import Grade

SETUP = (
    "import boto3\n"
    "from botocore.exceptions import ClientError\n"
    "sqs = boto3.client('sqs')\n"
    "url = sqs.create_queue(QueueName='long-poll-queue')['QueueUrl']"
)
CAUGHT = (
    "try:\n"
    "    sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)\n"
    "except ClientError as err:\n"
    "    print(err.response['Error']['Code'])"
)
UNCAUGHT = "sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)"


def _notebook(cells: list[str]) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


def _run(backend: Backend, tmp_path: Path, cells: list[str]) -> tuple[NotebookRun, Flow]:
    """``cells`` run in a real (unsandboxed) kernel on ``backend``, marked as the grader does."""
    env = scrubbed_environment(dict(os.environ), backend.url)
    env["COURSE_STATE_DIR"] = str(tmp_path)
    nb = _notebook(cells)
    run = NotebookRun(
        nb, limits=Limits(), env=env, cwd=tmp_path, marker=BackendClient(backend.url).flow_mark
    )
    with run:
        run.execute()
        run.run_cell(nbformat.v4.new_code_cell("sqs.list_queues()"), timeout=10)
    return run, Flow.from_json(backend.flow())


def test_the_grader_records_each_cells_calls_and_whether_it_raised(
    backend: Backend, tmp_path: Path
) -> None:
    thread = (
        "import threading\n"
        "worker = threading.Thread(target=lambda: sqs.get_queue_url(QueueName='long-poll-queue'))\n"
        "worker.start(); worker.join()"
    )
    run, flow = _run(backend, tmp_path, [SETUP, UNCAUGHT, "x = 1", thread, CAUGHT])
    record = run.cells
    assert record is not None
    assert [(r.index, r.raised) for r in record.runs] == [
        (1, False),
        (2, True),
        (3, False),
        (4, False),
        (5, False),
    ]
    assert "InvalidParameterValue" in (record.runs[1].error or "")
    assert record.runs[2].first_seq > record.runs[2].last_seq  # a cell without calls
    cell_of = {(c.action, c.ok): record.cell_of(c) for c in flow}
    assert cell_of[("CreateQueue", True)].index == 1  # type: ignore[union-attr]
    assert cell_of[("GetQueueUrl", True)].index == 4  # type: ignore[union-attr]
    refused = [c for c in flow if c.action == "ReceiveMessage"]
    assert [record.cell_of(c).index for c in refused] == [2, 5]  # type: ignore[union-attr]
    assert record.runs[1].raised_on(refused[0]) and not record.runs[4].raised_on(refused[1])
    # the grader's own cell after the notebook's (answers) is no cell of the record
    assert record.cell_of(flow.calls_to("sqs", "ListQueues")[-1]) is None


def test_without_a_marker_there_is_no_record(backend: Backend, tmp_path: Path) -> None:
    env = scrubbed_environment(dict(os.environ), backend.url)
    with NotebookRun(_notebook(["x = 1"]), limits=Limits(), env=env, cwd=tmp_path) as run:
        run.execute()
    assert run.cells is None


@pytest.mark.parametrize(
    ("lab", "check", "cells", "outcome", "why"),
    [
        ("03", "max-wait-rejected", [SETUP, CAUGHT], "passed", ""),
        ("03", "max-wait-rejected", [SETUP, UNCAUGHT], "failed", "cell 2 failed on it"),
        (
            "08",
            "sandbox-rejection",
            [
                "import boto3\n"
                "boto3.client('sesv2').send_email(FromEmailAddress='no-reply@example.com', "
                "Destination={'ToAddresses': ['stranger@example.org']}, Content={'Simple': "
                "{'Subject': {'Data': 'Hi'}, 'Body': {'Text': {'Data': 'Hi'}}}})"
            ],
            "failed",
            "catch botocore's ClientError",
        ),
    ],
    ids=["03-caught", "03-crashed", "08-crashed"],
)
def test_graded_end_to_end_a_caught_refusal_passes_and_a_crash_fails(
    grade_cells: Callable[..., Grade],
    lab: str,
    check: str,
    cells: list[str],
    outcome: str,
    why: str,
) -> None:
    grade = grade_cells(lab, cells)
    result = next(r for r in grade.results if r.id.endswith(check))
    assert (result.outcome, why in result.message) == (outcome, True), result.message


CHECK_CELL = (
    "report = check('03')\n"
    "found = next(r for r in report.results if r.id.endswith('max-wait-rejected'))\n"
    "print('OUTCOME', found.outcome, found.message)"
)


@pytest.mark.parametrize(
    ("cells", "outcome"),
    [
        ([SETUP, CAUGHT, CHECK_CELL], "passed"),
        # the kernel numbers cells by execution count: connect() was In[1]
        ([SETUP, UNCAUGHT, CHECK_CELL], "failed SQS refused the receive over 20 s, but cell 3"),
        ([SETUP, CAUGHT + "\n" + CHECK_CELL], "passed"),  # check() in the cell that caught it
    ],
    ids=["caught", "crashed", "caught-in-the-check-cell"],
)
def test_check_in_a_kernel_knows_which_cell_raised(
    backend: Backend, tmp_path: Path, cells: list[str], outcome: str
) -> None:
    """``connect()`` starts the kernel's record (IPython's ``post_run_cell``); ``check()``
    reads it, as the grader reads its own."""
    run, _ = _run(backend, tmp_path, ["from course import check, connect\nconnect()", *cells])
    printed = "".join(
        str(o.get("text", "")) + "".join(o.get("traceback", []))
        for c in run.nb.cells
        for o in c.get("outputs", [])
    )
    assert f"OUTCOME {outcome}" in printed, printed
