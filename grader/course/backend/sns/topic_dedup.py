"""SNS FIFO topics' own deduplication: the ids a FIFO topic accepted in the last five minutes.

moto deduplicates nothing at the topic: a duplicate Publish fans out again, and only a FIFO
queue that still holds the first copy drops it. AWS ("Message deduplication for FIFO topics",
and the Publish API reference on ``MessageDeduplicationId``): "If a message with a particular
MessageDeduplicationId is sent successfully, subsequent messages within the deduplication scope
and interval, with the same MessageDeduplicationId, are accepted successfully but aren't
delivered", over "the 5 minute minimum deduplication interval"; with ``ContentBasedDeduplication``
"Amazon SNS uses a SHA-256 hash to generate the MessageDeduplicationId using the body of the
message (but not the attributes of the message)", and an explicit id overrides it. "The scope of
deduplication depends on the FifoThroughputScope attribute": ``Topic`` (the default) across the
topic, ``MessageGroup`` within each message group.

The window is measured on the backend's clock (``course.backend.core.clock``). This module keeps
state only; ``course.backend.sns.delivery`` asks it before fanning a message out.

https://docs.aws.amazon.com/sns/latest/dg/fifo-message-dedup.html
https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import OrderedDict
from typing import Any

from course.backend.core import clock
from course.backend.core.registry import on_reset

#: "the 5 minute minimum deduplication interval" (Publish, MessageDeduplicationId).
DEDUPLICATION_INTERVAL = 300.0

#: Where a topic's sequence numbers start: "a large, non-consecutive number" (Publish).
FIRST_SEQUENCE = 10_000_000_000_000_000_000

_Key = tuple[str, int, str | None, str]  # topic ARN, topic object, group (or None), id


class TopicLedger:
    """The deduplication ids every FIFO topic accepted, oldest first, on the backend's clock,
    and the sequence number of each message accepted in that time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._first: OrderedDict[_Key, tuple[float, str]] = OrderedDict()
        self._numbers: dict[str, int] = {}  # by MessageId, for as long as its id is kept
        self._last: dict[tuple[str, int], int] = {}  # last sequence number by topic

    def clear(self) -> None:
        """Forget every id and number (backend reset)."""
        with self.lock:
            self._first.clear()
            self._numbers.clear()
            self._last.clear()

    def admit(self, key: _Key, message_id: str) -> str | None:
        """Accept ``message_id`` under ``key``: None if it is new (now remembered, with the
        topic's next sequence number), else the MessageId of the copy accepted under the same
        key less than five minutes ago."""
        now = clock.now()
        with self.lock:
            while self._first:
                oldest, (sent_at, expired) = next(iter(self._first.items()))
                if now - sent_at < DEDUPLICATION_INTERVAL:
                    break
                del self._first[oldest]
                self._numbers.pop(expired, None)
            first = self._first.get(key)
            if first is not None:
                return first[1]
            self._first[key] = (now, message_id)
            topic = key[:2]
            number = self._last.get(topic, FIRST_SEQUENCE) + random.randint(1, 1000)
            self._last[topic] = self._numbers[message_id] = number
            return None

    def sequence_number(self, message_id: str) -> str | None:
        """The sequence number of a message a FIFO topic accepted in the last five minutes."""
        with self.lock:
            number = self._numbers.get(message_id)
        return None if number is None else str(number)


LEDGER = TopicLedger()


def is_fifo(topic: Any) -> bool:
    """Whether a moto topic is a FIFO topic (moto keeps ``FifoTopic`` as given: a string from
    CreateTopic's attributes)."""
    return _true(getattr(topic, "fifo_topic", False))


def deduplication_id(topic: Any, message: str, explicit: str | None) -> str | None:
    """The id a FIFO topic deduplicates ``message`` by: the explicit one, else the SHA-256 of
    the body when the topic has ContentBasedDeduplication; None for a standard topic (or when
    there is neither, which Publish refuses before this is asked)."""
    if not is_fifo(topic):
        return explicit
    if explicit:
        return explicit
    if _true(getattr(topic, "content_based_deduplication", False)):
        return hashlib.sha256(message.encode()).hexdigest()
    return None


def _true(value: Any) -> bool:
    return str(value).lower() == "true"


def _by_group(topic: Any) -> bool:
    """Whether the topic deduplicates within each message group (FifoThroughputScope)."""
    for name in ("fifo_throughput_scope", "FifoThroughputScope"):
        value = getattr(topic, name, None)
        if value:
            return str(value) == "MessageGroup"
    return False


def first_copy(
    topic: Any, group_id: str | None, dedup_id: str | None, message_id: str
) -> str | None:
    """Admit a message published to a FIFO topic: None if it is to be delivered (its id is now
    remembered for five minutes), else the MessageId of the copy it duplicates. A standard
    topic, or a message without an id, is never a duplicate."""
    if not is_fifo(topic) or not dedup_id:
        return None
    key = (topic.arn, id(topic), group_id if _by_group(topic) else None, dedup_id)
    return LEDGER.admit(key, message_id)


@on_reset
def _clear() -> None:
    LEDGER.clear()
