"""Lab 10 · Monitoring, limits and pricing: read SQS's metrics, alarm on a waiting message, hit
SQS's limits, and price a workload.

``metrics-read`` reads the flow: the CloudWatch reads (GetMetricData or GetMetricStatistics) of
the lab queue's metrics and what they answered. ``age-alarm`` asks CloudWatch for the alarm and
its history (the backend evaluates alarms on its clock). ``limits-handled`` finds, for each limit,
a call SQS refused for it with AWS's error code, made by a cell that did not fail on it
(``course.checks.cells``). ``cost-function`` calls the notebook's ``lab_cost`` on cases the
notebook does not contain (an ``AnswerCall``) and compares each result with the kit's own
(``course.rules.pricing.lab_cost``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from course.checks.answers import AnswerCall
from course.checks.api import CheckFailed, NotAttempted, check
from course.checks.cells import require_handled
from course.checks.context import Aws
from course.flow import ApiCall, utf8_size
from course.rules.pricing import lab_cost

LAB = "10"
TITLE = "Monitoring, limits and pricing"
#: Graded at ten times the wall clock's speed: the minutes the metrics need pass in seconds.
TIME_SCALE = 10
QUEUE = "monitored-queue"
NAMESPACE = "AWS/SQS"
AGE_METRIC = "ApproximateAgeOfOldestMessage"
#: The metrics the course notes name; each must be read with at least one datapoint.
METRICS = (
    "ApproximateAgeOfOldestMessage",
    "ApproximateNumberOfMessagesVisible",
    "ApproximateNumberOfMessagesNotVisible",
    "NumberOfMessagesSent",
    "NumberOfMessagesReceived",
    "NumberOfMessagesDeleted",
)
COST_FUNCTION = "lab_cost"
#: Usage the notebook never shows: chunk boundaries, FIFO, every SNS protocol, SES attachments.
HIDDEN_CASES: tuple[dict[str, Any], ...] = (
    {"sqs_standard": [[3_000_000, 65_536]]},
    {"sqs_standard": [[1_000_000, 65_537]], "sqs_fifo": [[2_000_000, 0]]},
    {"sqs_fifo": [[500_000, 1_048_576]]},
    {"sns_publish": [[10_000_000, 200_000]], "sns_deliveries": {"sqs": 10_000_000}},
    {"sns_publish": [[2_000_000, 1_000]], "sns_deliveries": {"email": 300_000, "https": 700_000}},
    {"sns_deliveries": {"lambda": 5_000_000, "http": 1}},
    {"ses_emails": 250_000, "ses_attachment_gb": 12.5},
    {
        "sqs_standard": [[4_000_000, 300], [4_000_000, 0], [250_000, 131_072]],
        "sns_publish": [[1, 1]],
        "ses_emails": 1,
    },
    {},
)
ANSWERS = [AnswerCall("lab_cost_results", COST_FUNCTION, HIDDEN_CASES)]
MAX_VISIBILITY, MAX_RETENTION, MIN_RETENTION, MAX_WAIT = 43_200, 1_209_600, 60, 20
MAX_BYTES, MAX_ATTRIBUTES, MAX_NAME = 1_048_576, 10, 80
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


# ---------------------------------------------------------------- metrics-read


def _on_queue(metric: dict[str, Any], queue: str) -> bool:
    dimensions = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions") or []}
    return metric.get("Namespace") == NAMESPACE and dimensions.get("QueueName") == queue


def metric_reads(calls: list[ApiCall], queue: str) -> dict[str, list[float]]:
    """The values each successful CloudWatch read answered for the queue's metrics, by metric."""
    found: dict[str, list[float]] = {}
    for call in calls:
        if call.action == "GetMetricStatistics":
            if _on_queue(call.request, queue):
                values = found.setdefault(str(call.request.get("MetricName")), [])
                for point in call.response.get("Datapoints") or []:
                    values.extend(
                        float(v) for k, v in point.items() if k not in ("Timestamp", "Unit")
                    )
            continue
        names = {}
        for query in call.request.get("MetricDataQueries") or []:
            metric = (query.get("MetricStat") or {}).get("Metric") or {}
            if _on_queue(metric, queue):
                names[query.get("Id")] = str(metric.get("MetricName"))
        for result in call.response.get("MetricDataResults") or []:
            if result.get("Id") in names:
                values = found.setdefault(names[result["Id"]], [])
                values.extend(float(v) for v in result.get("Values") or [])
    return found


@check(
    "metrics-read",
    points=3,
    kind="flow",
    statement=f"After a workload on {QUEUE}, the notebook read its metrics from CloudWatch "
    f"(namespace {NAMESPACE}, dimension QueueName) with datapoints for each of: "
    + ", ".join(METRICS)
    + ".",
    hint="Send, receive and delete some messages (leave one in flight), wait for the minute to "
    "end (time.sleep(70)), then cloudwatch.get_metric_data(MetricDataQueries=[...one MetricStat "
    "per metric, Period=60...], StartTime=..., EndTime=...).",
)
def test_metrics_read(aws: Aws) -> None:
    queue = aws.name(QUEUE)
    reads = aws.flow.calls_to("cloudwatch", "GetMetricData", "GetMetricStatistics", ok=True)
    found = metric_reads(reads, queue)
    if not found:
        raise NotAttempted(f"no CloudWatch read of {queue}'s metrics yet")
    unread = [m for m in METRICS if m not in found]
    empty = [m for m in METRICS if m in found and not found[m]]
    problems = []
    if unread:
        problems.append("not read: " + ", ".join(unread))
    if empty:
        problems.append(
            "read but no datapoints: " + ", ".join(empty) + " (a minute's datapoints appear once "
            "the minute is over; NotVisible needs a message in flight)"
        )
    if not problems and not sum(found["NumberOfMessagesSent"]):
        problems.append(f"NumberOfMessagesSent is 0: run the workload on {queue} first")
    if problems:
        raise CheckFailed("; ".join(problems))


# ---------------------------------------------------------------- age-alarm


def _age_alarms(aws: Aws) -> tuple[list[dict[str, Any]], int]:
    alarms = aws.client("cloudwatch").describe_alarms().get("MetricAlarms", [])
    on_age = [
        a for a in alarms if a.get("MetricName") == AGE_METRIC and _on_queue(a, aws.name(QUEUE))
    ]
    return on_age, len(alarms)


@check(
    "age-alarm",
    points=1,
    kind="state",
    statement=f"A CloudWatch alarm on {AGE_METRIC} of {QUEUE} went to ALARM.",
    hint="put_metric_alarm(Namespace='AWS/SQS', MetricName='ApproximateAgeOfOldestMessage', "
    "Dimensions=[{'Name': 'QueueName', 'Value': name('monitored-queue')}], Statistic='Maximum', "
    "Period=60, EvaluationPeriods=1, Threshold=30, ComparisonOperator='GreaterThanThreshold'), "
    "then leave a message in the queue for two minutes.",
)
def test_age_alarm(aws: Aws) -> None:
    on_age, total = _age_alarms(aws)
    if not on_age:
        if total:
            raise CheckFailed(f"no alarm is on {AGE_METRIC} with QueueName {aws.name(QUEUE)}")
        raise NotAttempted("there is no CloudWatch alarm yet")
    cloudwatch = aws.client("cloudwatch")
    for alarm in on_age:
        if alarm.get("StateValue") == "ALARM":
            return
        history = cloudwatch.describe_alarm_history(
            AlarmName=alarm["AlarmName"], HistoryItemType="StateUpdate"
        ).get("AlarmHistoryItems", [])
        if any(str(h.get("HistorySummary", "")).endswith("to ALARM") for h in history):
            return
    alarm = on_age[-1]
    raise CheckFailed(
        f"{alarm['AlarmName']} is {alarm.get('StateValue')} and never went to ALARM "
        f"({alarm.get('StateReason', '')}): its threshold is {alarm.get('Threshold')} s; leave a "
        "message unreceived for longer than that, and a minute more for the datapoint"
    )


# ---------------------------------------------------------------- limits-handled


def _out_of_range(call: ApiCall, names: tuple[str, ...], low: int, high: int) -> bool:
    """Whether the call sets one of ``names`` (a queue attribute or a parameter) outside
    ``low``..``high``."""
    for name in names:
        value = (call.request.get("Attributes") or {}).get(name, call.request.get(name))
        if value is None:
            continue
        try:
            if not low <= int(str(value).strip()) <= high:
                return True
        except ValueError:
            return True
    return False


def _message_bytes(call: ApiCall) -> int:
    """A sent message's size as SQS counts it: the body and each attribute's name, type and
    value, in bytes (a binary value as recorded; a long value's whole size, though the flow
    keeps only its start: ``course.flow.utf8_size``)."""
    size = utf8_size(call.request.get("MessageBody", ""))
    for name, value in (call.request.get("MessageAttributes") or {}).items():
        text = value.get("StringValue") or value.get("BinaryValue") or ""
        size += utf8_size(f"{name}{value.get('DataType', '')}") + utf8_size(text)
    return size


#: Each limit: what breaks it, which calls can, AWS's error codes for it, and the test.
LIMITS: tuple[tuple[str, tuple[str, ...], frozenset[str], Callable[[ApiCall], bool]], ...] = (
    (
        f"a queue name over {MAX_NAME} characters",
        ("CreateQueue",),
        frozenset({"InvalidParameterValue"}),
        lambda c: len(str(c.request.get("QueueName", ""))) > MAX_NAME,
    ),
    (
        f"more than {MAX_ATTRIBUTES} message attributes",
        ("SendMessage",),
        frozenset({"InvalidParameterValue"}),
        lambda c: len(c.request.get("MessageAttributes") or {}) > MAX_ATTRIBUTES,
    ),
    (
        "a visibility timeout outside 0 s to 12 hours",
        ("CreateQueue", "SetQueueAttributes", "ReceiveMessage", "ChangeMessageVisibility"),
        frozenset({"InvalidAttributeValue", "InvalidParameterValue"}),
        lambda c: _out_of_range(c, ("VisibilityTimeout",), 0, MAX_VISIBILITY),
    ),
    (
        "a retention period outside 60 s to 14 days",
        ("CreateQueue", "SetQueueAttributes"),
        frozenset({"InvalidAttributeValue"}),
        lambda c: _out_of_range(c, ("MessageRetentionPeriod",), MIN_RETENTION, MAX_RETENTION),
    ),
    (
        f"a long poll over {MAX_WAIT} s",
        ("ReceiveMessage", "CreateQueue", "SetQueueAttributes"),
        frozenset({"InvalidParameterValue", "InvalidAttributeValue"}),
        lambda c: _out_of_range(
            c, ("WaitTimeSeconds", "ReceiveMessageWaitTimeSeconds"), 0, MAX_WAIT
        ),
    ),
    (
        "a message over 1 MiB",
        ("SendMessage",),
        frozenset({"InvalidParameterValue"}),
        lambda c: _message_bytes(c) > MAX_BYTES,
    ),
)


@check(
    "limits-handled",
    points=3,
    kind="flow",
    statement="SQS refused each limit with AWS's error, and the notebook caught it: "
    + "; ".join(what for what, _, _, _ in LIMITS)
    + ".",
    hint="One try/except botocore.exceptions.ClientError per limit; print "
    "err.response['Error']['Code'] (InvalidParameterValue, InvalidAttributeValue).",
)
def test_limits_handled(aws: Aws) -> None:
    refused = [c for c in aws.flow.calls_to("sqs", ok=False)]
    hit: list[tuple[str, list[ApiCall]]] = []
    missing, wrong = [], []
    for what, actions, codes, breaks in LIMITS:
        calls = [c for c in refused if c.action in actions and breaks(c)]
        if not calls:
            missing.append(what)
        elif not any(c.error_code in codes for c in calls):
            got = ", ".join(sorted({c.error_code for c in calls}))
            wrong.append(f"{what} was refused with {got}, not {' or '.join(sorted(codes))}")
        else:
            hit.append((what, [c for c in calls if c.error_code in codes]))
    if not hit and not wrong:
        raise NotAttempted("no call SQS refused for one of its limits yet")
    if missing or wrong:
        raise CheckFailed("; ".join(wrong + [f"not tried: {m}" for m in missing]))
    for what, calls in hit:
        require_handled(aws.cells, calls, f"SQS refused {what}")


# ---------------------------------------------------------------- cost-function


def _close(got: Any, expected: float) -> bool:
    if isinstance(got, bool) or not isinstance(got, int | float) or not math.isfinite(got):
        return False
    return abs(got - expected) <= 1e-9 + 1e-6 * abs(expected)


@check(
    "cost-function",
    points=3,
    kind="answer",
    statement=f"{COST_FUNCTION}(usage) returns the cost in US dollars (64 KB billing chunks, "
    "free tier excluded) on usages the notebook does not contain.",
    hint="Count each call's 64 KB chunks (math.ceil(size / 65536), at least 1), price SQS, SNS "
    "publishes and deliveries (SQS and Lambda deliveries are free) and SES from the notebook's "
    "price table; test it on the worked examples.",
)
def test_cost_function(aws: Aws) -> None:
    try:
        results = aws.answer("lab_cost_results")
    except NotAttempted:
        raise NotAttempted(f"the notebook defines no function {COST_FUNCTION} yet") from None
    if not isinstance(results, list) or len(results) != len(HIDDEN_CASES):
        raise CheckFailed(f"{COST_FUNCTION} could not be called on the hidden cases")
    failures = []
    for case, result in zip(HIDDEN_CASES, results, strict=True):
        if "error" in result:
            failures.append(f"{COST_FUNCTION}({case!r}) raised {result['error']}")
        elif not _close(result.get("value"), lab_cost(case)):
            failures.append(f"{COST_FUNCTION}({case!r}) returned {result.get('value')!r}")
    if failures:
        raise CheckFailed(
            f"{len(failures)} of {len(HIDDEN_CASES)} hidden usages are priced wrong, for example "
            + failures[0]
        )
