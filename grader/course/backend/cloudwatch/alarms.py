"""Metric alarms that change state, evaluated on the backend's clock; their history and actions.

moto stores alarms but never evaluates one, and creates each in state OK. CloudWatch creates an
alarm in INSUFFICIENT_DATA ("When this operation creates an alarm, the alarm state is
immediately set to INSUFFICIENT_DATA", PutMetricAlarm in the Amazon CloudWatch API Reference)
and evaluates it every minute: over the last ``EvaluationPeriods`` periods of ``Period``
seconds, the alarm goes to ALARM when at least ``DatapointsToAlarm`` (default: all of them)
breach the threshold, to OK when fewer do
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html), and
missing periods count as ``TreatMissingData`` says: "notBreaching – Missing data points are
treated as good and within the threshold", "breaching – ... as bad and breaching the
threshold", "ignore – The current alarm state is maintained", "missing – If all data points in
the alarm evaluation range are missing, the alarm transitions to INSUFFICIENT_DATA" (the
default; https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html).
With ``missing`` or ``ignore`` and only some periods missing, the kit judges the datapoints
there are, needing at most as many breaching as there are (CloudWatch's own rule, which looks
further back for datapoints, is not modelled).

Evaluation is lazy and deterministic: whenever CloudWatch is read, or a call touches SQS, SNS or
SES, each alarm is evaluated at every minute boundary that passed since its last evaluation, in
order, with the datapoints published by then. A transition sets StateValue, StateReason (in
CloudWatch's wording), StateReasonData and StateUpdatedTimestamp (the boundary's time), adds a
``StateUpdate`` item to the alarm's history (DescribeAlarmHistory) and, when actions are
enabled, publishes CloudWatch's alarm notification to each SNS topic among the new state's
actions. Not evaluated: metric-math alarms, percentile statistics, anomaly-detection operators
and composite alarms (they keep the state moto gives them).
"""

from __future__ import annotations

import datetime
import json
import threading
from dataclasses import dataclass
from typing import Any

from course.backend.cloudwatch.store import (
    MINUTE,
    matching,
    minute_start,
    summary,
    to_datetime,
    to_epoch,
)
from course.backend.core import moto_state

INSUFFICIENT, OK, ALARM = "INSUFFICIENT_DATA", "OK", "ALARM"
#: Operator → (how CloudWatch words it, the test).
OPERATORS: dict[str, tuple[str, Any]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
#: At most this many minute boundaries are evaluated at once (a clock moved ahead by days).
MAX_BOUNDARIES = 1440
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-central-1": "EU (Frankfurt)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
}


@dataclass
class Evaluated:
    """How far one alarm (as configured at ``configured``) has been evaluated."""

    configured: Any
    boundary: float


_LOCK = threading.RLock()
_EVALUATED: dict[tuple[str, str, str], Evaluated] = {}
_HISTORY: dict[tuple[str, str], list[dict[str, Any]]] = {}
_PREVIOUS: dict[tuple[str, str, str], tuple[Any, ...]] = {}


def reset() -> None:
    """Forget every alarm's evaluation and history (backend reset)."""
    with _LOCK:
        _EVALUATED.clear()
        _HISTORY.clear()
        _PREVIOUS.clear()


def _alarms(account_id: str, region: str) -> dict[str, Any]:
    try:
        return moto_state.cloudwatch(account_id, region).alarms
    except (KeyError, ValueError):
        return {}


def remember(account_id: str, region: str, name: str) -> None:
    """Keep an existing alarm's state before PutMetricAlarm replaces it or SetAlarmState sets
    it (``configured`` and ``set_by_hand`` read it back)."""
    with _LOCK:
        alarm = _alarms(account_id, region).get(name)
        if alarm is not None:
            _PREVIOUS[(account_id, region, name)] = (
                alarm.state_value,
                alarm.state_reason,
                alarm.state_reason_data,
                alarm.state_updated_timestamp,
            )


def configured(account_id: str, region: str, name: str, now: float) -> None:
    """After PutMetricAlarm: a new alarm is INSUFFICIENT_DATA; an updated one keeps its state
    ("When you update an existing alarm, its state is left unchanged, but the update completely
    overwrites the previous configuration of the alarm", PutMetricAlarm). Either is evaluated
    from the next minute boundary on."""
    with _LOCK:
        previous = _PREVIOUS.pop((account_id, region, name), None)
        alarm = _alarms(account_id, region).get(name)
        if alarm is None or alarm.rule:
            return
        if previous is None:
            previous = (INSUFFICIENT, "Unchecked: Initial alarm creation", "{}", to_datetime(now))
        (
            alarm.state_value,
            alarm.state_reason,
            alarm.state_reason_data,
            alarm.state_updated_timestamp,
        ) = previous
        _EVALUATED[(account_id, region, name)] = Evaluated(
            alarm.configuration_updated_timestamp, minute_start(now)
        )


def set_by_hand(account_id: str, region: str, name: str, now: float) -> None:
    """After SetAlarmState: the change goes into the alarm's history (the next evaluation sets
    the state the datapoints call for, as CloudWatch does)."""
    with _LOCK:
        previous = _PREVIOUS.pop((account_id, region, name), None)
        alarm = _alarms(account_id, region).get(name)
        if alarm is not None and previous is not None and previous[0] != alarm.state_value:
            _record(account_id, region, alarm, previous[0], alarm.state_reason, now)


def _evaluable(alarm: Any) -> bool:
    return bool(
        alarm.metric_name
        and alarm.statistic
        and not alarm.metric_data_queries
        and not alarm.rule
        and alarm.comparison_operator in OPERATORS
    )


def _alarm_data(account_id: str, region: str, alarm: Any, since: float) -> list[tuple[float, Any]]:
    """The alarm metric's stored datapoints from ``since`` on, each with its time."""
    dimensions = [{"Name": d.name, "Value": d.value} for d in alarm.dimensions]
    data = matching(account_id, region, alarm.namespace, alarm.metric_name, dimensions, alarm.unit)
    timed = [(to_epoch(d.timestamp), d) for d in data]
    return [(moment, d) for moment, d in timed if moment >= since]


def _period_values(alarm: Any, data: list[tuple[float, Any]], at: float) -> list[Any]:
    """The alarm's statistic in each of its evaluation periods ending at ``at``, newest first
    (None where a period has no datapoint), with each period's start."""
    period = int(alarm.period)
    values = []
    for i in range(int(alarm.evaluation_periods)):
        end, start = at - i * period, at - (i + 1) * period
        stats = summary(d for moment, d in data if start <= moment < end)
        values.append((start, None if stats is None else stats[alarm.statistic]))
    return values


def _decide(alarm: Any, values: list[Any]) -> tuple[str, str] | None:
    """The state the datapoints call for and CloudWatch's reason; None to keep the state."""
    wording, breaches = OPERATORS[alarm.comparison_operator]
    threshold = float(alarm.threshold)
    treat = alarm.treat_missing_data or "missing"
    needed = int(alarm.datapoints_to_alarm or alarm.evaluation_periods)
    present = [(start, v) for start, v in values if v is not None]
    if not present:
        if treat == "ignore":
            return None
        if treat == "missing":
            n = len(values)
            unknown = "1 datapoint was" if n == 1 else f"{n} datapoints were"
            return INSUFFICIENT, f"Insufficient Data: {unknown} unknown."
    breaching = [(s, v) for s, v in present if breaches(v, threshold)]
    count = len(breaching) + (len(values) - len(present) if treat == "breaching" else 0)
    if treat in ("missing", "ignore"):
        needed = min(needed, len(present))  # judged on the datapoints there are
    state = ALARM if count >= needed else OK
    shown = ", ".join(
        f"{v} ({to_datetime(s).strftime('%d/%m/%y %H:%M:%S')})" for s, v in present[:needed]
    )
    verb = "was" if len(present) == 1 else "were"
    if state == OK:
        wording = "not " + wording
    reason = (
        f"Threshold Crossed: {len(present)} out of the last {len(values)} datapoints "
        f"[{shown}] {verb} {wording} the threshold ({threshold}) "
        f"(minimum {needed} datapoint{'s' * (needed != 1)} for "
        f"{alarm.state_value} -> {state} transition)."
    )
    return state, reason


def _reason_data(alarm: Any, values: list[Any], at: float) -> str:
    return json.dumps(
        {
            "version": "1.0",
            "queryDate": to_datetime(at).isoformat() + "Z",
            "statistic": alarm.statistic,
            "period": int(alarm.period),
            "recentDatapoints": [v for _, v in values if v is not None],
            "threshold": float(alarm.threshold),
            "evaluatedDatapoints": [
                {"timestamp": to_datetime(s).isoformat() + "Z", "value": v}
                for s, v in values
                if v is not None
            ],
        }
    )


def _transition(
    account_id: str, region: str, alarm: Any, state: str, reason: str, at: float, values: list[Any]
) -> None:
    old = alarm.state_value
    alarm.state_value = state
    alarm.state_reason = reason
    alarm.state_reason_data = _reason_data(alarm, values, at)
    alarm.state_updated_timestamp = to_datetime(at)
    _record(account_id, region, alarm, old, reason, at)
    if alarm.actions_enabled:
        actions = {ALARM: alarm.alarm_actions, OK: alarm.ok_actions}.get(
            state, alarm.insufficient_data_actions
        )
        for arn in actions or []:
            _notify(account_id, region, alarm, old, at, str(arn))


def _record(account_id: str, region: str, alarm: Any, old: str, reason: str, at: float) -> None:
    """Add a state change to the alarm's history (DescribeAlarmHistory)."""
    _HISTORY.setdefault((account_id, region), []).append(
        {
            "AlarmName": alarm.name,
            "AlarmType": "MetricAlarm",
            "Timestamp": to_datetime(at).replace(tzinfo=datetime.UTC).isoformat(),
            "HistoryItemType": "StateUpdate",
            "HistorySummary": f"Alarm updated from {old} to {alarm.state_value}",
            "HistoryData": json.dumps(
                {
                    "version": "1.0",
                    "oldState": {"stateValue": old},
                    "newState": {"stateValue": alarm.state_value, "stateReason": reason},
                }
            ),
        }
    )


def notification(account_id: str, region: str, alarm: Any, old: str, at: float) -> dict[str, Any]:
    """The message CloudWatch publishes to an alarm's SNS topic on a state change."""
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": str(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": to_datetime(at).isoformat() + "Z",
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old,
        "OKActions": list(alarm.ok_actions or []),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic",
            "Statistic": str(alarm.statistic).upper(),
            "Unit": alarm.unit,
            "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": int(alarm.period),
            "EvaluationPeriods": int(alarm.evaluation_periods),
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": float(alarm.threshold),
            "TreatMissingData": alarm.treat_missing_data or "missing",
        },
    }


def _notify(account_id: str, region: str, alarm: Any, old: str, at: float, arn: str) -> None:
    """Publish the alarm's notification to the SNS topic ``arn`` (other actions are ignored)."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sns":
        return
    try:
        topic = moto_state.sns(parts[4], parts[3]).topics.get(arn)
    except (KeyError, ValueError):
        return
    if topic is None:
        return
    subject = f'{alarm.state_value}: "{alarm.name}" in {REGION_NAMES.get(region, region)}'
    message = json.dumps(notification(account_id, region, alarm, old, at))
    try:
        topic.publish(message, subject=subject[:99])
    except Exception:  # a delivery that fails must not stop the evaluation
        return


def evaluate(account_id: str, region: str, now: float) -> None:
    """Evaluate every metric alarm of the account and region at each minute boundary up to
    ``now`` that it has not been evaluated at yet."""
    with _LOCK:
        for name, alarm in list(_alarms(account_id, region).items()):
            if not _evaluable(alarm):
                continue
            key = (account_id, region, name)
            done = _EVALUATED.get(key)
            if done is None or done.configured != alarm.configuration_updated_timestamp:
                configured(account_id, region, name, now)
                continue
            last = minute_start(now)
            first = max(done.boundary + MINUTE, last - (MAX_BOUNDARIES - 1) * MINUTE)
            window = int(alarm.period) * int(alarm.evaluation_periods)
            data = _alarm_data(account_id, region, alarm, first - window)
            boundary = first
            while boundary <= last:
                values = _period_values(alarm, data, boundary)
                decided = _decide(alarm, values)
                if decided is not None and decided[0] != alarm.state_value:
                    _transition(account_id, region, alarm, *decided, boundary, values)
                boundary += MINUTE
            done.boundary = max(done.boundary, last)
        for key in [k for k in _EVALUATED if k[:2] == (account_id, region)]:
            if key[2] not in _alarms(account_id, region):
                del _EVALUATED[key]


def history(account_id: str, region: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """DescribeAlarmHistory's items: newest first unless ``ScanBy`` says otherwise, filtered by
    ``AlarmName``, ``HistoryItemType``, ``StartDate`` and ``EndDate``, at most ``MaxRecords``."""
    with _LOCK:
        items = list(_HISTORY.get((account_id, region), []))
    if params.get("AlarmName"):
        items = [i for i in items if i["AlarmName"] == params["AlarmName"]]
    if params.get("HistoryItemType"):
        items = [i for i in items if i["HistoryItemType"] == params["HistoryItemType"]]
    if params.get("StartDate") is not None:
        start = to_epoch(params["StartDate"])
        items = [i for i in items if to_epoch(i["Timestamp"]) >= start]
    if params.get("EndDate") is not None:
        end = to_epoch(params["EndDate"])
        items = [i for i in items if to_epoch(i["Timestamp"]) <= end]
    if params.get("ScanBy") != "TimestampAscending":
        items.reverse()
    return items[: int(params.get("MaxRecords") or 100)]
