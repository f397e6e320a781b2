"""SQS FIFO queues as AWS documents them, where moto 5.2 differs.

- **Deduplication window.** A message whose deduplication id (explicit, or the SHA-256 of the
  body under ContentBasedDeduplication) was first sent less than five minutes ago is accepted
  and not delivered, "even after the message has been received and deleted". moto only compares
  with messages still stored. The duplicate's reply carries the first copy's MessageId and
  SequenceNumber. DeduplicationScope ``messageGroup`` limits the window to one message group.
- **Sequence numbers.** Every accepted message gets a large, non-consecutive number that keeps
  increasing within its queue (so within each message group); moto gives random ones, and none
  at all under content-based deduplication.
- **FIFO dead-letter queues.** A message moved into a FIFO DLQ takes its MessageId as its
  deduplication id, so the DLQ never drops two different messages that shared one.
- **Order after a visibility timeout.** When several messages of a group were received and
  their visibility timeout ends, moto delivers the group's *last* message first (it keeps the
  earlier ones marked in flight while it looks at them); here the group's messages come back
  oldest first, as on AWS.
- **Queue names.** ``FifoQueue=true`` needs a name ending in ``.fifo``, and a ``.fifo`` name is
  only allowed for a FIFO queue (moto creates a standard queue with that name).
- **Exclusive message groups under concurrent consumers.** While a message of a group is in
  flight, no other receive gets a message of that group, however many consumers poll at once.
  moto scans a queue in every receive at the same time, against a copy of the in-flight groups
  taken when the receive began, so two overlapping receives could each take a message of one
  group (out of order); and a long poll on a blocked group looked again at once, in a loop that
  burned a full core for its whole wait. Here one receive at a time scans a FIFO queue, and a
  long poll sleeps until the queue changes (a send, a delete, a visibility change) or a message's
  visibility timeout or delay ends, looking again at least once an AWS second.

Windows are measured on the backend's clock (``course.backend.core.clock``), so tests and the grader
can advance it. The deduplication and sequence logic wraps ``moto.sqs.models.Queue.add_message``,
the one place every send, batch send and dead-letter move passes through; receives wrap
``SQSBackend.receive_message``, which every ReceiveMessage passes through.
"""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.sqs.models import Message, Queue, SQSBackend

from course.backend.core import clock
from course.backend.core.registry import ApiRequest, Reply, before, on_reset
from course.backend.sqs.exceptions import InvalidParameterValue
from course.backend.sqs.queues import queue_at_url

#: "If a message with a particular MessageDeduplicationId is sent successfully, any messages sent
#: with the same MessageDeduplicationId are accepted successfully but aren't delivered during the
#: 5-minute deduplication interval." (SendMessage, Amazon SQS API Reference)
DEDUPLICATION_INTERVAL = 300.0

FIFO_NAME_ERROR = (
    "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
    "must end with .fifo suffix and be 1 to 80 in length"
)
STANDARD_NAME_ERROR = (
    "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
)

QueueKey = tuple[str, float]  # ARN and creation time: a queue deleted and made again is new


@dataclass(frozen=True)
class FirstCopy:
    """The first accepted copy of a deduplication id in a queue."""

    sent_at: float
    message_id: str
    sequence_number: str | None


class FifoLedger:
    """Deduplication ids and sequence numbers of every FIFO queue, on the backend's clock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        # Oldest first: ``remember`` re-inserts a key at the end, so expired ids lead.
        self._first: OrderedDict[tuple[QueueKey, str | None, str], FirstCopy] = OrderedDict()
        self._last_sequence: dict[QueueKey, int] = {}

    def clear(self) -> None:
        """Forget every deduplication id and sequence number (backend reset)."""
        with self.lock:
            self._first.clear()
            self._last_sequence.clear()

    def duplicate_of(self, queue: Queue, message: Message) -> FirstCopy | None:
        """The first copy ``message`` duplicates within the interval, if any."""
        first = self._first.get(_dedup_key(queue, message))
        if first is None or clock.now() - first.sent_at >= DEDUPLICATION_INTERVAL:
            return None
        return first

    def remember(self, queue: Queue, message: Message) -> None:
        """Record ``message`` as the first copy of its id; forget ids whose interval is over."""
        now = clock.now()
        key = _dedup_key(queue, message)
        self._first.pop(key, None)
        self._first[key] = FirstCopy(now, message.id, message.sequence_number)
        while now - next(iter(self._first.values())).sent_at >= DEDUPLICATION_INTERVAL:
            self._first.popitem(last=False)

    def next_sequence_number(self, queue: Queue) -> str:
        """A 20-digit number larger than any this queue has handed out, with random gaps."""
        key = _queue_key(queue)
        floor = int(clock.now() * 1_000_000) * 10_000
        number = max(self._last_sequence.get(key, 0), floor) + random.randint(1, 1 << 16)
        self._last_sequence[key] = number
        return str(number)


LEDGER = FifoLedger()


def _queue_key(queue: Queue) -> QueueKey:
    return (queue.queue_arn, float(queue.created_timestamp))


def _dedup_key(queue: Queue, message: Message) -> tuple[QueueKey, str | None, str]:
    scope = getattr(queue, "deduplication_scope", "queue")
    group = message.group_id if scope == "messageGroup" else None
    return (_queue_key(queue), group, message.deduplication_id or "")


def _add_message(original: Any) -> Any:
    """Wrap moto's ``Queue.add_message`` with the FIFO rules above (standard queues untouched)."""

    def add_message(self: Queue, message: Message) -> None:
        if not self.fifo_queue:
            return original(self, message)
        with LEDGER.lock:
            if message.approximate_receive_count > 0:
                # Only a dead-letter move hands over a message that was already received.
                message.deduplication_id = message.id
            elif message.deduplication_id and (first := LEDGER.duplicate_of(self, message)):
                message.id = first.message_id
                message.sequence_number = first.sequence_number
                return None
            message.sequence_number = LEDGER.next_sequence_number(self)
            if message.deduplication_id and message.approximate_receive_count == 0:
                LEDGER.remember(self, message)
            # moto would compare with the messages still stored; the ledger has decided already.
            dedup_id, message.deduplication_id = message.deduplication_id, None
            try:
                return original(self, message)
            finally:
                message.deduplication_id = dedup_id
                turnstile(self).changed()

    add_message.__course_fifo__ = True  # type: ignore[attr-defined]
    return add_message


class Turnstile:
    """One FIFO queue's receive discipline: one receive scans the queue at a time (so a group
    taken by one receive is seen as in flight by the next), and a long poll waits for a change."""

    def __init__(self) -> None:
        self.scan = threading.Lock()
        self._changed = threading.Condition()
        self._version = 0

    @property
    def version(self) -> int:
        """How many changes the queue has seen; a wait returns once it moves past a value."""
        return self._version

    def changed(self) -> None:
        """Wake every receive waiting on the queue: a message came, went or changed visibility."""
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def wait(self, seen: int, real_seconds: float) -> None:
        """Sleep until the queue changes after ``seen`` (``version``), at most ``real_seconds``."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != seen, timeout=max(real_seconds, 0))


_TURNSTILES_LOCK = threading.Lock()

#: A long poll looks at its queue again after at most this many AWS seconds even without a
#: change it was told of (the grader may advance the clock under it), as moto's own loop does.
LOOK_AGAIN = 1.0


def turnstile(queue: Queue) -> Turnstile:
    """The queue's turnstile (made on first use, kept on the queue object)."""
    found = getattr(queue, "_course_turnstile", None)
    if found is None:
        with _TURNSTILES_LOCK:
            found = getattr(queue, "_course_turnstile", None)
            if found is None:
                found = queue._course_turnstile = Turnstile()  # type: ignore[attr-defined]
    return found


def release_timed_out(queue: Queue) -> None:
    """Forget "in flight" for messages whose visibility timeout is over, oldest first.

    moto blocks a group while any of its messages is in its pending set, and takes a message out
    of that set only when it reaches it; with two or more expired messages in a group it skips
    the older ones and delivers the newest. Clearing them first keeps the group's order.
    """
    for message in list(queue.pending_messages):
        if message.visible:
            queue.pending_messages.discard(message)


def _next_change(queue: Queue, now: float) -> float:
    """The AWS time at which a message of ``queue`` next becomes visible or ends its delay
    (infinity when none will)."""
    times = [
        moment / 1000
        for message in list(queue._messages)
        for moment in (message.visible_at, message.delayed_until)
        if moment / 1000 > now
    ]
    return min(times, default=float("inf"))


def _receive_message(original: Callable[..., list[Message]]) -> Callable[..., list[Message]]:
    """Wrap moto's ``SQSBackend.receive_message``: a FIFO queue is scanned by one receive at a
    time, and a long poll sleeps between looks instead of spinning (standard queues untouched)."""

    def receive_message(
        self: SQSBackend,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Message]:
        queue = self.get_queue(queue_name)
        if not queue.fifo_queue:
            return original(
                self,
                queue_name,
                count,
                wait_seconds_timeout,
                visibility_timeout,
                message_attribute_names,
            )
        gate = turnstile(queue)
        deadline = clock.now() + float(wait_seconds_timeout or 0)
        while True:
            seen = gate.version
            with gate.scan:
                release_timed_out(queue)
                found = original(
                    self, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
            now = clock.now()
            if found or now >= deadline:
                return found
            until = min(deadline, _next_change(queue, now), now + LOOK_AGAIN)
            gate.wait(seen, clock.to_real(until - now))

    receive_message.__course_fifo__ = True  # type: ignore[attr-defined]
    return receive_message


def _notifying(original: Callable[..., Any], queue_of: Callable[..., Queue]) -> Callable[..., Any]:
    """Wrap a method that removes a message or changes its visibility: on a FIFO queue it runs
    under the queue's message lock (a send cannot slip in while moto rebuilds the message list)
    and then wakes the receives waiting on the queue."""

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        queue = queue_of(self, *args, **kwargs)
        if not queue.fifo_queue:
            return original(self, *args, **kwargs)
        try:
            with queue._messages_lock:
                return original(self, *args, **kwargs)
        finally:
            turnstile(queue).changed()

    wrapper.__course_fifo__ = True  # type: ignore[attr-defined]
    return wrapper


def install() -> None:
    """Wrap moto's ``Queue.add_message``, ``Queue.delete_message``,
    ``SQSBackend.change_message_visibility`` and ``SQSBackend.receive_message`` once."""
    if not getattr(Queue.add_message, "__course_fifo__", False):
        Queue.add_message = _add_message(Queue.add_message)  # type: ignore[method-assign]
    if not getattr(Queue.delete_message, "__course_fifo__", False):
        Queue.delete_message = _notifying(  # type: ignore[method-assign]
            Queue.delete_message, lambda queue, *args, **kwargs: queue
        )
    if not getattr(SQSBackend.change_message_visibility, "__course_fifo__", False):
        SQSBackend.change_message_visibility = _notifying(  # type: ignore[method-assign]
            SQSBackend.change_message_visibility,
            lambda backend, queue_name, *args, **kwargs: backend.get_queue(queue_name),
        )
    if not getattr(SQSBackend.receive_message, "__course_fifo__", False):
        SQSBackend.receive_message = _receive_message(  # type: ignore[method-assign]
            SQSBackend.receive_message
        )


install()


@on_reset
def _clear() -> None:
    LEDGER.clear()


@before("sqs", "CreateQueue")
def _check_fifo_name(request: ApiRequest) -> Reply | None:
    """``.fifo`` names and ``FifoQueue=true`` go together (CreateQueue, QueueName)."""
    name = str(request.params.get("QueueName", ""))
    attributes = request.params.get("Attributes") or {}
    fifo = str(attributes.get("FifoQueue", "false")).lower() == "true"
    if fifo and not name.endswith(".fifo"):
        raise InvalidParameterValue(FIFO_NAME_ERROR)
    if name.endswith(".fifo") and not fifo:
        raise InvalidParameterValue(STANDARD_NAME_ERROR)
    return None


@before("sqs", "ReceiveMessage")
def _release_visible_messages(request: ApiRequest) -> Reply | None:
    """Release the FIFO messages whose visibility timeout is over before moto looks (each scan
    of a long poll does so again, under the queue's turnstile)."""
    url = str(request.params.get("QueueUrl", ""))
    try:
        queue = queue_at_url(request.account_id, request.call.region, url)
    except (KeyError, ValueError):
        return None
    if queue is None or not queue.fifo_queue:
        return None
    with turnstile(queue).scan:
        release_timed_out(queue)
    return None
