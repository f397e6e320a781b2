"""CloudWatch's hooks: what publishes the SQS and SES metrics, evaluates alarms, and answers
the reads moto gets wrong.

- every SQS call, once answered, updates the queues' metrics (``sqs_metrics``) and counts what
  it did (messages received, empty receives, deletes); SNS publishes (which deliver to queues)
  update them too; accepted SES sends count toward the SES metrics (``ses_metrics``);
- ``PutMetricAlarm`` leaves the alarm in INSUFFICIENT_DATA (``alarms.created``);
- before CloudWatch is read (alarms, metrics, history), every whole minute up to now is published
  and the alarms are evaluated up to now (``alarms.evaluate``): lazily, on the backend's clock;
- ``GetMetricStatistics`` and the ``MetricStat`` queries of ``GetMetricData`` are answered with
  periods that start at StartTime rounded down to the minute, as CloudWatch does
  (``store.periods``); metric math is left to moto; ``DescribeAlarmHistory``, which moto lacks,
  answers the state changes the evaluator made.
"""

from __future__ import annotations

from typing import Any

from course.backend.cloudwatch import alarms, ses_metrics, sqs_metrics
from course.backend.cloudwatch.exceptions import InvalidParameterValue, ValidationError
from course.backend.cloudwatch.store import STATISTICS, matching, periods, to_epoch
from course.backend.core import clock
from course.backend.core.registry import ApiRequest, Reply, before, observe, on_reset, success

SQS_ACTIONS = (
    "CreateQueue",
    "GetQueueUrl",
    "GetQueueAttributes",
    "SetQueueAttributes",
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "PurgeQueue",
    "DeleteQueue",
    "TagQueue",
    "UntagQueue",
    "ListQueueTags",
    "StartMessageMoveTask",
)
SES_SENDS = (
    ("ses", "SendEmail"),
    ("ses", "SendRawEmail"),
    ("ses", "SendTemplatedEmail"),
    ("ses", "SendBulkTemplatedEmail"),
    ("sesv2", "SendEmail"),
    ("sesv2", "SendBulkEmail"),
)
READS = (
    "DescribeAlarms",
    "DescribeAlarmsForMetric",
    "DescribeAlarmHistory",
    "GetMetricData",
    "GetMetricStatistics",
    "ListMetrics",
)


@on_reset
def _reset() -> None:
    sqs_metrics.reset()
    ses_metrics.reset()
    alarms.reset()


def _queue_name(params: dict[str, Any]) -> str:
    if params.get("QueueUrl"):
        return str(params["QueueUrl"]).rstrip("/").rsplit("/", 1)[-1]
    return str(params.get("QueueName", ""))


def catch_up(account_id: str, region: str, now: float) -> None:
    """Publish every whole minute up to ``now`` and evaluate the alarms up to ``now``."""
    sqs_metrics.catch_up(account_id, region, now)
    ses_metrics.catch_up(account_id, region, now)
    alarms.evaluate(account_id, region, now)


def _observe_sqs(request: ApiRequest, status: int, parsed: dict[str, Any]) -> None:
    """Count what an answered SQS call did, then bring the metrics and alarms up to now."""
    now, region, account = clock.now(), request.call.region, request.account_id
    name = _queue_name(request.params)
    if request.call.action == "StartMessageMoveTask" or not name:
        sqs_metrics.catch_up(account, region, now)  # a redrive moves messages between queues
    else:
        sqs_metrics.observe_call(account, region, name, now)
    if status == 200 and name:
        action = request.call.action
        if action == "ReceiveMessage":
            received = len(parsed.get("Messages") or [])
            metric = "NumberOfMessagesReceived" if received else "NumberOfEmptyReceives"
            sqs_metrics.count(account, region, name, metric, received or 1, now)
        elif action == "DeleteMessage":
            sqs_metrics.count(account, region, name, "NumberOfMessagesDeleted", 1, now)
        elif action == "DeleteMessageBatch":
            deleted = len(parsed.get("Successful") or [])
            sqs_metrics.count(account, region, name, "NumberOfMessagesDeleted", deleted, now)
    alarms.evaluate(account, region, now)


for _action in SQS_ACTIONS:
    observe("sqs", _action)(_observe_sqs)


@observe("sns", "Publish")
@observe("sns", "PublishBatch")
def _observe_publish(request: ApiRequest, status: int, parsed: dict[str, Any]) -> None:
    """A publish may deliver to queues: bring their metrics (and the alarms) up to now."""
    catch_up(request.account_id, request.call.region, clock.now())


def _observe_send(request: ApiRequest, status: int, parsed: dict[str, Any]) -> None:
    """Count an accepted SES send toward the SES metrics."""
    now = clock.now()
    if status == 200:
        messages = ses_metrics.messages_of(request.call.action, request.params)
        ses_metrics.record_send(request.account_id, request.call.region, messages, now)
    alarms.evaluate(request.account_id, request.call.region, now)


for _service, _action in SES_SENDS:
    observe(_service, _action)(_observe_send)


@before("cloudwatch", "PutMetricAlarm")
@before("cloudwatch", "SetAlarmState")
def _before_state_change(request: ApiRequest) -> Reply | None:
    """Evaluate the alarms up to now with their old settings, and keep the alarm's state."""
    catch_up(request.account_id, request.call.region, clock.now())
    alarms.remember(request.account_id, request.call.region, str(request.params.get("AlarmName")))
    return None


@observe("cloudwatch", "PutMetricAlarm")
def _observe_alarm(request: ApiRequest, status: int, parsed: dict[str, Any]) -> None:
    """A new alarm starts in INSUFFICIENT_DATA; an updated one keeps its state."""
    name = str(request.params.get("AlarmName", ""))
    if status == 200 and name:
        alarms.configured(request.account_id, request.call.region, name, clock.now())


@observe("cloudwatch", "SetAlarmState")
def _observe_set_state(request: ApiRequest, status: int, parsed: dict[str, Any]) -> None:
    """A state set by hand goes into the alarm's history."""
    name = str(request.params.get("AlarmName", ""))
    if status == 200 and name:
        alarms.set_by_hand(request.account_id, request.call.region, name, clock.now())


def _bring_up_to_date(request: ApiRequest) -> Reply | None:
    """Before CloudWatch is read: publish and evaluate up to now; moto answers."""
    catch_up(request.account_id, request.call.region, clock.now())
    return None


for _action in READS:
    before("cloudwatch", _action)(_bring_up_to_date)


def _window(params: dict[str, Any], error: type[Exception], text: str) -> tuple[float, float]:
    try:
        start, end = to_epoch(params["StartTime"]), to_epoch(params["EndTime"])
    except (KeyError, ValueError):
        raise error("The parameters StartTime and EndTime are required timestamps.") from None
    if start >= end:
        raise error(text)
    return start, end


def _period(value: Any) -> int | None:
    """A period in whole minutes, or None (a high-resolution or invalid one is moto's)."""
    try:
        period = int(value)
    except (TypeError, ValueError):
        return None
    return period if period >= 60 and period % 60 == 0 else None


def _stored(request: ApiRequest, metric: dict[str, Any], unit: str | None) -> list[Any]:
    """The stored datapoints of the metric a request names (Namespace, MetricName, Dimensions)."""
    return matching(
        request.account_id,
        request.call.region,
        str(metric.get("Namespace", "")),
        str(metric.get("MetricName", "")),
        metric.get("Dimensions") or [],
        unit,
    )


@before("cloudwatch", "GetMetricStatistics")
def get_metric_statistics(request: ApiRequest) -> Reply | None:
    """GetMetricStatistics with CloudWatch's periods; percentiles are left to moto."""
    params = request.params
    wanted = list(params.get("Statistics") or [])
    if params.get("ExtendedStatistics") or not wanted or set(wanted) - set(STATISTICS):
        return None
    start, end = _window(
        params,
        InvalidParameterValue,
        "The parameter StartTime must be less than the parameter EndTime.",
    )
    period = _period(params.get("Period"))
    if period is None:
        return None
    data = _stored(request, params, params.get("Unit"))
    unit = params.get("Unit") or next((d.unit for d in data if d.unit), None) or "None"
    points = [
        {"Timestamp": moment, **{s: stats[s] for s in wanted}, "Unit": unit}
        for moment, stats in periods(data, start, end, period)
    ]
    return success(request.call, {"Label": params.get("MetricName", ""), "Datapoints": points})


@before("cloudwatch", "GetMetricData")
def get_metric_data(request: ApiRequest) -> Reply | None:
    """GetMetricData's ``MetricStat`` queries with CloudWatch's periods, newest first unless
    ``ScanBy`` says otherwise; a request with metric math is left to moto."""
    params = request.params
    queries = list(params.get("MetricDataQueries") or [])
    if not queries or any("MetricStat" not in q for q in queries):
        return None
    stats = [q["MetricStat"] for q in queries]
    if any(q.get("Stat") not in STATISTICS or _period(q.get("Period")) is None for q in stats):
        return None
    start, end = _window(
        params, ValidationError, "The parameter EndTime must be greater than StartTime."
    )
    results = []
    for query in queries:
        stat = query["MetricStat"]
        metric = stat.get("Metric") or {}
        data = _stored(request, metric, stat.get("Unit"))
        found = periods(data, start, end, int(stat["Period"]))
        if params.get("ScanBy", "TimestampDescending") != "TimestampAscending":
            found.reverse()
        if query.get("ReturnData", True) is False:
            continue
        results.append(
            {
                "Id": query.get("Id"),
                "Label": query.get("Label") or metric.get("MetricName", ""),
                "Timestamps": [moment for moment, _ in found],
                "Values": [stats[stat["Stat"]] for _, stats in found],
                "StatusCode": "Complete",
            }
        )
    return success(request.call, {"MetricDataResults": results, "Messages": []})


@before("cloudwatch", "DescribeAlarmHistory")
def describe_alarm_history(request: ApiRequest) -> Reply | None:
    """DescribeAlarmHistory (moto has none): the state changes the evaluator made."""
    items = alarms.history(request.account_id, request.call.region, request.params)
    return success(request.call, {"AlarmHistoryItems": items})
