"""SQS limits as AWS documents them, where moto accepts what AWS refuses.

moto 5.2 takes any value for a queue attribute, and any attribute name, on CreateQueue and
SetQueueAttributes; measures a message in characters of its body only; accepts more than ten
message attributes; and garbles the text of the error for ``WaitTimeSeconds`` over 20. The labs
teach these limits, so the backend answers as SQS does (``docs/backend/sqs-limits.md`` lists
every correction with its source):

- queue attributes out of their documented range: ``InvalidAttributeValue``
  ("Invalid value for the parameter VisibilityTimeout."); unknown names: ``InvalidAttributeName``;
- ReceiveMessage ``WaitTimeSeconds`` outside 0-20, ``MaxNumberOfMessages`` outside 1-10,
  ``VisibilityTimeout`` outside 0-43200: ``InvalidParameterValue`` with AWS's wording;
- SendMessage: the size is the body plus every attribute's name, type and value, in UTF-8
  bytes, against the queue's ``MaximumMessageSize`` (at most 1 MiB); at most 10 attributes;
  ``DelaySeconds`` 0-900;
- SendMessageBatch: a batch over 1 MiB in all is ``BatchRequestTooLong``; an entry that breaks
  a per-message rule is reported in ``Failed`` and the other entries are sent, as AWS reports
  each entry of a batch on its own;
- ChangeMessageVisibility: a negative ``VisibilityTimeout`` (moto takes it) is
  ``InvalidParameterValue`` ("Values range: 0 to 43200", ChangeMessageVisibility in the Amazon
  SQS API Reference); moto refuses one over 43200 itself;
- TagQueue: moto refuses more than 50 tags in one call, but 50 tags per queue is AWS's
  recommendation, not a limit ("We don't recommend adding more than 50 tags to a queue",
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html):
  the tags are added.

Each rule is a small function that raises the exception of AWS's error code
(``course.backend.sqs.exceptions``); the hooks at the end let it answer the call, or, for an
entry of a batch, report it in ``Failed``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from course.backend.core.errors import ServiceError
from course.backend.core.moto_state import sqs
from course.backend.core.registry import ApiRequest, Reply, before, success
from course.backend.sqs.exceptions import (
    BatchRequestTooLong,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    MotoRefusal,
)
from course.backend.sqs.queues import queue_at_url

MAX_MESSAGE_BYTES = 1_048_576
MAX_MESSAGE_ATTRIBUTES = 10
#: AWS recommends at most this many tags per queue; moto refuses more in one TagQueue.
RECOMMENDED_TAGS = 50

#: Integer queue attributes and their valid ranges (CreateQueue / SetQueueAttributes reference).
QUEUE_ATTRIBUTE_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1_024, MAX_MESSAGE_BYTES),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
#: The other attributes a queue can be created or changed with (values left to moto).
OTHER_QUEUE_ATTRIBUTES = frozenset(
    {
        "Policy",
        "RedrivePolicy",
        "RedriveAllowPolicy",
        "KmsMasterKeyId",
        "SqsManagedSseEnabled",
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
    }
)
#: ReceiveMessage parameters, their ranges and AWS's reason text when a value is outside.
RECEIVE_PARAMETERS: dict[str, tuple[int, int, str]] = {
    "WaitTimeSeconds": (0, 20, "Must be >= 0 and <= 20, if provided."),
    "MaxNumberOfMessages": (1, 10, "Must be between 1 and 10, if provided."),
    "VisibilityTimeout": (0, 43_200, "Must be >= 0 and <= 43200, if provided."),
}
_INTEGER = re.compile(r"^-?\d+$")


# ---------------------------------------------------------------- rules


def check_queue_attributes(attributes: Mapping[str, Any]) -> None:
    """Raise for the first attribute SQS would refuse on CreateQueue or SetQueueAttributes."""
    for name, value in attributes.items():
        if name in QUEUE_ATTRIBUTE_RANGES:
            low, high = QUEUE_ATTRIBUTE_RANGES[name]
            text = str(value).strip()
            if not _INTEGER.match(text) or not low <= int(text) <= high:
                raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
        elif name not in OTHER_QUEUE_ATTRIBUTES:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")


def check_receive_parameters(params: Mapping[str, Any]) -> None:
    """Raise if WaitTimeSeconds, MaxNumberOfMessages or VisibilityTimeout is out of range."""
    for name, (low, high, reason) in RECEIVE_PARAMETERS.items():
        if name not in params:
            continue
        value = params[name]
        if not _INTEGER.match(str(value)) or not low <= int(value) <= high:
            raise InvalidParameterValue(
                f"Value {value} for parameter {name} is invalid. Reason: {reason}"
            )


def _attribute_value_bytes(value: Mapping[str, Any]) -> int:
    if "BinaryValue" in value and value["BinaryValue"] is not None:
        raw = value["BinaryValue"]
        if isinstance(raw, bytes):
            return len(raw)
        try:  # the JSON protocol carries binary values base64-encoded
            return len(base64.b64decode(str(raw), validate=True))
        except (binascii.Error, ValueError):
            return len(str(raw).encode())
    return len(str(value.get("StringValue") or "").encode())


def message_size(body: str, attributes: Mapping[str, Mapping[str, Any]] | None) -> int:
    """A message's size as SQS counts it: the body plus each attribute's name, type and value,
    in bytes."""
    size = len(body.encode("utf-8"))
    for name, value in (attributes or {}).items():
        size += len(name.encode()) + len(str(value.get("DataType", "")).encode())
        size += _attribute_value_bytes(value)
    return size


def check_message(
    body: str, attributes: Mapping[str, Any] | None, delay: Any, max_size: int
) -> None:
    """Raise if one message breaks SQS's per-message limits."""
    count = len(attributes or {})
    if count > MAX_MESSAGE_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{count}] exceeds the allowed maximum "
            f"[{MAX_MESSAGE_ATTRIBUTES}]."
        )
    if message_size(body, attributes) > max_size:
        raise InvalidParameterValue(
            "One or more parameters are invalid. Reason: Message must be shorter than "
            f"{max_size} bytes."
        )
    if delay is not None and (not _INTEGER.match(str(delay)) or not 0 <= int(delay) <= 900):
        raise InvalidParameterValue(
            f"Value {delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be "
            ">= 0 and <= 900."
        )


def check_batch_size(entries: list[Mapping[str, Any]]) -> None:
    """Raise if a SendMessageBatch carries more than 1 MiB in all."""
    total = sum(
        message_size(str(e.get("MessageBody", "")), e.get("MessageAttributes")) for e in entries
    )
    if total > MAX_MESSAGE_BYTES:
        raise BatchRequestTooLong(
            f"Batch requests cannot be longer than {MAX_MESSAGE_BYTES} bytes. "
            f"You have sent {total} bytes."
        )


# ---------------------------------------------------------------- moto's state


def _queue(request: ApiRequest) -> Any | None:
    """moto's queue the call names, or None (moto then answers QueueDoesNotExist)."""
    url = str(request.params.get("QueueUrl", ""))
    return queue_at_url(request.account_id, request.call.region, url)


def _check_entry(entry: Mapping[str, Any], queue: Any) -> None:
    """Raise if a SendMessage request, or one entry of a batch, breaks a per-message limit."""
    check_message(
        str(entry.get("MessageBody", "")),
        entry.get("MessageAttributes"),
        entry.get("DelaySeconds"),
        int(queue.maximum_message_size),
    )


# ---------------------------------------------------------------- hooks


@before("sqs", "CreateQueue")
@before("sqs", "SetQueueAttributes")
def validate_queue_attributes(request: ApiRequest) -> Reply | None:
    """Refuse a queue attribute SQS would refuse; moto answers the rest."""
    check_queue_attributes(request.params.get("Attributes") or {})
    return None


@before("sqs", "ReceiveMessage")
def validate_receive(request: ApiRequest) -> Reply | None:
    """Refuse WaitTimeSeconds, MaxNumberOfMessages or VisibilityTimeout out of range."""
    check_receive_parameters(request.params)
    return None


@before("sqs", "SendMessage")
def validate_send(request: ApiRequest) -> Reply | None:
    """Refuse a message that breaks a per-message limit of its queue; moto sends the rest."""
    queue = _queue(request)
    if queue is not None:
        _check_entry(request.params, queue)
    return None


@before("sqs", "SendMessageBatch")
def validate_send_batch(request: ApiRequest) -> Reply | None:
    """Refuse an oversized batch; report entries that break a rule in ``Failed``, send the rest."""
    queue = _queue(request)
    entries = request.params.get("Entries") or []
    if queue is None or not isinstance(entries, list) or not entries:
        return None
    check_batch_size(entries)
    failed: list[dict[str, Any]] = []
    valid: list[Mapping[str, Any]] = []
    for entry in entries:
        try:
            _check_entry(entry, queue)
            valid.append(entry)
        except ServiceError as exc:
            failed.append(
                {
                    "Id": entry.get("Id"),
                    "SenderFault": True,
                    "Code": exc.code,
                    "Message": exc.message,
                }
            )
    if not failed:
        return None  # every entry is fine: moto sends them
    return _send_some(request, queue, valid, failed)


@before("sqs", "ChangeMessageVisibility")
def validate_change_visibility(request: ApiRequest) -> Reply | None:
    """Refuse a negative VisibilityTimeout; moto answers the rest (and refuses over 43200)."""
    value = request.params.get("VisibilityTimeout")
    if value is not None and (not _INTEGER.match(str(value)) or int(value) < 0):
        reason = RECEIVE_PARAMETERS["VisibilityTimeout"][2]
        raise InvalidParameterValue(
            f"Value {value} for parameter VisibilityTimeout is invalid. Reason: {reason}"
        )
    return None


@before("sqs", "TagQueue")
def tag_queue(request: ApiRequest) -> Reply | None:
    """Add more than 50 tags, which AWS only recommends against; moto answers the rest."""
    queue = _queue(request)
    tags = request.params.get("Tags")
    if queue is None or not isinstance(tags, dict) or len(tags) <= RECOMMENDED_TAGS:
        return None
    queue.tags.update({str(k): str(v) for k, v in tags.items()})
    return success(request.call, {})


def _moto_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Message attributes as moto's models hold them (binary values decoded)."""
    converted: dict[str, Any] = {}
    for name, value in (attributes or {}).items():
        value = dict(value)
        if isinstance(value.get("BinaryValue"), str):
            value["BinaryValue"] = base64.b64decode(value["BinaryValue"])
        converted[name] = value
    return converted


def _send_some(
    request: ApiRequest,
    queue: Any,
    valid: list[Mapping[str, Any]],
    failed: list[dict[str, Any]],
) -> Reply:
    """Send the valid entries of a batch through moto's model and report every entry."""
    from moto.core.exceptions import ServiceException
    from moto.sqs.utils import validate_message_attributes

    backend = sqs(request.account_id, request.call.region)
    entries: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(valid):
        try:
            validate_message_attributes(entry.get("MessageAttributes") or {})
        except ServiceException as exc:
            failed.append(
                {
                    "Id": entry.get("Id"),
                    "SenderFault": True,
                    "Code": exc.code,
                    "Message": exc.message,
                }
            )
            continue
        entries[str(index)] = {
            **entry,
            "MessageAttributes": _moto_attributes(entry.get("MessageAttributes")),
            "DelaySeconds": entry.get("DelaySeconds"),
        }
    successful: list[dict[str, Any]] = []
    if entries:
        try:
            messages, moto_failed = backend.send_message_batch(queue.name, entries)
        except ServiceException as exc:
            raise MotoRefusal(exc.code, exc.message) from None
        failed.extend(moto_failed)
        for message in messages:
            sent: dict[str, Any] = {
                "Id": message.user_id,
                "MessageId": message.id,
                "MD5OfMessageBody": message.body_md5,
            }
            if message.message_attributes:
                sent["MD5OfMessageAttributes"] = message.attribute_md5
            if queue.fifo_queue and message.sequence_number:
                sent["SequenceNumber"] = message.sequence_number
            successful.append(sent)
    return success(request.call, {"Successful": successful, "Failed": failed})
