"""SQS reading helpers shared by the SQS labs' checks.

They read the flow the way a student may have written the code: single calls or batches,
client or resource API, any helper functions — the server saw the same requests either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from course.checks.api import NotAttempted
from course.flow import ApiCall, Flow


@dataclass(frozen=True)
class Sent:
    """A message SQS accepted."""

    message_id: str
    body: str
    call: ApiCall
    group_id: str | None = None
    dedup_id: str | None = None
    sequence_number: str | None = None


@dataclass(frozen=True)
class Received:
    """A message as one ReceiveMessage response delivered it."""

    message_id: str
    body: str
    receipt_handle: str
    call: ApiCall
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def receive_count(self) -> int | None:
        value = self.attributes.get("ApproximateReceiveCount")
        return int(value) if value is not None else None


@dataclass(frozen=True)
class Deleted:
    """One deletion attempt, by receipt handle."""

    receipt_handle: str
    ok: bool
    call: ApiCall
    error: str = ""


def sends(flow: Flow, queue: str) -> list[Sent]:
    """Every message SQS accepted into ``queue``, from SendMessage and SendMessageBatch."""
    found: list[Sent] = []
    for call in flow.calls_to("sqs", "SendMessage", "SendMessageBatch", queue=queue, ok=True):
        if call.action == "SendMessage":
            entries = [(call.request, call.response)]
        else:
            by_id = {e.get("Id"): e for e in call.request.get("Entries", [])}
            entries = [(by_id.get(r.get("Id"), {}), r) for r in call.response.get("Successful", [])]
        for request, response in entries:
            found.append(
                Sent(
                    message_id=response.get("MessageId", ""),
                    body=request.get("MessageBody", ""),
                    call=call,
                    group_id=request.get("MessageGroupId"),
                    dedup_id=request.get("MessageDeduplicationId"),
                    sequence_number=response.get("SequenceNumber"),
                )
            )
    return found


def receives(flow: Flow, queue: str) -> list[Received]:
    """Every message delivered by a ReceiveMessage on ``queue``, in order."""
    found = []
    for call in flow.calls_to("sqs", "ReceiveMessage", queue=queue, ok=True):
        for message in call.response.get("Messages", []):
            found.append(
                Received(
                    message_id=message.get("MessageId", ""),
                    body=message.get("Body", ""),
                    receipt_handle=message.get("ReceiptHandle", ""),
                    call=call,
                    attributes=message.get("Attributes", {}),
                )
            )
    return found


def deletes(flow: Flow, queue: str) -> list[Deleted]:
    """Every DeleteMessage attempt on ``queue`` (batch entries one by one), with its outcome."""
    found = []
    for call in flow.calls_to("sqs", "DeleteMessage", "DeleteMessageBatch", queue=queue):
        if call.action == "DeleteMessage":
            found.append(
                Deleted(call.request.get("ReceiptHandle", ""), call.ok, call, call.error_code)
            )
            continue
        entries = {e.get("Id"): e.get("ReceiptHandle", "") for e in call.request.get("Entries", [])}
        for ok_entry in call.response.get("Successful", []):
            found.append(Deleted(entries.get(ok_entry.get("Id"), ""), True, call))
        for bad in call.response.get("Failed", []):
            found.append(Deleted(entries.get(bad.get("Id"), ""), False, call, bad.get("Code", "")))
        if not call.ok:
            found.extend(Deleted(h, False, call, call.error_code) for h in entries.values())
    return found


def queue_url(aws: Any, name: str) -> str:
    """The URL of queue ``name``; "not attempted" if it does not exist."""
    sqs = aws.client("sqs")
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        raise NotAttempted(f"there is no queue named {name}") from None


def queue_attributes(aws: Any, name: str) -> dict[str, str]:
    """All attributes of queue ``name``; "not attempted" if it does not exist."""
    url = queue_url(aws, name)
    return aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]
