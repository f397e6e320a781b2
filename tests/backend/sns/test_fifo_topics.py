"""SNS FIFO topics behave as AWS documents (``course.backend.sns.fifo_topics``, ``topic_dedup``).

moto 5.2 deduplicates nothing at a FIFO topic (a duplicate Publish fans out again; only a FIFO
queue still holding the first copy drops it), answers SQS's MissingParameter for a missing
MessageGroupId, and subscribes email, HTTP and Lambda endpoints to FIFO topics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend

from tests.backend.sns.helpers import topic_may_send
from tests.conftest import make_client

DEDUP = "https://docs.aws.amazon.com/sns/latest/dg/fifo-message-dedup.html"
PUBLISH = "https://docs.aws.amazon.com/sns/latest/api/API_Publish.html"
GROUPING = "https://docs.aws.amazon.com/sns/latest/dg/fifo-message-grouping.html"
DELIVERY = "https://docs.aws.amazon.com/sns/latest/dg/fifo-message-delivery.html"


@dataclass
class Fifo:
    """A backend with SNS and SQS clients, and helpers for FIFO topics and their queues."""

    backend: Backend
    sns: Any
    sqs: Any

    def topic(self, name: str = "orders.fifo", **attributes: str) -> str:
        attributes = {"FifoTopic": "true", **attributes}
        return self.sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]

    def queue(self, topic: str, name: str, fifo: bool = True, **extra: str) -> str:
        """A queue (FIFO unless told) that the topic may send to, subscribed to it; its URL."""
        attributes = {"FifoQueue": "true", **extra} if fifo else {}
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": topic_may_send(arn, topic)}
        )
        self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        return url

    def drain(self, url: str) -> list[dict[str, Any]]:
        """Every message in the queue, received (up to 10 at a time) and deleted, in order."""
        got: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        ).get("Messages", []):
            got.extend(batch)
            for message in batch:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return got


@pytest.fixture
def fifo(backend: Backend) -> Fifo:
    return Fifo(backend, make_client(backend, "sns"), make_client(backend, "sqs"))


def bodies(messages: list[dict[str, Any]]) -> list[str]:
    return [json.loads(m["Body"])["Message"] for m in messages]


def test_a_duplicate_within_five_minutes_is_accepted_and_not_delivered(fifo: Fifo) -> None:
    """DEDUP / Publish (PUBLISH), MessageDeduplicationId: "If a message with a particular
    MessageDeduplicationId is sent successfully, subsequent messages within the deduplication
    scope and interval, with the same MessageDeduplicationId, are accepted successfully but
    aren't delivered", within "the 5 minute minimum deduplication interval". The topic drops it
    itself: a queue subscribed after the first copy (so it never saw it) gets nothing until the
    five minutes are over (moto fanned the duplicate out again)."""
    topic = fifo.topic()
    first_queue = fifo.queue(topic, "first.fifo")
    first = fifo.sns.publish(
        TopicArn=topic, Message="order 1", MessageGroupId="g", MessageDeduplicationId="d1"
    )
    assert bodies(fifo.drain(first_queue)) == ["order 1"]
    late_queue = fifo.queue(topic, "late.fifo")
    fifo.backend.advance_clock(290)
    again = fifo.sns.publish(
        TopicArn=topic, Message="order 1 again", MessageGroupId="g", MessageDeduplicationId="d1"
    )
    assert again["MessageId"] == first["MessageId"]
    assert fifo.drain(late_queue) == [] and fifo.drain(first_queue) == []
    fifo.backend.advance_clock(11)  # 301 s after the first copy
    fifo.sns.publish(
        TopicArn=topic, Message="order 1 later", MessageGroupId="g", MessageDeduplicationId="d1"
    )
    assert bodies(fifo.drain(late_queue)) == ["order 1 later"]


def test_content_based_deduplication_hashes_the_body_only(fifo: Fifo) -> None:
    """Publish (PUBLISH): with ContentBasedDeduplication "Amazon SNS uses a SHA-256 hash to
    generate the MessageDeduplicationId using the body of the message (but not the attributes of
    the message)"; an explicit MessageDeduplicationId overrides it."""
    topic = fifo.topic(ContentBasedDeduplication="true")
    url = fifo.queue(topic, "prices.fifo")
    fifo.sns.publish(TopicArn=topic, Message="price 10", MessageGroupId="g")
    late = fifo.queue(topic, "late.fifo")
    attribute = {"kind": {"DataType": "String", "StringValue": "other"}}
    fifo.sns.publish(
        TopicArn=topic, Message="price 10", MessageGroupId="g", MessageAttributes=attribute
    )
    fifo.sns.publish(TopicArn=topic, Message="price 11", MessageGroupId="g")
    fifo.sns.publish(
        TopicArn=topic, Message="price 10", MessageGroupId="g", MessageDeduplicationId="own"
    )
    assert bodies(fifo.drain(url)) == ["price 10", "price 11", "price 10"]
    assert bodies(fifo.drain(late)) == ["price 11", "price 10"]


def test_message_group_scope_deduplicates_within_each_group(fifo: Fifo) -> None:
    """Publish (PUBLISH): "The scope of deduplication depends on the FifoThroughputScope
    attribute, when set to Topic the message deduplication scope is across the entire topic,
    when set to MessageGroup the message deduplication scope is within each individual message
    group". The queues deduplicate within each group too (SQS's DeduplicationScope), so what
    they hold is what each topic delivered."""
    by_topic = fifo.topic("whole.fifo")
    by_group = fifo.topic("groups.fifo", FifoThroughputScope="MessageGroup")
    shown = fifo.sns.get_topic_attributes(TopicArn=by_group)["Attributes"]
    assert shown["FifoThroughputScope"] == "MessageGroup"
    per_group = {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    whole = fifo.queue(by_topic, "whole.fifo", **per_group)
    groups = fifo.queue(by_group, "groups.fifo", **per_group)
    for topic in (by_topic, by_group):
        for group in ("a", "b", "a"):
            fifo.sns.publish(
                TopicArn=topic, Message=group, MessageGroupId=group, MessageDeduplicationId="x"
            )
    assert bodies(fifo.drain(whole)) == ["a"]
    assert bodies(fifo.drain(groups)) == ["a", "b"]


def test_group_order_and_ids_reach_fifo_queues_but_not_standard_ones(fifo: Fifo) -> None:
    """GROUPING: "The SNS FIFO topic passes the group ID to the subscribed Amazon SQS FIFO
    queues ... Message group ID is not passed to Amazon SQS standard queues"; messages of one
    group keep their order "throughout the workflow using Amazon SNS FIFO to Amazon SQS FIFO".
    The deduplication id the topic used is the queue's too."""
    topic = fifo.topic()
    fifo_url = fifo.queue(topic, "ordered.fifo")
    standard_url = fifo.queue(topic, "plain", fifo=False)
    sent = [("p1", "1"), ("p2", "1"), ("p1", "2"), ("p2", "2"), ("p1", "3")]
    for group, n in sent:
        fifo.sns.publish(
            TopicArn=topic,
            Message=f"{group}-{n}",
            MessageGroupId=group,
            MessageDeduplicationId=f"{group}-{n}",
        )
    got = fifo.drain(fifo_url)
    for group in ("p1", "p2"):
        mine = [m for m in got if m["Attributes"]["MessageGroupId"] == group]
        assert bodies(mine) == [f"{group}-{n}" for g, n in sent if g == group]
        numbers = [int(m["Attributes"]["SequenceNumber"]) for m in mine]
        assert numbers == sorted(numbers)
    assert all(
        m["Attributes"]["MessageDeduplicationId"] == json.loads(m["Body"])["Message"] for m in got
    )
    plain = fifo.drain(standard_url)
    assert sorted(bodies(plain)) == sorted(f"{g}-{n}" for g, n in sent)
    assert not any("MessageGroupId" in m["Attributes"] for m in plain)


def test_publish_to_a_fifo_topic_needs_a_group_and_a_deduplication_id(fifo: Fifo) -> None:
    """Publish (PUBLISH): MessageGroupId "is required for FIFO topics"; "If you don't provide a
    MessageDeduplicationId and the topic doesn't have ContentBasedDeduplication set, the action
    fails with an error" (both InvalidParameter; moto answered SQS's MissingParameter for the
    group). A standard topic refuses a MessageDeduplicationId."""
    topic = fifo.topic()
    with pytest.raises(ClientError) as no_group:
        fifo.sns.publish(TopicArn=topic, Message="m", MessageDeduplicationId="d")
    assert no_group.value.response["Error"]["Code"] == "InvalidParameter"
    assert "MessageGroupId" in no_group.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as no_id:
        fifo.sns.publish(TopicArn=topic, Message="m", MessageGroupId="g")
    assert no_id.value.response["Error"]["Code"] == "InvalidParameter"
    assert "ContentBasedDeduplication" in no_id.value.response["Error"]["Message"]
    standard = fifo.sns.create_topic(Name="standard")["TopicArn"]
    with pytest.raises(ClientError) as on_standard:
        fifo.sns.publish(TopicArn=standard, Message="m", MessageDeduplicationId="d")
    assert on_standard.value.response["Error"]["Code"] == "InvalidParameter"


@pytest.mark.parametrize(
    ("protocol", "endpoint"),
    [
        ("email", "learner@example.com"),
        ("http", "http://127.0.0.1:9/hook"),
        ("lambda", "arn:aws:lambda:us-east-1:123456789012:function:handler"),
    ],
)
def test_a_fifo_topic_takes_only_sqs_subscriptions(
    fifo: Fifo, protocol: str, endpoint: str
) -> None:
    """DELIVERY: FIFO topics deliver to Amazon SQS queues; AWS answers any other protocol with
    InvalidParameter "Invalid parameter: Invalid protocol type: <protocol>" (moto subscribed
    it)."""
    topic = fifo.topic()
    with pytest.raises(ClientError) as refused:
        fifo.sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint)
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameter"
    assert error["Message"] == f"Invalid parameter: Invalid protocol type: {protocol}"
    assert fifo.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_a_fifo_queue_cannot_subscribe_to_a_standard_topic(fifo: Fifo) -> None:
    """GROUPING / DELIVERY: a FIFO queue receives from FIFO topics; AWS refuses it on a standard
    topic with InvalidParameter (moto does too; pinned)."""
    standard = fifo.sns.create_topic(Name="standard")["TopicArn"]
    url = fifo.sqs.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = fifo.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    with pytest.raises(ClientError) as refused:
        fifo.sns.subscribe(TopicArn=standard, Protocol="sqs", Endpoint=arn)
    assert refused.value.response["Error"]["Code"] == "InvalidParameter"


def test_a_fifo_topic_answers_each_message_s_sequence_number(fifo: Fifo) -> None:
    """Publish (PUBLISH), SequenceNumber: "This response element applies only to FIFO
    (first-in-first-out) topics. The sequence number is a large, non-consecutive number that
    Amazon SNS assigns to each message"; PublishBatch's Successful entries carry it too
    (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatchResultEntry.html). A duplicate
    is answered as its first copy. A standard topic answers none (moto answered none at all)."""
    topic = fifo.topic()
    numbers = [
        int(
            fifo.sns.publish(
                TopicArn=topic, Message=str(n), MessageGroupId="g", MessageDeduplicationId=str(n)
            )["SequenceNumber"]
        )
        for n in range(3)
    ]
    assert numbers == sorted(set(numbers)) and numbers[0] >= 10**19
    again = fifo.sns.publish(
        TopicArn=topic, Message="0", MessageGroupId="g", MessageDeduplicationId="0"
    )
    assert int(again["SequenceNumber"]) == numbers[0]
    entries = [
        {"Id": f"e{n}", "Message": "m", "MessageGroupId": "g", "MessageDeduplicationId": f"b{n}"}
        for n in range(2)
    ]
    batch = fifo.sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    batch_numbers = [int(e["SequenceNumber"]) for e in batch["Successful"]]
    assert batch_numbers == sorted(batch_numbers) and batch_numbers[0] > numbers[-1]
    standard = fifo.sns.create_topic(Name="standard")["TopicArn"]
    assert "SequenceNumber" not in fifo.sns.publish(TopicArn=standard, Message="m")
