"""FIFO queues behave as AWS documents (``backend/ext/sqs_fifo.py``).

moto 5.2 deduplicates only against messages still stored, hands out random sequence numbers (none
under content-based deduplication) and accepts a ``.fifo`` name for a standard queue. Each test
cites the AWS text it pins.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend

FIFO_KEY_TERMS = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-key-terms.html"
)
SEND_MESSAGE = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html"
)


def fifo_queue(sqs: Any, name: str = "orders.fifo", **attributes: str) -> str:
    defaults = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    return sqs.create_queue(QueueName=name, Attributes={**defaults, **attributes})["QueueUrl"]


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Receive and delete until the queue is empty; the messages in the order received."""
    got: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not batch:
            return got
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        got.extend(batch)


def test_a_duplicate_is_dropped_even_after_the_first_copy_was_deleted(
    sqs: Any, backend: Backend
) -> None:
    """FIFO key terms (FIFO_KEY_TERMS): "If multiple messages with the same deduplication ID are
    sent within a 5 minute deduplication interval, they are treated as duplicates, and only one
    copy is delivered." and "Amazon SQS continues tracking the deduplication ID even after the
    message has been received and deleted." SendMessage (SEND_MESSAGE): duplicates "are accepted
    successfully but aren't delivered"."""
    url = fifo_queue(sqs)
    first = sqs.send_message(QueueUrl=url, MessageBody='{"order": 1}', MessageGroupId="A")
    assert [m["Body"] for m in drain(sqs, url)] == ['{"order": 1}']
    backend.advance_clock(299)
    again = sqs.send_message(QueueUrl=url, MessageBody='{"order": 1}', MessageGroupId="A")
    assert drain(sqs, url) == []
    # the duplicate's reply names the first copy, as AWS does
    assert again["MessageId"] == first["MessageId"]
    assert again["SequenceNumber"] == first["SequenceNumber"]


def test_after_five_minutes_the_same_content_is_a_new_message(sqs: Any, backend: Backend) -> None:
    """SendMessage, MessageDeduplicationId: "If a message is sent successfully but the
    acknowledgement is lost and the message is resent with the same MessageDeduplicationId after
    the deduplication interval, Amazon SQS can't detect duplicate messages." """
    url = fifo_queue(sqs)
    first = sqs.send_message(QueueUrl=url, MessageBody="late", MessageGroupId="A")
    drain(sqs, url)
    backend.advance_clock(301)
    again = sqs.send_message(QueueUrl=url, MessageBody="late", MessageGroupId="A")
    assert again["MessageId"] != first["MessageId"]
    assert [m["Body"] for m in drain(sqs, url)] == ["late"]


def test_each_deduplication_id_has_its_own_interval(sqs: Any, backend: Backend) -> None:
    """FIFO key terms (FIFO_KEY_TERMS): messages with the same deduplication ID "sent within a 5
    minute deduplication interval" are duplicates. Each ID's interval runs from its own first
    send: once an older ID's interval is over it is new again, while a younger ID's still holds
    (the backend forgets expired IDs as it goes; this pins that it forgets only those)."""
    url = fifo_queue(sqs, ContentBasedDeduplication="false")

    def send(body: str, dedup_id: str) -> str:
        reply = sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageGroupId="A", MessageDeduplicationId=dedup_id
        )
        return reply["MessageId"]

    old = send("old", "d-old")
    backend.advance_clock(200)
    recent = send("recent", "d-recent")
    backend.advance_clock(101)  # d-old's interval is over, d-recent's is not
    send("other", "d-other")
    assert send("recent again", "d-recent") == recent
    assert send("old again", "d-old") != old
    assert [m["Body"] for m in drain(sqs, url)] == ["old", "recent", "other", "old again"]


def test_explicit_ids_deduplicate_and_override_content(sqs: Any) -> None:
    """SendMessage, MessageDeduplicationId: "If the queue has ContentBasedDeduplication set, your
    MessageDeduplicationId overrides the generated one." and "If you send one message with
    ContentBasedDeduplication enabled and then another message with a MessageDeduplicationId that
    is the same as the one generated for the first MessageDeduplicationId, the two messages are
    treated as duplicates and only one copy of the message is delivered." """
    url = fifo_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="A", MessageDeduplicationId="k1")
    sqs.send_message(QueueUrl=url, MessageBody="y", MessageGroupId="A", MessageDeduplicationId="k1")
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="A", MessageDeduplicationId="k2")
    sqs.send_message(QueueUrl=url, MessageBody="z", MessageGroupId="A")
    generated = hashlib.sha256(b"z").hexdigest()
    sqs.send_message(
        QueueUrl=url, MessageBody="other", MessageGroupId="A", MessageDeduplicationId=generated
    )
    assert [m["Body"] for m in drain(sqs, url)] == ["x", "x", "z"]


def test_deduplication_in_batches(sqs: Any) -> None:
    """SendMessageBatch entries follow the same rule: one copy per deduplication id."""
    url = fifo_queue(sqs, ContentBasedDeduplication="false")
    entries = [
        {"Id": "a", "MessageBody": "1", "MessageGroupId": "A", "MessageDeduplicationId": "d1"},
        {
            "Id": "b",
            "MessageBody": "1 again",
            "MessageGroupId": "A",
            "MessageDeduplicationId": "d1",
        },
        {"Id": "c", "MessageBody": "2", "MessageGroupId": "A", "MessageDeduplicationId": "d2"},
    ]
    sent = sqs.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]
    ids = {s["Id"]: s["MessageId"] for s in sent}
    assert ids["a"] == ids["b"] != ids["c"]
    assert [m["Body"] for m in drain(sqs, url)] == ["1", "2"]


def test_message_group_scope_deduplicates_within_a_group_only(sqs: Any) -> None:
    """CreateQueue, DeduplicationScope: "Specifies whether message deduplication occurs at the
    message group or queue level." """
    url = fifo_queue(
        sqs, DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId"
    )
    for group in ("A", "B", "A"):
        sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId=group)
    got = drain(sqs, url)
    assert sorted(m["Attributes"]["MessageGroupId"] for m in got) == ["A", "B"]


def test_sequence_numbers_increase_within_each_group(sqs: Any) -> None:
    """SendMessage, SequenceNumber (SEND_MESSAGE): "The large, non-consecutive number that Amazon
    SQS assigns to each message. [...] SequenceNumber continues to increase for a particular
    MessageGroupId." Also under content-based deduplication, and in batches."""
    url = fifo_queue(sqs)
    numbers: dict[str, list[int]] = {"A": [], "B": []}
    for i in range(4):
        for group in ("A", "B"):
            reply = sqs.send_message(QueueUrl=url, MessageBody=f"{group}{i}", MessageGroupId=group)
            numbers[group].append(int(reply["SequenceNumber"]))
    batch = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": f"e{i}", "MessageBody": f"A-batch-{i}", "MessageGroupId": "A"} for i in range(3)
        ],
    )["Successful"]
    numbers["A"].extend(int(entry["SequenceNumber"]) for entry in batch)
    for series in numbers.values():
        assert series == sorted(series) and len(set(series)) == len(series)
        assert all(len(str(n)) == 20 for n in series)
        assert any(b - a > 1 for a, b in itertools.pairwise(series))  # non-consecutive
    received = drain(sqs, url)
    by_body = {m["Body"]: int(m["Attributes"]["SequenceNumber"]) for m in received}
    assert by_body["A0"] == numbers["A"][0] and by_body["B3"] == numbers["B"][3]


def test_a_group_is_blocked_while_its_message_is_in_flight(sqs: Any, backend: Backend) -> None:
    """FIFO delivery logic (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/
    SQSDeveloperGuide/FIFO-queues-understanding-logic.html): "you can't receive additional
    messages from the same message group ID unless" the received messages "are deleted, or they
    become visible again". Receiving does not delete (pinned; moto already agrees)."""
    url = fifo_queue(sqs, VisibilityTimeout="30")
    for body, group in (("A1", "A"), ("A2", "A"), ("B1", "B")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    first = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"][0]
    assert first["Body"] == "A1"
    second = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    assert [m["Body"] for m in second["Messages"]] == ["B1"]  # not A2: group A is blocked
    backend.advance_clock(31)
    third = sqs.receive_message(
        QueueUrl=url, WaitTimeSeconds=0, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    )["Messages"][0]
    assert (third["Body"], third["Attributes"]["ApproximateReceiveCount"]) == ("A1", "2")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"])
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"][0]["Body"] == "A2"


def test_a_group_comes_back_in_order_after_its_visibility_timeout(
    sqs: Any, backend: Backend
) -> None:
    """FIFO delivery logic (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/
    SQSDeveloperGuide/FIFO-queues-understanding-logic.html): within a message group "all
    messages are sent and received in strict order", and "Messages retrieved in batches retain
    their FIFO order within the group." moto handed back the group's last message first."""
    url = fifo_queue(sqs, VisibilityTimeout="30")
    for n in range(1, 4):
        sqs.send_message(QueueUrl=url, MessageBody=f"A{n}", MessageGroupId="A")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    assert [m["Body"] for m in first["Messages"]] == ["A1", "A2", "A3"]
    backend.advance_clock(31)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=0)
    assert [m["Body"] for m in again["Messages"]] == ["A1"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["Messages"][0]["ReceiptHandle"])
    assert [m["Body"] for m in drain(sqs, url)] == ["A2", "A3"]


def test_message_group_id_is_required(sqs: Any) -> None:
    """SendMessage, MessageGroupId: "If you do not provide a MessageGroupId when sending a
    message to a FIFO queue, the action fails." (pinned; moto already agrees)"""
    url = fifo_queue(sqs)
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="no group")
    assert raised.value.response["Error"]["Code"] == "MissingParameter"
    assert "MessageGroupId" in raised.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("name", "attributes", "message"),
    [
        ("orders", {"FifoQueue": "true"}, "must end with .fifo suffix"),
        ("orders.fifo", {}, "Can only include alphanumeric characters"),
        ("orders.fifo", {"FifoQueue": "false"}, "Can only include alphanumeric characters"),
    ],
)
def test_fifo_names_and_the_fifo_attribute_go_together(
    sqs: Any, name: str, attributes: dict[str, str], message: str
) -> None:
    """CreateQueue, QueueName (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/
    APIReference/API_CreateQueue.html): "Valid values: alphanumeric characters, hyphens (-), and
    underscores (_). A FIFO queue name must end with the .fifo suffix." A standard queue cannot
    be named ``*.fifo`` (moto made one)."""
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName=name, Attributes=attributes)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert message in raised.value.response["Error"]["Message"]
    assert sqs.list_queues().get("QueueUrls", []) == []


def test_a_message_moved_to_a_fifo_dlq_takes_its_id_as_deduplication_id(sqs: Any) -> None:
    """Developer Guide, dead-letter queue redrive: "When a message is moved from a FIFO queue to
    a FIFO DLQ, the original message's deduplication ID will be replaced with the original
    message's ID. This is to make sure that the DLQ deduplication will not prevent storing of two
    independent messages that happen to share a deduplication ID." (moto drops the second.)"""
    dlq = fifo_queue(sqs, "jobs-dlq.fifo")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})
    sent = set()
    for name in ("jobs-a.fifo", "jobs-b.fifo"):  # two sources, the same body: one dedup id
        url = fifo_queue(sqs, name, RedrivePolicy=policy)
        sent.add(sqs.send_message(QueueUrl=url, MessageBody="job", MessageGroupId="g")["MessageId"])
        sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, WaitTimeSeconds=0)
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)  # the second receive moves it
    got = drain(sqs, dlq)
    assert {m["MessageId"] for m in got} == sent and len(sent) == 2
    assert all(m["Attributes"]["MessageDeduplicationId"] == m["MessageId"] for m in got)
