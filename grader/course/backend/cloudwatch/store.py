"""moto's metric store, written and read the way CloudWatch aggregates it.

The kit feeds moto's own store (``CloudWatchBackend.metric_data``) rather than keeping a store
of its own: ListMetrics, the metric math moto knows and every other CloudWatch call then see the
SQS and SES metrics beside the ones a notebook puts, moto answers in every protocol boto3 speaks,
and the kit adds only what moto gets wrong. moto starts each period of GetMetricData and
GetMetricStatistics at the first datapoint it finds rather than at the request's start time
rounded down to the minute, as CloudWatch does ("Start time less than 15 days ago - Round down to
the nearest whole minute", GetMetricData and GetMetricStatistics in the Amazon CloudWatch API
Reference); ``periods`` does it CloudWatch's way for those calls and for the alarms.

A datapoint is a ``MetricDatum`` (one value) or a ``MetricAggregatedDatum`` (a minute's sample
count, sum, minimum and maximum); ``summary`` computes CloudWatch's statistics over either.
"""

from __future__ import annotations

import datetime
import math
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from course.backend.core import moto_state

MINUTE = 60
#: The statistics CloudWatch computes from a period's datapoints.
STATISTICS = ("SampleCount", "Sum", "Minimum", "Maximum", "Average")

_LOCK = threading.Lock()


def to_datetime(epoch: float) -> datetime.datetime:
    """Epoch seconds as moto stores a timestamp (naive UTC)."""
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).replace(tzinfo=None)


def to_epoch(moment: Any) -> float:
    """A timestamp as a call carries it (epoch number, ISO text or datetime) in epoch seconds;
    naive datetimes are UTC."""
    if isinstance(moment, int | float):
        return float(moment)
    if isinstance(moment, str):
        try:
            return float(moment)
        except ValueError:
            moment = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if isinstance(moment, datetime.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        return moment.timestamp()
    raise ValueError(f"not a timestamp: {moment!r}")


def minute_start(epoch: float) -> float:
    """The start of the minute ``epoch`` falls in."""
    return math.floor(epoch / MINUTE) * MINUTE


def put(account_id: str, region: str, namespace: str, data: list[dict[str, Any]]) -> None:
    """Add datapoints (PutMetricData's ``MetricData`` shape, timestamps as datetimes) to moto's
    store, one writer at a time."""
    if data:
        with _LOCK:
            moto_state.cloudwatch(account_id, region).put_metric_data(namespace, data)


def _dimension_set(dimensions: Iterable[Any]) -> frozenset[tuple[str, str]]:
    found = set()
    for d in dimensions:
        if isinstance(d, Mapping):
            found.add((str(d.get("Name")), str(d.get("Value"))))
        else:
            found.add((str(d.name), str(d.value)))
    return frozenset(found)


def matching(
    account_id: str,
    region: str,
    namespace: str,
    name: str,
    dimensions: Iterable[Mapping[str, Any]],
    unit: str | None = None,
) -> list[Any]:
    """The stored datapoints of one metric: its namespace, name and exactly these dimensions
    (CloudWatch treats each combination of dimensions as a metric of its own)."""
    wanted = _dimension_set(dimensions)
    with _LOCK:
        stored = list(moto_state.cloudwatch(account_id, region).get_all_metrics())
    return [
        d
        for d in stored
        if d.namespace == namespace
        and d.name == name
        and _dimension_set(d.dimensions) == wanted
        and (unit is None or d.unit == unit)
    ]


def summary(data: Iterable[Any]) -> dict[str, float] | None:
    """SampleCount, Sum, Minimum, Maximum and Average of datapoints; None when there are none."""
    count = total = 0.0
    low, high = math.inf, -math.inf
    for d in data:
        if hasattr(d, "value"):
            count, total = count + 1, total + float(d.value)
            low, high = min(low, float(d.value)), max(high, float(d.value))
        else:
            count, total = count + float(d.sample_count), total + float(d.sum)
            low, high = min(low, float(d.min)), max(high, float(d.max))
    if not count:
        return None
    return {
        "SampleCount": count,
        "Sum": total,
        "Minimum": low,
        "Maximum": high,
        "Average": total / count,
    }


def periods(
    data: Iterable[Any], start: float, end: float, period: int
) -> list[tuple[float, dict[str, float]]]:
    """The statistics of each period from ``start`` (rounded down to the minute) to ``end`` that
    has datapoints: ``(period start, summary)``, oldest first."""
    first = minute_start(start)
    grouped: dict[int, list[Any]] = {}
    for d in data:
        moment = to_epoch(d.timestamp)
        if first <= moment < end:
            grouped.setdefault(int((moment - first) // period), []).append(d)
    found = []
    for index in sorted(grouped):
        stats = summary(grouped[index])
        if stats is not None:
            found.append((first + index * period, stats))
    return found
