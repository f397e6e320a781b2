"""The metrics Amazon SES publishes to CloudWatch (namespace ``AWS/SES``), from the sends.

SES publishes account-level metrics without dimensions: ``Send``, ``Delivery``, ``Bounce``,
``Complaint`` (counts) and ``Reputation.BounceRate`` / ``Reputation.ComplaintRate`` (fractions:
0.05 is 5%), which "you can use ... to create CloudWatch alarms"
(https://docs.aws.amazon.com/ses/latest/dg/reputationdashboard-cloudwatch-alarm.html,
https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-cloudwatch.html).

Each accepted send (the v1 and v2 API sends; ``@observe`` sees them once SES has accepted them)
counts one ``Send`` per message and, per recipient, what the mailbox simulator does with it
(https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html#send-email-simulator):
``bounce@`` and ``suppressionlist@simulator.amazonses.com`` bounce, ``complaint@`` is delivered
then complained about, every other address is delivered. The counts are summed per minute; the
reputation rates are published every minute for a day after the last send, as the bounces (or
complaints) over every recipient since the backend started. Sends through the SMTP interface
are not counted here.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

from course.backend.cloudwatch.store import MINUTE, minute_start, put, to_datetime

NAMESPACE = "AWS/SES"
SIMULATOR_DOMAIN = "simulator.amazonses.com"
#: The reputation metrics stay published this long after the last send.
REPUTATION_SECONDS = 24 * 3600
MAX_BACKFILL = 24 * 3600
COUNTS = ("Send", "Delivery", "Bounce", "Complaint")


@dataclass
class SesTrack:
    """One account and region: counts per minute not yet published, and the running totals."""

    published: float
    last_send: float
    totals: Counter[str] = field(default_factory=Counter)
    counts: dict[float, Counter[str]] = field(default_factory=dict)


_LOCK = threading.RLock()
_TRACKS: dict[tuple[str, str], SesTrack] = {}


def reset() -> None:
    """Forget every account's sends (backend reset)."""
    with _LOCK:
        _TRACKS.clear()


def recipient_outcome(address: str) -> Counter[str]:
    """What one recipient adds to the counts: a bounce, or a delivery (and a complaint)."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain == SIMULATOR_DOMAIN:
        kind = local.split("+", 1)[0]
        if kind in ("bounce", "suppressionlist"):
            return Counter(Bounce=1)
        if kind == "complaint":
            return Counter(Delivery=1, Complaint=1)
    return Counter(Delivery=1)


def _destination(destination: Any) -> list[str]:
    if not isinstance(destination, dict):
        return []
    found: list[str] = []
    for key in ("ToAddresses", "CcAddresses", "BccAddresses"):
        found.extend(str(a) for a in destination.get(key) or [])
    return found


def _raw_recipients(data: Any) -> list[str]:
    if not isinstance(data, str | bytes):
        return []
    raw = data.encode() if isinstance(data, str) else data
    message = email.message_from_bytes(raw, policy=email.policy.default)
    fields = [str(v) for key in ("To", "Cc", "Bcc") for v in message.get_all(key, [])]
    return [address for _, address in getaddresses(fields) if address]


def messages_of(action: str, params: dict[str, Any]) -> list[list[str]]:
    """The recipients of each message an accepted send call sent."""
    if action in ("SendEmail", "SendTemplatedEmail") and "Destination" in params:
        return [_destination(params.get("Destination"))]
    if action == "SendRawEmail":
        listed = [str(a) for a in params.get("Destinations") or []]
        raw = (params.get("RawMessage") or {}).get("Data")
        return [listed or _raw_recipients(raw)]
    if action == "SendEmail":  # SES v2: a formatted, templated or raw message
        raw = ((params.get("Content") or {}).get("Raw") or {}).get("Data")
        return [_destination(params.get("Destination")) or _raw_recipients(raw)]
    if action == "SendBulkTemplatedEmail":
        return [_destination(d.get("Destination")) for d in params.get("Destinations") or []]
    if action == "SendBulkEmail":
        return [_destination(e.get("Destination")) for e in params.get("BulkEmailEntries") or []]
    return []


def record_send(account_id: str, region: str, messages: Iterable[list[str]], now: float) -> None:
    """Count accepted messages (each a list of recipients) in the minute of ``now``."""
    with _LOCK:
        track = _TRACKS.get((account_id, region))
        if track is None:
            track = _TRACKS[(account_id, region)] = SesTrack(minute_start(now), now)
        _publish(account_id, region, track, now)
        minute = max(minute_start(now), track.published)
        counts = track.counts.setdefault(minute, Counter())
        for recipients in messages:
            counts["Send"] += 1
            for address in recipients:
                counts.update(recipient_outcome(address))
        track.last_send = now


def _publish(account_id: str, region: str, track: SesTrack, now: float) -> None:
    track.published = max(track.published, minute_start(now - MAX_BACKFILL))
    data: list[dict[str, Any]] = []
    while track.published + MINUTE <= now:
        minute = track.published
        counts = track.counts.pop(minute, Counter())
        track.totals.update(counts)
        stamp = to_datetime(minute)
        data.extend(
            {"MetricName": m, "Value": float(counts[m]), "Unit": "Count", "Timestamp": stamp}
            for m in COUNTS
            if counts[m]
        )
        attempts = track.totals["Delivery"] + track.totals["Bounce"]
        if attempts and minute + MINUTE - track.last_send <= REPUTATION_SECONDS:
            for metric, kind in (
                ("Reputation.BounceRate", "Bounce"),
                ("Reputation.ComplaintRate", "Complaint"),
            ):
                value = track.totals[kind] / attempts
                data.append({"MetricName": metric, "Value": value, "Timestamp": stamp})
        track.published += MINUTE
    put(account_id, region, NAMESPACE, data)


def catch_up(account_id: str, region: str, now: float) -> None:
    """Publish the minutes of SES activity that ended by ``now``."""
    with _LOCK:
        track = _TRACKS.get((account_id, region))
        if track is not None:
            _publish(account_id, region, track, now)
