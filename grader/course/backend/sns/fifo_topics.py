"""SNS FIFO topics' rules at the API, as AWS answers them (the deduplication itself is
``course.backend.sns.topic_dedup``, applied by the fan-out in ``course.backend.sns.delivery``).

- ``Publish`` to a FIFO topic without ``MessageGroupId`` is ``InvalidParameter`` "Invalid
  parameter: The MessageGroupId parameter is required for FIFO topics" (moto answered SQS's
  ``MissingParameter``); without ``MessageDeduplicationId`` on a topic without
  ``ContentBasedDeduplication`` it is ``InvalidParameter`` ("the action fails with an error",
  Publish API reference).
- ``Publish`` and ``PublishBatch`` to a FIFO topic answer each message's ``SequenceNumber``
  ("This response element applies only to FIFO (first-in-first-out) topics. The sequence
  number is a large, non-consecutive number that Amazon SNS assigns to each message"); a
  duplicate gets the first copy's.
- ``Subscribe`` to a FIFO topic takes Amazon SQS queues only ("Invalid parameter: Invalid
  protocol type: <protocol>" for any other protocol; moto subscribed email, HTTP and Lambda
  endpoints and delivered to them). Standard queues are allowed, as AWS documents ("Message group
  ID is not passed to Amazon SQS standard queues", fifo-message-grouping.html); moto already
  refuses a FIFO queue on a standard topic.

https://docs.aws.amazon.com/sns/latest/dg/sns-fifo-topics.html
https://docs.aws.amazon.com/sns/latest/dg/fifo-message-delivery.html
https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
"""

from __future__ import annotations

from typing import Any

from course.backend.core.registry import ApiRequest, Reply, after, before, success
from course.backend.sns import subscriptions as sns_subscriptions
from course.backend.sns import topic_dedup
from course.backend.sns.exceptions import InvalidParameter

GROUP_REQUIRED = "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
DEDUP_REQUIRED = (
    "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
    "MessageDeduplicationId provided explicitly"
)
FIFO_PROTOCOLS = ("sqs",)


def _fifo_topic(arn: object) -> object | None:
    topic = sns_subscriptions.moto_topic(str(arn or ""))
    return topic if topic is not None and topic_dedup.is_fifo(topic) else None


@before("sns", "Publish")
def check_fifo_publish(request: ApiRequest) -> Reply | None:
    """A FIFO topic needs a MessageGroupId, and a deduplication id unless it has content-based
    deduplication."""
    topic = _fifo_topic(request.params.get("TopicArn") or request.params.get("TargetArn"))
    if topic is None:
        return None
    if not request.params.get("MessageGroupId"):
        raise InvalidParameter(GROUP_REQUIRED)
    explicit = request.params.get("MessageDeduplicationId")
    if topic_dedup.deduplication_id(topic, "", explicit) is None:
        raise InvalidParameter(DEDUP_REQUIRED)
    return None


@before("sns", "Subscribe")
def check_fifo_protocol(request: ApiRequest) -> Reply | None:
    """A FIFO topic delivers to SQS queues only."""
    if _fifo_topic(request.params.get("TopicArn")) is None:
        return None
    protocol = str(request.params.get("Protocol", ""))
    if protocol.lower() not in FIFO_PROTOCOLS:
        raise InvalidParameter(f"Invalid parameter: Invalid protocol type: {protocol}")
    return None


@after("sns", "Publish")
def add_sequence_number(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply | None:
    """A message a FIFO topic accepted is answered with its SequenceNumber."""
    if reply.status >= 400 or _fifo_topic(request.params.get("TopicArn")) is None:
        return None
    number = topic_dedup.LEDGER.sequence_number(str(parsed.get("MessageId", "")))
    if number is None:
        return None
    return success(request.call, {**parsed, "SequenceNumber": number})


@after("sns", "PublishBatch")
def add_sequence_numbers(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply | None:
    """Each successful entry of a FIFO topic's batch is answered with its SequenceNumber."""
    if reply.status >= 400 or _fifo_topic(request.params.get("TopicArn")) is None:
        return None
    entries = parsed.get("Successful", [])
    for entry in entries:
        if number := topic_dedup.LEDGER.sequence_number(str(entry.get("MessageId", ""))):
            entry["SequenceNumber"] = number
    return success(request.call, parsed) if entries else None
