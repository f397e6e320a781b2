"""SNS topics accept up to 1 MiB when ``MaximumMessageSize`` allows it, as AWS documents.

moto 5.2 ignores the attribute and refuses every message over 262,144 characters. AWS's pages:

- LARGE, https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html: "Amazon SNS
  supports message payloads up to 1 MiB (1,048,576 bytes) when you configure the
  MaximumMessageSize topic attribute. By default, topics accept messages up to 256 KiB. Topics
  with MaximumMessageSize set above 256 KiB support Amazon Data Firehose, Amazon SQS, and AWS
  Lambda subscriptions, with up to 100 total subscriptions per topic." "You can set the
  MaximumMessageSize topic attribute to any integer value between 1,024 and 1,048,576 bytes."
  "Amazon SNS validates the combined size of the message body and message attributes against
  the topic's configured MaximumMessageSize. If the combined size exceeds the limit, Amazon SNS
  returns an InvalidParameter error on publish." "The topic supports up to 100 total
  subscriptions. If you attempt to create additional subscriptions, Amazon SNS returns an
  InvalidParameter error."
- SET, https://docs.aws.amazon.com/sns/latest/api/API_SetTopicAttributes.html: "A topic with a
  MaximumMessageSize above 256 KiB must have 100 or fewer subscriptions, and each subscription
  must be an Amazon SQS, Amazon Data Firehose, or Lambda subscription. If the topic doesn't meet
  these requirements when you set a value above 256 KiB, Amazon SNS returns an InvalidParameter
  error."
- GET, https://docs.aws.amazon.com/sns/latest/api/API_GetTopicAttributes.html: "Amazon SNS
  returns this attribute only if you explicitly set it. If Amazon SNS doesn't return it, the
  topic uses the default of 262144 (256 KiB)."
- BATCH, https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html: "The combined size of
  all messages in the batch, including each message's body and attributes, must not exceed the
  topic's MaximumMessageSize." (BatchRequestTooLong: "The length of all the batch messages put
  together is more than the limit.")
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend

from tests.backend.sns.helpers import topic_may_send
from tests.conftest import make_client

KIB = 1024
MIB = 1024 * KIB


class World:
    """A topic and a queue subscribed to it, with the queue policy that lets the topic in."""

    def __init__(self, backend: Backend, **attributes: str) -> None:
        self.sns = make_client(backend, "sns")
        self.sqs = make_client(backend, "sqs")
        self.topic = self.sns.create_topic(Name="big-topic", Attributes=attributes)["TopicArn"]
        self.queue = self.sqs.create_queue(
            QueueName="big-queue", Attributes={"MaximumMessageSize": str(MIB)}
        )["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])
        self.queue_arn = arn["Attributes"]["QueueArn"]
        self.sqs.set_queue_attributes(
            QueueUrl=self.queue, Attributes={"Policy": topic_may_send(self.queue_arn, self.topic)}
        )
        self.sns.subscribe(
            TopicArn=self.topic,
            Protocol="sqs",
            Endpoint=self.queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )

    def set_size(self, value: Any) -> None:
        self.sns.set_topic_attributes(
            TopicArn=self.topic, AttributeName="MaximumMessageSize", AttributeValue=str(value)
        )

    def attributes(self) -> dict[str, str]:
        return self.sns.get_topic_attributes(TopicArn=self.topic)["Attributes"]

    def received(self) -> list[str]:
        found = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10)
        return [m["Body"] for m in found.get("Messages", [])]


def _code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def test_a_topic_takes_256_kib_by_default_and_does_not_report_the_attribute(
    backend: Backend,
) -> None:
    """GET: the attribute is absent until set, the default is 262,144 bytes; LARGE: a message
    over it is InvalidParameter. Bytes count, not characters (moto counted characters)."""
    world = World(backend)
    assert "MaximumMessageSize" not in world.attributes()
    world.sns.publish(TopicArn=world.topic, Message="x" * (256 * KIB))
    assert [len(b) for b in world.received()] == [256 * KIB]
    with pytest.raises(ClientError) as raised:
        world.sns.publish(TopicArn=world.topic, Message="é" * (128 * KIB + 1))  # 2 bytes each
    assert _code(raised) == "InvalidParameter"
    assert "Message too long" in raised.value.response["Error"]["Message"]


def test_a_topic_raised_to_1_mib_delivers_1_mib(backend: Backend) -> None:
    """LARGE: with MaximumMessageSize 1,048,576 a 1 MiB message is published and delivered to
    the SQS subscription; one byte more is InvalidParameter. SET raises it on a topic whose only
    subscription is a queue; GET then reports it."""
    world = World(backend)
    world.set_size(MIB)
    assert world.attributes()["MaximumMessageSize"] == str(MIB)
    world.sns.publish(TopicArn=world.topic, Message="x" * MIB)
    assert [len(b) for b in world.received()] == [MIB]
    with pytest.raises(ClientError) as raised:
        world.sns.publish(TopicArn=world.topic, Message="x" * (MIB + 1))
    assert _code(raised) == "InvalidParameter"


def test_message_attributes_count_towards_the_limit(backend: Backend) -> None:
    """LARGE: "the combined size of the message body and message attributes" is checked: a body
    that fits alone is refused once an attribute's name, type and value push it over."""
    world = World(backend, MaximumMessageSize="2048")
    world.sns.publish(TopicArn=world.topic, Message="x" * 2048)
    with pytest.raises(ClientError) as raised:
        world.sns.publish(
            TopicArn=world.topic,
            Message="x" * 2041,
            MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},  # 2041 + 1 + 6 + 1
        )
    assert _code(raised) == "InvalidParameter"


def test_a_lower_limit_refuses_smaller_messages(backend: Backend) -> None:
    """LARGE: the limit can also be lowered, down to 1,024 bytes."""
    world = World(backend, MaximumMessageSize="1024")
    world.sns.publish(TopicArn=world.topic, Message="x" * 1024)
    with pytest.raises(ClientError) as raised:
        world.sns.publish(TopicArn=world.topic, Message="x" * 1025)
    assert _code(raised) == "InvalidParameter"


@pytest.mark.parametrize("value", ["1023", str(MIB + 1), "big", "-5"])
def test_values_out_of_range_are_refused(backend: Backend, value: str) -> None:
    """LARGE: "any integer value between 1,024 and 1,048,576 bytes"; others are
    InvalidParameter, at CreateTopic and at SetTopicAttributes."""
    sns = make_client(backend, "sns")
    with pytest.raises(ClientError) as raised:
        sns.create_topic(Name="odd", Attributes={"MaximumMessageSize": value})
    assert _code(raised) == "InvalidParameter"
    topic = sns.create_topic(Name="odd")["TopicArn"]
    with pytest.raises(ClientError) as raised:
        sns.set_topic_attributes(
            TopicArn=topic, AttributeName="MaximumMessageSize", AttributeValue=value
        )
    assert _code(raised) == "InvalidParameter"


def test_a_large_message_topic_refuses_an_email_subscription(backend: Backend) -> None:
    """SET and LARGE: a topic above 256 KiB supports only SQS, Lambda and Firehose: an email
    subscription is refused, and so is raising the limit of a topic that has one. At 256 KiB
    exactly, any protocol is fine."""
    world = World(backend, MaximumMessageSize=str(512 * KIB))
    with pytest.raises(ClientError) as raised:
        world.sns.subscribe(TopicArn=world.topic, Protocol="email", Endpoint="a@example.com")
    assert _code(raised) == "InvalidParameter"

    plain = world.sns.create_topic(Name="plain")["TopicArn"]
    world.sns.subscribe(TopicArn=plain, Protocol="email", Endpoint="a@example.com")
    with pytest.raises(ClientError) as raised:
        world.sns.set_topic_attributes(
            TopicArn=plain, AttributeName="MaximumMessageSize", AttributeValue=str(MIB)
        )
    assert _code(raised) == "InvalidParameter"
    world.sns.set_topic_attributes(
        TopicArn=plain, AttributeName="MaximumMessageSize", AttributeValue=str(256 * KIB)
    )


def test_a_large_message_topic_has_at_most_100_subscriptions(backend: Backend) -> None:
    """LARGE: "The topic supports up to 100 total subscriptions. If you attempt to create
    additional subscriptions, Amazon SNS returns an InvalidParameter error." Subscribing the
    same queue again is not an additional subscription."""
    world = World(backend, MaximumMessageSize=str(MIB))
    for n in range(99):  # the world's queue is the first
        world.sns.subscribe(
            TopicArn=world.topic,
            Protocol="sqs",
            Endpoint=f"arn:aws:sqs:us-east-1:123456789012:q{n}",
        )
    world.sns.subscribe(TopicArn=world.topic, Protocol="sqs", Endpoint=world.queue_arn)
    with pytest.raises(ClientError) as raised:
        world.sns.subscribe(
            TopicArn=world.topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:123456789012:x"
        )
    assert _code(raised) == "InvalidParameter"


def test_a_batch_is_limited_by_its_total_size(backend: Backend) -> None:
    """BATCH: the messages of a PublishBatch together must fit the topic's MaximumMessageSize:
    two of 300 KiB pass on a 1 MiB topic, and are BatchRequestTooLong on a default one."""
    entries = [{"Id": str(n), "Message": "x" * (300 * KIB)} for n in range(2)]
    world = World(backend, MaximumMessageSize=str(MIB))
    sent = world.sns.publish_batch(TopicArn=world.topic, PublishBatchRequestEntries=entries)
    assert len(sent["Successful"]) == 2 and not sent["Failed"]
    plain = world.sns.create_topic(Name="plain")["TopicArn"]
    with pytest.raises(ClientError) as raised:
        world.sns.publish_batch(TopicArn=plain, PublishBatchRequestEntries=entries)
    assert _code(raised) == "BatchRequestTooLong"
