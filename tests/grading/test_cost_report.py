"""The cost meter where students and graders see it: under ``check()``'s results in the notebook,
on the feedback page (Markdown and HTML) and in the per-student JSON, as ``cost``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
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


# Two runs billed by hand from AWS's price pages (US East), not from course.rules.pricing:
# SNS $0.50 per million publish requests, each started 64 KB a request; SQS $0.40 per million
# requests; CloudWatch $0.10 per alarm metric a month, $0.30 per custom metric a month, $0.01 per
# 1,000 API requests (https://aws.amazon.com/sns/pricing/, /sqs/pricing/, /cloudwatch/pricing/).
SNS_RUN = [
    "from course import connect\nconnect()",
    "import boto3\n"
    "sns = boto3.client('sns')\n"
    "topic = sns.create_topic(Name='bill-by-hand')['TopicArn']\n"
    "for n in range(3):\n"
    "    sns.publish(TopicArn=topic, Message='short')\n"  # 3 requests
    "sns.publish(TopicArn=topic, Message='x' * 100_000)\n"  # 100,000 B: 2 chunks, 2 requests
    "sqs = boto3.client('sqs')\n"
    "url = sqs.create_queue(QueueName='bill-by-hand')['QueueUrl']\n"  # 1 request
    "sqs.send_message(QueueUrl=url, MessageBody='y' * 200_000)\n"  # 200,000 B: 4 requests
    "sqs.delete_queue(QueueUrl=url)",  # 1 request
]
SNS_RUN_DOLLARS = 5 * 0.50 / 1_000_000 + 6 * 0.40 / 1_000_000

ALARM_RUN = [
    "from course import connect\nconnect()",
    "import boto3\n"
    "cw = boto3.client('cloudwatch')\n"
    "cw.put_metric_data(Namespace='Course/Bill', MetricData=[{'MetricName': 'Orders', "
    "'Value': 1.0}])\n"  # a custom metric, and an API request
    "cw.put_metric_alarm(AlarmName='bill-by-hand', Namespace='Course/Bill', "
    "MetricName='Orders', Statistic='Sum', Period=60, EvaluationPeriods=1, Threshold=5, "
    "ComparisonOperator='GreaterThanThreshold')\n"  # an alarm, and an API request
    "cw.describe_alarms(AlarmNames=['bill-by-hand'])",  # an API request
]
ALARM_RUN_DOLLARS = 0.10 + 0.30 + 3 * 0.01 / 1_000


@pytest.mark.parametrize(
    ("lab", "cells", "dollars"),
    [("06", SNS_RUN, SNS_RUN_DOLLARS), ("10", ALARM_RUN, ALARM_RUN_DOLLARS)],
    ids=["sns-and-sqs", "cloudwatch"],
)
def test_the_meter_agrees_with_a_bill_made_by_hand(
    grade_cells: Callable[..., Any], lab: str, cells: list[str], dollars: float
) -> None:
    grade = grade_cells(lab, cells)
    assert grade.execution.status == "completed", grade.execution.summary
    assert grade.cost is not None
    assert grade.cost.total == pytest.approx(dollars, rel=1e-9), grade.cost.rows()
