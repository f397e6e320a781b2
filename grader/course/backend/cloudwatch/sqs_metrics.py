"""The metrics Amazon SQS publishes to CloudWatch, derived from the calls and moto's queues.

"Amazon SQS automatically publishes operational metrics to Amazon CloudWatch under the AWS/SQS
namespace", one-minute periods, dimension ``QueueName``; "All metrics emit non-negative values
only when the queue is active", and "CloudWatch considers a queue to be active for up to six
hours if it contains any messages, or if any action accesses it"; "Some metrics (such as
SentMessageSize) aren't emitted until at least one message is sent"
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html,
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/monitoring-using-cloudwatch.html).

What each minute ``[m, m + 60)`` of an active queue gets, stamped ``m`` and published once the
minute is over (on the backend's clock):

- counts, summed over the minute, zero included: ``NumberOfMessagesSent`` (messages added to the
  queue by any sender: SendMessage, a batch, SNS; a message moved from another queue, as a
  redrive moves it, is not a send), ``NumberOfMessagesReceived`` (messages ReceiveMessage
  returned), ``NumberOfEmptyReceives`` (ReceiveMessage calls that returned none),
  ``NumberOfMessagesDeleted`` (successful deletes);
- ``SentMessageSize`` in Bytes (body plus attributes), one sample per message sent, only in
  minutes with a send;
- gauges sampled at the end of the minute: ``ApproximateNumberOfMessagesVisible``;
  ``ApproximateNumberOfMessagesNotVisible`` (in flight) and ``ApproximateNumberOfMessagesDelayed``
  when there are such messages; ``ApproximateAgeOfOldestMessage`` in Seconds when the queue holds
  a message (not counting delayed ones).

How: every call on a queue is observed once answered (``observe_queue``), and a snapshot of the
queue's messages (sent time, delay, visibility, retention) is kept. Between two calls only time
changes a queue, so a minute boundary that passed since the last snapshot is sampled exactly by
evaluating that snapshot at the boundary; the boundaries are published before each new
snapshot replaces the old one, and when CloudWatch is read (``catch_up``). Not modelled: SQS's
reordering of messages received three or more times (the "poison pill" note on
ApproximateAgeOfOldestMessage), and FIFO-only metrics.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from course.backend.cloudwatch.store import MINUTE, minute_start, put, to_datetime
from course.backend.core import moto_state

NAMESPACE = "AWS/SQS"
#: A queue without messages stays active this long after a call on it.
ACTIVE_SECONDS = 6 * 3600
#: At most this much of the past is published at once (a clock moved ahead by days).
MAX_BACKFILL = 24 * 3600
COUNTS = (
    "NumberOfMessagesSent",
    "NumberOfMessagesReceived",
    "NumberOfMessagesDeleted",
    "NumberOfEmptyReceives",
)


@dataclass(frozen=True)
class Held:
    """One message as its queue held it at the last snapshot (epoch seconds)."""

    sent: float
    delayed_until: float
    visible_at: float
    received: bool
    expires: float


@dataclass
class Track:
    """One queue's snapshot, its counts not yet published, and how far it is published."""

    observed: float
    published: float  # the start of the first minute not yet published
    last_action: float
    held: dict[str, Held] = field(default_factory=dict)
    counts: dict[float, Counter[str]] = field(default_factory=dict)
    sizes: dict[float, list[int]] = field(default_factory=dict)


_LOCK = threading.RLock()
_TRACKS: dict[tuple[str, str, str], Track] = {}
#: Message ids already counted as sent, per account: a message that moves is not sent again.
_SEEN: dict[str, set[str]] = {}


def reset() -> None:
    """Forget every queue's record (backend reset)."""
    with _LOCK:
        _TRACKS.clear()
        _SEEN.clear()


def message_bytes(message: Any) -> int:
    """A moto message's size as SentMessageSize counts it: body plus each attribute's name, type
    and value, in bytes."""
    size = len(str(message.body).encode("utf-8"))
    for name, value in (getattr(message, "message_attributes", None) or {}).items():
        size += len(str(name).encode()) + len(str(value.get("DataType", "")).encode())
        raw = value.get("BinaryValue") or value.get("StringValue") or ""
        size += len(raw) if isinstance(raw, bytes) else len(str(raw).encode())
    return size


def _snapshot(queue: Any) -> tuple[dict[str, Held], dict[str, Any]]:
    """The messages moto's queue holds now, by id, as ``Held`` and as moto's messages."""
    retention = int(queue.message_retention_period)
    with queue._messages_lock:
        messages = {m.id: m for m in queue._messages}
    held = {}
    for message_id, m in messages.items():
        sent = (m.sent_timestamp or 0) / 1000
        held[message_id] = Held(
            sent=sent,
            delayed_until=float(m.delayed_until or 0) / 1000,
            visible_at=float(m.visible_at or 0) / 1000,
            received=bool(m.approximate_receive_count),
            expires=sent + retention,
        )
    return held, messages


def gauges(held: dict[str, Held], at: float) -> dict[str, tuple[float, str]]:
    """The gauges a queue reports at ``at``, from its messages: name → (value, unit)."""
    visible = in_flight = delayed = 0
    oldest: float | None = None
    for m in held.values():
        if at >= m.expires:
            continue
        if at < m.delayed_until:
            delayed += 1
            continue
        if m.received and at < m.visible_at:
            in_flight += 1
        else:
            visible += 1
        oldest = m.sent if oldest is None else min(oldest, m.sent)
    found = {"ApproximateNumberOfMessagesVisible": (float(visible), "Count")}
    if in_flight:
        found["ApproximateNumberOfMessagesNotVisible"] = (float(in_flight), "Count")
    if delayed:
        found["ApproximateNumberOfMessagesDelayed"] = (float(delayed), "Count")
    if oldest is not None:
        found["ApproximateAgeOfOldestMessage"] = (float(int(at - oldest)), "Seconds")
    return found


def _minute_data(name: str, track: Track, minute: float) -> list[dict[str, Any]]:
    """The datapoints of one minute of an active queue, in PutMetricData's shape."""
    stamp = to_datetime(minute)
    dimensions = [{"Name": "QueueName", "Value": name}]
    counts = track.counts.pop(minute, Counter())
    data: list[dict[str, Any]] = [
        {
            "MetricName": metric,
            "Value": float(counts.get(metric, 0)),
            "Unit": "Count",
            "Timestamp": stamp,
            "Dimensions": dimensions,
        }
        for metric in COUNTS
    ]
    sizes = track.sizes.pop(minute, [])
    if sizes:
        data.append(
            {
                "MetricName": "SentMessageSize",
                "StatisticValues": {
                    "SampleCount": float(len(sizes)),
                    "Sum": float(sum(sizes)),
                    "Minimum": float(min(sizes)),
                    "Maximum": float(max(sizes)),
                },
                "Unit": "Bytes",
                "Timestamp": stamp,
                "Dimensions": dimensions,
            }
        )
    for metric, (value, unit) in gauges(track.held, minute + MINUTE).items():
        data.append(
            {
                "MetricName": metric,
                "Value": value,
                "Unit": unit,
                "Timestamp": stamp,
                "Dimensions": dimensions,
            }
        )
    return data


def _active(track: Track, minute: float) -> bool:
    end = minute + MINUTE
    holds = any(m.expires > end for m in track.held.values())
    return holds or end - track.last_action <= ACTIVE_SECONDS


def _publish(key: tuple[str, str, str], track: Track, now: float) -> None:
    """Publish every whole minute of ``track`` that has ended by ``now``."""
    account_id, region, name = key
    track.published = max(track.published, minute_start(now - MAX_BACKFILL))
    data: list[dict[str, Any]] = []
    while track.published + MINUTE <= now:
        minute = track.published
        if _active(track, minute):
            data.extend(_minute_data(name, track, minute))
        track.published += MINUTE
    for stale in [m for m in track.counts if m < track.published]:
        del track.counts[stale]
    for stale in [m for m in track.sizes if m < track.published]:
        del track.sizes[stale]
    put(account_id, region, NAMESPACE, data)


def _moto_queue(account_id: str, region: str, name: str) -> Any | None:
    try:
        return moto_state.sqs(account_id, region).queues.get(name)
    except (KeyError, ValueError):
        return None


def observe_queue(account_id: str, region: str, name: str, now: float, acted: bool) -> None:
    """Publish the minutes of queue ``name`` that ended by ``now``, then take a new snapshot of
    it (counting the messages added since the last one as sent); ``acted`` says a call accessed
    the queue (which keeps it active). A queue that no longer exists is published and forgotten."""
    key = (account_id, region, name)
    with _LOCK:
        track = _TRACKS.get(key)
        queue = _moto_queue(account_id, region, name)
        if track is None:
            if queue is None:
                return
            track = _TRACKS[key] = Track(observed=now, published=minute_start(now), last_action=now)
        _publish(key, track, now)
        if queue is None:
            del _TRACKS[key]
            return
        held, messages = _snapshot(queue)
        seen = _SEEN.setdefault(account_id, set())
        for message_id, message in held.items():
            if message_id in track.held or message_id in seen:
                continue
            seen.add(message_id)
            minute = max(minute_start(message.sent), track.published)
            track.counts.setdefault(minute, Counter())["NumberOfMessagesSent"] += 1
            track.sizes.setdefault(minute, []).append(message_bytes(messages[message_id]))
        track.held, track.observed = held, now
        if acted:
            track.last_action = now


def observe_call(account_id: str, region: str, name: str, now: float) -> None:
    """After a call on queue ``name``: observe it and its dead-letter queue (a receive may move
    messages there); other queues are unchanged, and are published when CloudWatch is read."""
    queue = _moto_queue(account_id, region, name)
    dlq = getattr(queue, "dead_letter_queue", None) if queue is not None else None
    observe_queue(account_id, region, name, now, acted=True)
    if dlq is not None:
        observe_queue(account_id, region, str(dlq.name), now, acted=False)


def count(account_id: str, region: str, name: str, metric: str, n: int, now: float) -> None:
    """Add ``n`` to a count metric of queue ``name`` in the minute of ``now``."""
    with _LOCK:
        track = _TRACKS.get((account_id, region, name))
        if track is not None and n:
            minute = max(minute_start(now), track.published)
            track.counts.setdefault(minute, Counter())[metric] += n


def catch_up(account_id: str, region: str, now: float) -> None:
    """Publish every queue's minutes that ended by ``now`` (queues nobody called yet included)."""
    try:
        names = set(moto_state.sqs(account_id, region).queues)
    except (KeyError, ValueError):
        names = set()
    with _LOCK:
        names |= {n for (a, r, n) in _TRACKS if (a, r) == (account_id, region)}
        for name in sorted(names):
            observe_queue(account_id, region, name, now, acted=False)
