"""SQS retention: a message older than its queue's MessageRetentionPeriod is deleted.

moto 5.2 never removes an expired message: ReceiveMessage skips it (after counting it as
received and hiding it), and GetQueueAttributes keeps counting it. AWS deletes it: "Amazon SQS
automatically deletes messages left in a queue longer than the retention period configured for
the queue" (DeleteMessage reference). Before every SQS call that names a queue, this module
drops that queue's expired messages, on the backend's clock, so counts, receives and
deletes all see the queue as AWS would. Lowering MessageRetentionPeriod expires older messages
too, as the SetQueueAttributes reference says it does.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from course.backend.core import clock
from course.backend.core.protocol import service_model
from course.backend.core.registry import ApiRequest, Reply, before


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


@cache
def queue_actions() -> tuple[str, ...]:
    """Every SQS operation whose request names a queue by its URL."""
    model = service_model("sqs")
    return tuple(
        name
        for name in model.operation_names
        if (shape := model.operation_model(name).input_shape) is not None
        and "QueueUrl" in shape.members
    )


def sweep_named_queue(request: ApiRequest) -> Reply | None:
    """Before a call on a queue, delete that queue's expired messages; moto then answers."""
    from moto.sqs.models import sqs_backends

    url = str(request.params.get("QueueUrl", ""))
    name = url.rstrip("/").rsplit("/", 1)[-1]
    queue = sqs_backends[request.account_id][request.call.region].queues.get(name)
    if queue is not None:
        sweep(queue)
    return None


for _action in queue_actions():
    before("sqs", _action)(sweep_named_queue)
