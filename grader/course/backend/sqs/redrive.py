"""SQS dead-letter queue redrive: StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask.

moto 5.2 answers all three with NotImplementedError (an HTTP 500 that boto3 retries). Here they
behave as the Amazon SQS API Reference and Developer Guide describe:

- the source must be a dead-letter queue of another SQS queue; the messages go back to the queue
  each was moved from (remembered when SQS moves it), or to ``DestinationArn`` when given;
- "All redriven messages are considered new messages with a new messageID and enqueueTime", so a
  redriven message starts again with ApproximateReceiveCount 0 (a move *into* a dead-letter queue
  keeps the count, which moto already does);
- a task gets a TaskHandle (base64 JSON of the task id and source ARN, AWS's own format) and is
  listed newest first with its status and counts.

The kit's task runs at once: it moves every message of the dead-letter queue that is visible
(not in flight, not delayed), then reports COMPLETED, or FAILED with ``FailureReason``
``CouldNotDetermineMessageSource`` when a message has no known source queue (for example one sent
straight to the dead-letter queue). ``MaxNumberOfMessagesPerSecond`` is validated (1 to 500) and
reported but does not slow the move. As no task stays RUNNING, CancelMessageMoveTask always
answers that the task does not exist (AWS cancels only RUNNING tasks).

``GET /_course/sqs/messages?queue=NAME[&region=R]`` lists the MessageIds, receive counts and
visibility of the messages a queue holds (no bodies): the read-only view the checks use to say
where a message is now, since SQS itself has no way to look without receiving.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from moto.core.exceptions import ServiceException
from moto.sqs.models import Message, Queue, SQSBackend

from course.backend.core import clock
from course.backend.core.moto_state import DEFAULT_ACCOUNT_ID
from course.backend.core.registry import (
    ApiRequest,
    Reply,
    before,
    json_reply,
    on_reset,
    page,
    success,
)
from course.backend.sqs.exceptions import InvalidParameterValue, ResourceNotFoundException
from course.backend.sqs.queues import backend_or_none, expired, queue_by_arn

SOURCE_ATTRIBUTE = "course_dlq_source_arn"  # on a moto Message: the queue it was moved from
HOLDER_ATTRIBUTE = "course_queue_arn"  # on a moto Message: the queue it was last added to
NO_SOURCE = "CouldNotDetermineMessageSource"


@dataclass
class MoveTask:
    """One message movement task, as ListMessageMoveTasks reports it."""

    task_id: str
    source_arn: str
    destination_arn: str | None
    rate: int | None
    started: int  # epoch milliseconds
    status: str = "RUNNING"
    to_move: int = 0
    moved: int = 0
    failure_reason: str | None = None

    @property
    def handle(self) -> str:
        """The TaskHandle: base64 of ``{"taskId", "sourceArn"}``, AWS's own format."""
        document = json.dumps({"taskId": self.task_id, "sourceArn": self.source_arn})
        return base64.b64encode(document.encode()).decode()

    def to_result(self) -> dict[str, Any]:
        """The task as one of ListMessageMoveTasks' Results."""
        result: dict[str, Any] = {
            "Status": self.status,
            "SourceArn": self.source_arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "StartedTimestamp": self.started,
        }
        if self.status == "RUNNING":
            result["TaskHandle"] = self.handle
        if self.destination_arn:
            result["DestinationArn"] = self.destination_arn
        if self.rate is not None:
            result["MaxNumberOfMessagesPerSecond"] = self.rate
        if self.failure_reason:
            result["FailureReason"] = self.failure_reason
        return result


@dataclass
class TaskBook:
    """Every task started on this backend, newest first per source queue."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    by_source: dict[str, list[MoveTask]] = field(default_factory=dict)

    def add(self, task: MoveTask) -> None:
        """Keep a new task, newest first for its source queue."""
        with self.lock:
            self.by_source.setdefault(task.source_arn, []).insert(0, task)

    def recent(self, source_arn: str, limit: int) -> list[MoveTask]:
        """The source queue's ``limit`` newest tasks."""
        with self.lock:
            return list(self.by_source.get(source_arn, [])[:limit])

    def find(self, source_arn: str, task_id: str) -> MoveTask | None:
        """The source queue's task with that id, if any."""
        with self.lock:
            return next(
                (t for t in self.by_source.get(source_arn, []) if t.task_id == task_id), None
            )

    def clear(self) -> None:
        """Forget every task (backend reset)."""
        with self.lock:
            self.by_source.clear()


TASKS = TaskBook()


@on_reset
def _clear() -> None:
    TASKS.clear()


# ---------------------------------------------------------------- dead-letter queues


def _sources_of(backend: SQSBackend, dlq: Queue) -> list[Queue]:
    return [q for q in backend.queues.values() if q.dead_letter_queue is dlq]


# ---------------------------------------------------------------- where each message came from


def _add_message(original: Any) -> Any:
    """Wrap moto's ``Queue.add_message`` to note, on each message, the queue it came from.

    A send adds a new ``Message``; only a dead-letter move adds one that is already in a queue
    (moto moves the very object). So a message added a second time was moved out of the queue
    it was last added to: that queue is where a redrive sends it back ("their respective
    original source queues"). One attribute per add, nothing scanned.
    """

    def add_message(self: Queue, message: Message) -> None:
        if (previous := getattr(message, HOLDER_ATTRIBUTE, None)) is not None:
            setattr(message, SOURCE_ATTRIBUTE, previous)
        setattr(message, HOLDER_ATTRIBUTE, self.queue_arn)
        return original(self, message)

    add_message.__course_redrive__ = True  # type: ignore[attr-defined]
    return add_message


def install() -> None:
    """Wrap moto's ``Queue.add_message`` once."""
    if not getattr(Queue.add_message, "__course_redrive__", False):
        Queue.add_message = _add_message(Queue.add_message)  # type: ignore[method-assign]


install()


# ---------------------------------------------------------------- StartMessageMoveTask


def _not_found(parameter: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(
        f"The resource that you specified for the {parameter} parameter doesn't exist."
    )


@before("sqs", "StartMessageMoveTask")
def start_message_move_task(request: ApiRequest) -> Reply:
    """Start a task (it finishes at once) moving the dead-letter queue's messages back."""
    params = request.params
    source_arn = str(params.get("SourceArn", ""))
    found = queue_by_arn(source_arn)
    if found is None:
        raise _not_found("SourceArn")
    backend, dlq = found
    rate = params.get("MaxNumberOfMessagesPerSecond")
    if rate is not None and not 1 <= int(rate) <= 500:
        raise InvalidParameterValue(
            f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. "
            "Reason: Must be between 1 and 500."
        )
    if not _sources_of(backend, dlq):
        raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
    destination_arn = params.get("DestinationArn") or None
    destination: Queue | None = None
    if destination_arn is not None:
        if destination_arn == source_arn:
            raise InvalidParameterValue(
                "Source queue arn and destination queue arn cannot be the same."
            )
        target = queue_by_arn(destination_arn)
        if target is None:
            raise _not_found("DestinationArn")
        destination = target[1]
        if destination.fifo_queue != dlq.fifo_queue:
            raise InvalidParameterValue(
                "The source queue and destination queue must be of the same queue type."
            )
    task = MoveTask(
        task_id=str(uuid.uuid4()),
        source_arn=source_arn,
        destination_arn=destination_arn,
        rate=int(rate) if rate is not None else None,
        started=int(clock.now() * 1000),
    )
    _run(task, backend, dlq, destination)
    TASKS.add(task)
    return success(request.call, {"TaskHandle": task.handle})


def _movable(dlq: Queue) -> list[Message]:
    """The DLQ's messages a task moves: visible, not delayed, not past the retention period."""
    retention, now = int(dlq.message_retention_period), clock.now()
    return [
        m
        for m in list(dlq._messages)
        if m.visible and not m.delayed and not expired(m, retention, now)
    ]


def _run(task: MoveTask, backend: SQSBackend, dlq: Queue, destination: Queue | None) -> None:
    """Move the dead-letter queue's visible messages, oldest first, and finish the task."""
    messages = _movable(dlq)
    task.to_move = len(messages)
    for message in messages:
        target = destination
        if target is None:
            origin = queue_by_arn(getattr(message, SOURCE_ATTRIBUTE, ""))
            target = origin[1] if origin is not None else None
        if target is None:
            task.status, task.failure_reason = "FAILED", NO_SOURCE
            return
        try:
            _move(backend, dlq, message, target)
        except ServiceException as exc:
            task.status, task.failure_reason = "FAILED", str(getattr(exc, "message", exc))
            return
        task.moved += 1
    task.status = "COMPLETED"


def _move(backend: SQSBackend, dlq: Queue, message: Message, target: Queue) -> None:
    """Send ``message`` to ``target`` as a new message, then take it out of the DLQ."""
    target_backend = backend_or_none(target.account_id, target.region) or backend
    target_backend.send_message(
        target.name,
        message.body,
        message_attributes=dict(message.message_attributes or {}),
        group_id=message.group_id if target.fifo_queue else None,
        deduplication_id=message.id if target.fifo_queue else None,
        system_attributes=message.system_attributes or None,
    )
    with dlq._messages_lock:
        if message in dlq._messages:
            dlq._messages.remove(message)
        dlq.pending_messages.discard(message)


# ---------------------------------------------------------------- ListMessageMoveTasks, Cancel


@before("sqs", "ListMessageMoveTasks")
def list_message_move_tasks(request: ApiRequest) -> Reply:
    """The source queue's most recent tasks, newest first (1 by default, up to 10)."""
    source_arn = str(request.params.get("SourceArn", ""))
    if queue_by_arn(source_arn) is None:
        raise _not_found("SourceArn")
    limit = request.params.get("MaxResults", 1)
    if not 1 <= int(limit) <= 10:
        raise InvalidParameterValue(
            f"Value {limit} for parameter MaxResults is invalid. Reason: Must be between 1 and 10."
        )
    results = [t.to_result() for t in TASKS.recent(source_arn, int(limit))]
    return success(request.call, {"Results": results})


@before("sqs", "CancelMessageMoveTask")
def cancel_message_move_task(request: ApiRequest) -> Reply:
    """Cancel a RUNNING task; the kit's tasks finish at once, so this answers that none is."""
    handle = str(request.params.get("TaskHandle", ""))
    try:
        decoded = json.loads(base64.b64decode(handle, validate=True))
        task_id, source_arn = str(decoded["taskId"]), str(decoded["sourceArn"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidParameterValue("Value for parameter TaskHandle is invalid.") from None
    if queue_by_arn(source_arn) is None:
        raise _not_found("SourceArn")
    task = TASKS.find(source_arn, task_id)
    if task is None or task.status != "RUNNING":
        raise ResourceNotFoundException("Task does not exist.")
    task.status = "CANCELLED"  # unreachable while tasks finish at once; kept for completeness
    return success(request.call, {"ApproximateNumberOfMessagesMoved": task.moved})


# ---------------------------------------------------------------- the checks' read-only view


@page("/_course/sqs/messages")
def messages_page(environ: dict[str, Any], body: bytes) -> Reply:
    """The messages a queue holds: MessageId, receive count, in flight or not (no bodies)."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    name = query.get("queue", [""])[0]
    region = query.get("region", ["us-east-1"])[0]
    backend = backend_or_none(query.get("account", [DEFAULT_ACCOUNT_ID])[0], region)
    queue = backend.queues.get(name) if backend is not None else None
    if queue is None:
        return json_reply(404, {"error": f"there is no queue named {name!r} in {region}"})
    messages = [
        {
            "MessageId": m.id,
            "ApproximateReceiveCount": m.approximate_receive_count,
            "InFlight": not m.visible,
            "Delayed": m.delayed,
        }
        for m in list(queue._messages)
    ]
    return json_reply(200, {"queue": name, "region": region, "messages": messages})
