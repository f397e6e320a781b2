"""SQS retention: a message older than its queue's MessageRetentionPeriod is deleted.

moto 5.2 never removes an expired message: ReceiveMessage skips it (after counting it as
received and hiding it), and GetQueueAttributes keeps counting it. AWS deletes it: "Amazon SQS
automatically deletes messages left in a queue longer than the retention period configured for
the queue" (DeleteMessage reference). Before every SQS call that names a queue, this module
drops that queue's expired messages (``course.backend.sqs.queues.sweep``), on the backend's
clock, so counts, receives and deletes all see the queue as AWS would. Lowering
MessageRetentionPeriod expires older messages too, as the SetQueueAttributes reference says it
does.
"""

from __future__ import annotations

from functools import cache

from course.backend.core.protocol import service_model
from course.backend.core.registry import ApiRequest, Reply, before
from course.backend.sqs.queues import queue_at_url, sweep


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
    url = str(request.params.get("QueueUrl", ""))
    queue = queue_at_url(request.account_id, request.call.region, url)
    if queue is not None:
        sweep(queue)
    return None


for _action in queue_actions():
    before("sqs", _action)(sweep_named_queue)
