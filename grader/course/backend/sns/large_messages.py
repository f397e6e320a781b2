"""SNS topics' ``MaximumMessageSize``: payloads up to 1 MiB on a topic that allows them.

moto 5.2 ignores the attribute: it refuses every message over 262,144 characters (not bytes,
and without the attributes) and stores any value without checking it. As AWS documents it
("Publishing large messages with Amazon SNS", large-message-payloads.html, and the
``CreateTopic`` / ``SetTopicAttributes`` / ``GetTopicAttributes`` / ``Publish`` /
``PublishBatch`` API reference):

- "You can set the ``MaximumMessageSize`` topic attribute to any integer value between 1,024
  and 1,048,576 bytes. By default, all existing and newly created topics have a
  ``MaximumMessageSize`` of 262,144 bytes (256 KiB)." Another value is ``InvalidParameter``.
- "Amazon SNS validates the combined size of the message body and message attributes against
  the topic's configured ``MaximumMessageSize``. If the combined size exceeds the limit, Amazon
  SNS returns an ``InvalidParameter`` error on publish." ("All parts of the message attribute,
  including name, type, and value, are included in the message size restriction".)
- PublishBatch: "The combined size of all messages in the batch, including each message's body
  and attributes, must not exceed the topic's ``MaximumMessageSize``" (``BatchRequestTooLong``,
  "The length of all the batch messages put together is more than the limit").
- "A topic with a ``MaximumMessageSize`` above 256 KiB must have 100 or fewer subscriptions,
  and each subscription must be an Amazon SQS, Amazon Data Firehose, or Lambda subscription. If
  the topic doesn't meet these requirements when you set a value above 256 KiB, Amazon SNS
  returns an ``InvalidParameter`` error." A Subscribe that would break them (a 101st
  subscription: "If you attempt to create additional subscriptions, Amazon SNS returns an
  ``InvalidParameter`` error"; an email or HTTP endpoint) gets the same error.
- GetTopicAttributes: "Amazon SNS returns this attribute only if you explicitly set it."

https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html
https://docs.aws.amazon.com/sns/latest/api/API_SetTopicAttributes.html
https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import moto.sns.models as moto_sns

from course.backend.core.registry import ApiRequest, Reply, after, before, success
from course.backend.sns import subscriptions as sns_subscriptions
from course.backend.sns.exceptions import BatchRequestTooLong, InvalidParameter

DEFAULT_SIZE = 262_144  # 256 KiB
MIN_SIZE = 1_024
MAX_SIZE = 1_048_576  # 1 MiB
MAX_LARGE_SUBSCRIPTIONS = 100
LARGE_PROTOCOLS = ("sqs", "lambda", "firehose")
ATTRIBUTE = "MaximumMessageSize"
_INTEGER = re.compile(r"^[0-9]+$")

# moto refuses more than 256 KiB characters before the kit's hooks can judge the topic's own
# limit; the kit's ``Publish`` hook below enforces the limit each topic has, so moto's is the
# largest any topic may have.
moto_sns.MAXIMUM_MESSAGE_LENGTH = MAX_SIZE


def topic_limit(topic: Any) -> int:
    """The topic's ``MaximumMessageSize`` in bytes (256 KiB when it was never set)."""
    value = getattr(topic, "maximum_message_size", None)
    return int(value) if value is not None and _INTEGER.match(str(value)) else DEFAULT_SIZE


def message_size(message: str, attributes: Mapping[str, Mapping[str, Any]] | None) -> int:
    """The size SNS checks: the body and each attribute's name, type and value, in bytes."""
    size = len(message.encode("utf-8"))
    for name, value in (attributes or {}).items():
        data = value.get("StringValue")
        if data is None:
            data = value.get("BinaryValue", "")
        raw = data if isinstance(data, bytes) else str(data).encode("utf-8")
        size += len(name.encode()) + len(str(value.get("DataType", "")).encode()) + len(raw)
    return size


def _valid_size(value: Any) -> int:
    """The attribute's value as an integer, or ``InvalidParameter`` as AWS answers it."""
    text = str(value)
    if not _INTEGER.match(text) or not MIN_SIZE <= int(text) <= MAX_SIZE:
        raise InvalidParameter(
            f"Invalid parameter: Attributes Reason: {ATTRIBUTE} must be an integer between "
            f"{MIN_SIZE} and {MAX_SIZE}"
        )
    return int(text)


def _topic(arn: str | None) -> Any | None:
    return sns_subscriptions.moto_topic(arn) if arn else None


@before("sns", "CreateTopic")
def check_create(request: ApiRequest) -> Reply | None:
    """A new topic's ``MaximumMessageSize`` must be an integer from 1,024 to 1,048,576."""
    attributes = request.params.get("Attributes") or {}
    if ATTRIBUTE in attributes:
        _valid_size(attributes[ATTRIBUTE])
    return None


@before("sns", "SetTopicAttributes")
def check_set(request: ApiRequest) -> Reply | None:
    """A value in range; above 256 KiB only on a topic with at most 100 subscriptions, each to
    SQS, Lambda or Firehose."""
    if request.params.get("AttributeName") != ATTRIBUTE:
        return None
    size = _valid_size(request.params.get("AttributeValue", ""))
    topic = _topic(request.params.get("TopicArn"))
    if topic is None or size <= DEFAULT_SIZE:
        return None
    subscriptions = sns_subscriptions.of_topic(topic)
    if len(subscriptions) > MAX_LARGE_SUBSCRIPTIONS:
        raise InvalidParameter(
            f"Invalid parameter: {ATTRIBUTE} Reason: a topic with a {ATTRIBUTE} above "
            f"{DEFAULT_SIZE} bytes can have at most {MAX_LARGE_SUBSCRIPTIONS} subscriptions"
        )
    others = sorted({s.protocol for s in subscriptions if s.protocol not in LARGE_PROTOCOLS})
    if others:
        raise InvalidParameter(
            f"Invalid parameter: {ATTRIBUTE} Reason: a topic with a {ATTRIBUTE} above "
            f"{DEFAULT_SIZE} bytes supports only sqs, lambda and firehose subscriptions; "
            f"it has {', '.join(others)}"
        )
    return None


@before("sns", "Subscribe")
def check_subscribe(request: ApiRequest) -> Reply | None:
    """A topic above 256 KiB takes only SQS, Lambda and Firehose subscriptions, at most 100."""
    topic = _topic(request.params.get("TopicArn"))
    if topic is None or topic_limit(topic) <= DEFAULT_SIZE:
        return None
    protocol = str(request.params.get("Protocol", "")).lower()
    if protocol not in LARGE_PROTOCOLS:
        raise InvalidParameter(
            f"Invalid parameter: Protocol Reason: a topic with a {ATTRIBUTE} above "
            f"{DEFAULT_SIZE} bytes supports only sqs, lambda and firehose subscriptions"
        )
    subscriptions = sns_subscriptions.of_topic(topic)
    endpoint = request.params.get("Endpoint")
    existing = any(s.endpoint == endpoint and s.protocol == protocol for s in subscriptions)
    if not existing and len(subscriptions) >= MAX_LARGE_SUBSCRIPTIONS:
        raise InvalidParameter(
            f"Invalid parameter: TopicArn Reason: a topic with a {ATTRIBUTE} above "
            f"{DEFAULT_SIZE} bytes can have at most {MAX_LARGE_SUBSCRIPTIONS} subscriptions"
        )
    return None


@before("sns", "Publish")
def check_publish(request: ApiRequest) -> Reply | None:
    """A message whose body and attributes exceed the topic's limit is ``InvalidParameter``."""
    params = request.params
    topic = _topic(params.get("TopicArn") or params.get("TargetArn"))
    if topic is None:
        return None
    size = message_size(str(params.get("Message", "")), params.get("MessageAttributes"))
    if size > topic_limit(topic):
        raise InvalidParameter("Invalid parameter: Message too long")
    return None


@before("sns", "PublishBatch")
def check_publish_batch(request: ApiRequest) -> Reply | None:
    """A batch whose messages together exceed the topic's limit is ``BatchRequestTooLong``."""
    topic = _topic(request.params.get("TopicArn"))
    if topic is None:
        return None
    entries = request.params.get("PublishBatchRequestEntries") or []
    total = sum(
        message_size(str(e.get("Message", "")), e.get("MessageAttributes")) for e in entries
    )
    if total > topic_limit(topic):
        raise BatchRequestTooLong(
            "The length of all the batch messages put together is more than the limit."
        )
    return None


@after("sns", "GetTopicAttributes")
def report_size(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply | None:
    """``MaximumMessageSize`` among the attributes once it has been set, as AWS returns it."""
    topic = _topic(request.params.get("TopicArn"))
    if reply.status >= 400 or topic is None:
        return None
    if getattr(topic, "maximum_message_size", None) is None:
        return None
    attributes = dict(parsed.get("Attributes", {}))
    attributes[ATTRIBUTE] = str(topic_limit(topic))
    return success(request.call, {"Attributes": attributes})
