"""moto's SQS queues as the hooks find them, and the retention rule they all apply.

A call names its queue by URL (the queue's name is the URL's last segment) and a redrive by ARN;
these functions find moto's queue through ``course.backend.core.moto_state``. ``expired`` and
``sweep`` are SQS's retention period ("Amazon SQS automatically deletes messages left in a queue
longer than the retention period configured for the queue"), on the backend's clock; the
``course.backend.sqs.retention`` hooks apply it before each call, and a redrive moves only
messages that have not expired.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from course.backend.core import clock, moto_state

if TYPE_CHECKING:
    from moto.sqs.models import Queue, SQSBackend


def name_in_url(url: str) -> str:
    """The queue name a queue URL ends with."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def queue_at_url(account_id: str, region: str, url: str) -> Queue | None:
    """moto's queue a queue URL names, or None if there is none; raises ``KeyError`` (or
    ``ValueError``) as moto does for a region it does not know."""
    return moto_state.sqs(account_id, region).queues.get(name_in_url(url))


def backend_or_none(account_id: str, region: str) -> SQSBackend | None:
    """moto's SQS backend of the account and region, or None for a region moto does not know."""
    try:
        return moto_state.sqs(account_id, region)
    except (KeyError, ValueError):
        return None


def queue_by_arn(arn: str) -> tuple[SQSBackend, Queue] | None:
    """The backend and queue an SQS queue ARN names, if it exists."""
    parts = str(arn).split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs":
        return None
    backend = backend_or_none(parts[4], parts[3])
    queue = backend.queues.get(parts[5]) if backend is not None else None
    return (backend, queue) if backend is not None and queue is not None else None


def expired(message: Any, retention_seconds: int, now: float) -> bool:
    """Whether a moto message has outlived the retention period at ``now`` (epoch seconds)."""
    sent_ms = getattr(message, "sent_timestamp", None)
    return sent_ms is not None and sent_ms / 1000 + retention_seconds <= now


def sweep(queue: Any, now: float | None = None) -> int:
    """Delete a moto queue's expired messages; returns how many were deleted."""
    now = clock.now() if now is None else now
    retention = int(queue.message_retention_period)
    with queue._messages_lock:
        kept, gone = [], []
        for message in queue._messages:
            (gone if expired(message, retention, now) else kept).append(message)
        if gone:
            queue._messages = kept
            queue.pending_messages.difference_update(gone)
    return len(gone)
