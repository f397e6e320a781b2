"""Lab 10's checks: each passes at least two different correct submissions, among them an
unusual one (GetMetricStatistics instead of GetMetricData, an alarm that fired and cleared, other
API calls hitting the limits, a cost function on Decimal), and fails (or calls not attempted) at
least two different wrong ones. The backend's clock is advanced instead of waiting for the
minutes the metrics need; ``limits-handled`` reads which cell made each refused call
(``tests.checks.notebook_cells``); ``cost-function`` gets the results ``call_each`` computes, as
the grader's kernel would, and one test grades real notebooks through the kernel.
"""

from __future__ import annotations

import contextlib
import datetime
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend
from course.checks.answers import call_each
from course.checks.labs.lab10 import HIDDEN_CASES, METRICS
from course.rules.pricing import lab_cost

from tests.backend.cloudwatch.test_metrics import start_of_minute
from tests.checks.labs.account import AccountAws, account_checks
from tests.checks.notebook_cells import Notebook, results
from tests.conftest import make_client
from tests.real_account.standin import PREFIX

QUEUE = "monitored-queue"
STAT = {m: ("Sum" if m.startswith("Number") else "Maximum") for m in METRICS}


def _outcome(found: dict[str, Any], check: str, expected: str) -> None:
    result = found[check]
    outcome, _, why = expected.partition(":")
    assert (result.outcome, why in result.message) == (outcome, True), result.message


def workload(backend: Backend, queue: str = QUEUE) -> str:
    """The lab's workload: 5 sent, 3 received (2 left in flight), 1 deleted; a minute passes."""
    sqs = make_client(backend, "sqs")
    start_of_minute(backend)
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"order {i}")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=600)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got["Messages"][0]["ReceiptHandle"])
    return url


def _window() -> dict[str, datetime.datetime]:
    now = datetime.datetime.now(datetime.UTC)
    return {
        "StartTime": now - datetime.timedelta(hours=1),
        "EndTime": now + datetime.timedelta(days=2),
    }


def read_with_get_metric_data(backend: Backend, metrics: tuple[str, ...] = METRICS) -> None:
    cloudwatch = make_client(backend, "cloudwatch")
    queries = [
        {
            "Id": f"q{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SQS",
                    "MetricName": m,
                    "Dimensions": [{"Name": "QueueName", "Value": QUEUE}],
                },
                "Period": 60,
                "Stat": STAT[m],
            },
        }
        for i, m in enumerate(metrics)
    ]
    cloudwatch.get_metric_data(MetricDataQueries=queries, **_window())


def read_with_get_metric_statistics(backend: Backend) -> None:
    cloudwatch = make_client(backend, "cloudwatch")
    for metric in METRICS:
        cloudwatch.get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName=metric,
            Dimensions=[{"Name": "QueueName", "Value": QUEUE}],
            Period=300,
            Statistics=["Average"],
            **_window(),
        )


# ---------------------------------------------------------------- metrics-read


def metrics_after_the_minute(backend: Backend) -> None:
    workload(backend)
    backend.advance_clock(120)
    read_with_get_metric_data(backend)


def statistics_of_five_minutes(backend: Backend) -> None:
    workload(backend)
    backend.advance_clock(60)
    read_with_get_metric_statistics(backend)


def only_the_counts(backend: Backend) -> None:
    workload(backend)
    backend.advance_clock(120)
    read_with_get_metric_data(backend, tuple(m for m in METRICS if m.startswith("Number")))


def read_before_the_minute_ended(backend: Backend) -> None:
    workload(backend)
    read_with_get_metric_data(backend)


def another_queue_s_metrics(backend: Backend) -> None:
    workload(backend, "other-queue")
    backend.advance_clock(120)
    read_with_get_metric_data(backend)


@pytest.mark.parametrize(
    ("submission", "expected"),
    [
        (metrics_after_the_minute, "passed"),
        (statistics_of_five_minutes, "passed"),
        (only_the_counts, "failed:not read: ApproximateAgeOfOldestMessage"),
        (read_before_the_minute_ended, "failed:read but no datapoints"),
        (another_queue_s_metrics, "failed:read but no datapoints"),
    ],
)
def test_metrics_read(
    backend: Backend, submission: Callable[[Backend], None], expected: str
) -> None:
    submission(backend)
    _outcome(results("10", backend, None), "metrics-read", expected)


def test_metrics_read_without_any_read_is_not_attempted(backend: Backend) -> None:
    workload(backend)
    _outcome(results("10", backend, None), "metrics-read", "not_attempted")


# ---------------------------------------------------------------- age-alarm


def _alarm(backend: Backend, metric: str = "ApproximateAgeOfOldestMessage", **extra: Any) -> None:
    settings: dict[str, Any] = {
        "AlarmName": "oldest",
        "Namespace": "AWS/SQS",
        "MetricName": metric,
        "Dimensions": [{"Name": "QueueName", "Value": QUEUE}],
        "Statistic": "Maximum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 30,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    make_client(backend, "cloudwatch").put_metric_alarm(**{**settings, **extra})


def alarm_in_alarm(backend: Backend) -> None:
    workload(backend)
    _alarm(backend)
    backend.advance_clock(120)


def alarm_that_fired_and_cleared(backend: Backend) -> None:
    url = workload(backend)
    _alarm(
        backend,
        Threshold=10,
        EvaluationPeriods=2,
        DatapointsToAlarm=1,
        Statistic="Average",
        TreatMissingData="notBreaching",
    )
    backend.advance_clock(60)
    make_client(backend, "sqs").purge_queue(QueueUrl=url)
    backend.advance_clock(180)


def alarm_on_the_visible_count(backend: Backend) -> None:
    workload(backend)
    _alarm(backend, "ApproximateNumberOfMessagesVisible", Threshold=1)
    backend.advance_clock(120)


def threshold_of_an_hour(backend: Backend) -> None:
    workload(backend)
    _alarm(backend, Threshold=3600)
    backend.advance_clock(120)


@pytest.mark.parametrize(
    ("submission", "expected"),
    [
        (alarm_in_alarm, "passed"),
        (alarm_that_fired_and_cleared, "passed"),
        (alarm_on_the_visible_count, "failed:no alarm is on ApproximateAgeOfOldestMessage"),
        (threshold_of_an_hour, "failed:never went to ALARM"),
        (workload, "not_attempted"),
    ],
)
def test_age_alarm(backend: Backend, submission: Callable[[Backend], None], expected: str) -> None:
    submission(backend)
    found = results("10", backend, None)
    _outcome(found, "age-alarm", expected)
    if submission is alarm_that_fired_and_cleared:
        alarm = make_client(backend, "cloudwatch").describe_alarms()["MetricAlarms"][0]
        assert alarm["StateValue"] == "OK"


# ---------------------------------------------------------------- limits-handled

BIG = "x" * (1_048_576 + 1)


def _limit_calls(sqs: Any, url: str) -> list[Callable[[], Any]]:
    attributes = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    return [
        lambda: sqs.create_queue(QueueName="n" * 81),
        lambda: sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attributes),
        lambda: sqs.create_queue(QueueName="v", Attributes={"VisibilityTimeout": "43201"}),
        lambda: sqs.create_queue(QueueName="r", Attributes={"MessageRetentionPeriod": "59"}),
        lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21),
        lambda: sqs.send_message(QueueUrl=url, MessageBody=BIG),
    ]


def each_in_a_try(backend: Backend, nb: Notebook) -> None:
    sqs = make_client(backend, "sqs")
    with nb.cell():
        url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        for call in _limit_calls(sqs, url):
            try:
                call()
            except ClientError as err:
                print(err.response["Error"]["Code"])


def other_calls_one_cell_each(backend: Backend, nb: Notebook) -> None:
    sqs = make_client(backend, "sqs")
    with nb.cell():
        url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    calls = [
        lambda: sqs.create_queue(QueueName="a-" + "b" * 90),
        lambda: sqs.send_message(
            QueueUrl=url,
            MessageBody="m",
            MessageAttributes={
                f"k{i}": {"DataType": "Number", "StringValue": str(i)} for i in range(12)
            },
        ),
        lambda: sqs.receive_message(QueueUrl=url, VisibilityTimeout=50_000),
        lambda: sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"MessageRetentionPeriod": "1209601"}
        ),
        lambda: sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"ReceiveMessageWaitTimeSeconds": "30"}
        ),
        lambda: sqs.send_message(
            QueueUrl=url,
            MessageBody="é" * 500_000,  # 1,000,000 bytes: the attribute makes it too big
            MessageAttributes={"note": {"DataType": "String", "StringValue": "z" * 50_000}},
        ),
    ]
    for call in calls:
        with nb.cell(), contextlib.suppress(ClientError):
            call()


def five_of_six(backend: Backend, nb: Notebook) -> None:
    sqs = make_client(backend, "sqs")
    with nb.cell():
        url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        for call in _limit_calls(sqs, url)[:5]:
            with contextlib.suppress(ClientError):
                call()


def crashed_on_the_big_message(backend: Backend, nb: Notebook) -> None:
    five_of_six(backend, nb)
    sqs = make_client(backend, "sqs")
    with nb.cell():
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"], MessageBody=BIG)


def within_every_limit(backend: Backend, nb: Notebook) -> None:
    sqs = make_client(backend, "sqs")
    with nb.cell():
        url = sqs.create_queue(QueueName="n" * 80, Attributes={"VisibilityTimeout": "43200"})
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)


@pytest.mark.parametrize(
    ("submission", "expected"),
    [
        (each_in_a_try, "passed"),
        (other_calls_one_cell_each, "passed"),
        (five_of_six, "failed:not tried: a message over 1 MiB"),
        (crashed_on_the_big_message, "failed:failed on it (ClientError"),
        (within_every_limit, "not_attempted"),
    ],
)
def test_limits_handled(
    backend: Backend, submission: Callable[[Backend, Notebook], None], expected: str
) -> None:
    nb = Notebook(backend)
    submission(backend, nb)
    _outcome(results("10", backend, nb), "limits-handled", expected)


# ---------------------------------------------------------------- cost-function


def decimal_cost(usage: dict[str, Any]) -> Decimal:
    """A right answer in another style: Decimal arithmetic, prices per unit, a loop per key."""
    per_million = {"sqs_standard": "0.40", "sqs_fifo": "0.50", "sns_publish": "0.50"}
    total = Decimal(0)
    for key, price in per_million.items():
        for count, size in usage.get(key, ()):
            chunks = -(-size // 65_536) or 1
            total += Decimal(count * chunks) * Decimal(price) / 1_000_000
    delivery = {"http": "0.6", "https": "0.6", "email": "20", "email-json": "20"}
    for protocol, count in usage.get("sns_deliveries", {}).items():
        total += Decimal(count) * Decimal(delivery.get(protocol, "0")) / 1_000_000
    total += Decimal(usage.get("ses_emails", 0)) / 10_000
    total += Decimal(str(usage.get("ses_attachment_gb", 0))) * Decimal("0.12")
    return total


def chunks_of_64_000(usage: dict[str, Any]) -> float:
    fixed = {
        k: [[c, s * 65_536 // 64_000] for c, s in v] if k.startswith(("sqs", "sns_publish")) else v
        for k, v in usage.items()
    }
    return lab_cost(fixed)


def every_delivery_charged(usage: dict[str, Any]) -> float:
    deliveries = sum((usage.get("sns_deliveries") or {}).values())
    return lab_cost({**usage, "sns_deliveries": {}}) + deliveries * 0.60 / 1_000_000


def no_missing_keys(usage: dict[str, Any]) -> float:
    return lab_cost(usage) + 0 * len(usage["sqs_standard"])


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (lab_cost, "passed"),
        (decimal_cost, "passed"),
        (chunks_of_64_000, "failed:hidden usages are priced wrong"),
        (every_delivery_charged, "failed:hidden usages are priced wrong"),
        (no_missing_keys, "failed:raised KeyError"),
        (lambda usage: math.nan, "failed:returned 'nan'"),
    ],
    ids=["kit", "decimal", "64000-byte-chunks", "sqs-deliveries-charged", "keyerror", "nan"],
)
def test_cost_function(backend: Backend, function: Any, expected: str) -> None:
    answers = {"lab_cost_results": call_each(function, HIDDEN_CASES)}
    _outcome(results("10", backend, None, answers), "cost-function", expected)


def test_cost_function_missing_is_not_attempted(backend: Backend) -> None:
    _outcome(results("10", backend, None, {}), "cost-function", "not_attempted")


def test_the_grader_calls_the_notebook_s_function_on_the_hidden_cases(
    grade_cells: Callable[..., Any],
) -> None:
    """Through a real kernel: a right function passes, one that raises on a hidden case fails
    saying why, and one the notebook never defines is not attempted."""
    right = grade_cells("10", ["from course.rules.pricing import lab_cost"])
    raising = grade_cells(
        "10", ["def lab_cost(usage):\n    return usage['ses_emails'] * 0.0001"], name="raising"
    )
    missing = grade_cells("10", ["x = 1"], name="missing")

    def outcome(grade: Any) -> tuple[str, str]:
        found = {c.id.rsplit(".", 1)[-1]: c for c in grade.results}["cost-function"]
        return found.outcome, found.message

    assert outcome(right)[0] == "passed"
    assert outcome(raising)[0] == "failed" and "raised KeyError" in outcome(raising)[1]
    assert outcome(missing)[0] == "not_attempted"


# ---------------------------------------------------------------- on a learner's real account


def _alarm_on(backend: Backend, queue: str, alarm: str) -> None:
    """The lab's workload on ``queue`` and an age alarm ``alarm`` on it, gone to ALARM."""
    workload(backend, queue)
    _alarm(backend, AlarmName=alarm, Dimensions=[{"Name": "QueueName", "Value": queue}])
    backend.advance_clock(120)


@pytest.mark.parametrize(
    ("prefix", "queues", "expected"),
    [
        (PREFIX, [f"{PREFIX}{QUEUE}"], "passed"),
        ("", [QUEUE], "passed"),  # an account of one's own, COURSE_PREFIX set empty
        (PREFIX, [QUEUE], "failed:no alarm is on ApproximateAgeOfOldestMessage"),
        (PREFIX, [f"binh-{QUEUE}"], "failed:no alarm is on"),  # another learner's fired
        (PREFIX, [], "not_attempted"),
    ],
    ids=["prefixed", "no-prefix", "unprefixed", "another-learner-s", "none"],
)
def test_on_an_account_age_alarm_reads_the_prefixed_queue_s_alarm(
    backend: Backend, prefix: str, queues: list[str], expected: str
) -> None:
    for queue in queues:
        _alarm_on(backend, queue, f"{queue}-oldest-message")
    answers = {"lab_cost_results": call_each(lab_cost, HIDDEN_CASES)}
    account = AccountAws(backend, prefix=prefix, answers=answers)
    found, writes = account_checks("10", account)
    _outcome(found, "age-alarm", expected)
    assert found["cost-function"].outcome == "passed"
    assert {r.outcome for r in found.values() if r.kind == "flow"} == {"not_checkable"}
    assert not writes
