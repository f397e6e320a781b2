"""The SQS event a Lambda poller hands a function, and what the function's answer means.

Pure functions, no state: ``record`` turns one message of a ``ReceiveMessage`` response (boto3's
shape) into a record of the event Lambda passes (``Records[]``), and ``kept`` reads the
function's answer to say which messages of the batch stay on the queue.

The event's shape (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html): "messageId",
"receiptHandle", "body", "attributes" (ApproximateReceiveCount, SentTimestamp, SenderId,
ApproximateFirstReceiveTimestamp; a FIFO queue adds SequenceNumber, MessageGroupId and
MessageDeduplicationId), "messageAttributes" in Lambda's lower-case shape (``stringValue``,
``binaryValue`` base64-encoded, ``stringListValues``, ``binaryListValues``, ``dataType``),
"md5OfBody", "eventSource": "aws:sqs", "eventSourceARN" and "awsRegion".

Partial batch responses
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html): with
``ReportBatchItemFailures`` a function returns ``{"batchItemFailures": [{"itemIdentifier":
messageId}, ...]}``. "Lambda treats a batch as a complete success if your function returns any
of the following: An empty batchItemFailures list, A null batchItemFailures list, An empty
EventResponse, A null EventResponse"; "a complete failure if your function returns any of the
following: An invalid JSON response, An empty string itemIdentifier, A null itemIdentifier, An
itemIdentifier with a bad key name, An itemIdentifier value with a message ID that doesn't
exist"; and "If your function throws an exception, the entire batch is considered a complete
failure." An answer that is JSON but no object (a bare string, say) is none of the successes the
page lists, so it counts as a failure here. Without ``ReportBatchItemFailures`` Lambda ignores
what the function returns: only an error fails the batch.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

#: The system attributes Lambda's SQS event carries, when the queue has them.
EVENT_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


def _b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """One message attribute as Lambda's event spells it (lower-case keys, binary in base64)."""
    shaped: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [_b64(v) for v in value.get("BinaryListValues") or []],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = _b64(value["BinaryValue"])
    return shaped


def record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """The event record of one received message (``message`` as boto3's ReceiveMessage gives
    it, asked for all attributes and message attributes)."""
    attributes = message.get("Attributes") or {}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": {k: str(attributes[k]) for k in EVENT_ATTRIBUTES if k in attributes},
        "messageAttributes": {
            name: message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def kept(
    batch_ids: Iterable[str], payload: bytes, function_error: bool, report_failures: bool
) -> set[str]:
    """The message ids of the batch that stay on the queue (to come back after the visibility
    timeout): all of them when the invocation failed, those the function names in
    ``batchItemFailures`` when ``report_failures`` is on and its answer is valid, none when the
    batch succeeded. The others are deleted."""
    ids = set(batch_ids)
    if function_error:
        return ids
    if not report_failures:
        return set()
    failures = _reported(payload, ids)
    return ids if failures is None else failures


def _reported(payload: bytes, ids: set[str]) -> set[str] | None:
    """The ids a partial batch response names; None when it makes the batch a complete failure."""
    text = payload.decode("utf-8", "replace").strip()
    if not text:
        return set()  # a null EventResponse
    try:
        answer = json.loads(text)
    except ValueError:
        return None  # an invalid JSON response
    if answer is None:
        return set()
    if not isinstance(answer, dict):
        return None
    failures = answer.get("batchItemFailures")
    if failures is None:
        return set()  # an empty EventResponse, or a null batchItemFailures list
    if not isinstance(failures, list):
        return None
    named: set[str] = set()
    for failure in failures:
        if not isinstance(failure, dict):
            return None
        identifier = failure.get("itemIdentifier")
        if not isinstance(identifier, str) or not identifier or identifier not in ids:
            return None  # null, empty, a bad key name, or no message of the batch
        named.add(identifier)
    return named
