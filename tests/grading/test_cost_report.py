"""The cost meter where students and graders see it: under ``check()``'s results in the notebook,
on the feedback page (Markdown and HTML) and in the per-student JSON, as ``cost``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course.checks.api import CheckResult
from course.checks.readers.cost import Bill, LineItem
from course.grading.reports import feedback_html, feedback_markdown, write_student
from course.notebook.check import Report
from course.rules.pricing import PRICES

from tests.conftest import printed_text

CELLS = [
    "from course import connect, check\nconnect()",
    "import boto3\n"
    "sqs = boto3.client('sqs')\n"
    "url = sqs.create_queue(QueueName='meter')['QueueUrl']\n"
    "sqs.send_message(QueueUrl=url, MessageBody='x' * 70_000)\n"  # 2 requests: 70,000 > 64 KB
    "sqs.receive_message(QueueUrl=url)\n"  # 2 requests: the same 70,000 bytes back
    "sqs.receive_message(QueueUrl=url)",  # 1 request: empty (the message is in flight)
    "sns = boto3.client('sns')\n"
    "sns.publish(TopicArn=sns.create_topic(Name='meter')['TopicArn'], Message='hi')",
    "print(repr(check('01')))",
]


def test_check_and_the_feedback_show_what_the_calls_would_cost(
    grade_cells: Callable[..., Any], tmp_path: Path
) -> None:
    grade = grade_cells("01", CELLS)
    assert grade.execution.status == "completed", grade.execution.summary
    printed = printed_text(grade)
    # check() in the notebook: the bill of the calls before it, under the check results.
    assert "On AWS these calls would cost" in printed
    sqs_line = next(line for line in printed.splitlines() if "requests (standard queues)" in line)
    assert sqs_line.split()[:5] == ["SQS", "requests", "(standard", "queues)", "6"], sqs_line
    assert any(
        line.startswith("SNS") and "publish requests" in line for line in printed.splitlines()
    )
    # The grader's bill: the same calls, and check()'s own read calls, all SQS requests.
    assert grade.cost is not None
    items = {(i.service, i.item): i for i in grade.cost.items}
    assert items[("SNS", "publish requests")].quantity == 1
    assert items[("SQS", "requests (standard queues)")].quantity >= 6
    page = feedback_markdown(grade)
    assert "## What these calls would cost on AWS" in page
    assert "| SNS | publish requests | 1 |" in page
    assert "<h2>What these calls would cost on AWS</h2>" in feedback_html(grade)
    write_student(grade, tmp_path)
    data = json.loads((tmp_path / f"{grade.student}.json").read_text())
    assert data["cost"]["total"] == grade.cost.total > 0
    assert {i["service"] for i in data["cost"]["items"]} >= {"SQS", "SNS"}


def test_the_check_table_shows_the_bill_and_leaves_it_out_without_one() -> None:
    result = CheckResult("lab01.queue-exists", 2, 2, "passed", "The queue exists.", "h", "state")
    item = LineItem(
        "SQS",
        "requests (standard queues)",
        3,
        PRICES["sqs_standard_request"],
        "sqs_standard_request",
    )
    with_cost = Report("01", [result], cost=Bill([item]))
    assert "requests (standard queues)" in repr(with_cost)
    assert (
        "<td" in with_cost._repr_html_() and "requests (standard queues)" in with_cost._repr_html_()
    )
    without = Report("01", [result])
    assert "would cost" not in repr(without) and "would cost" not in without._repr_html_()
