"""The backend enforces SQS's documented limits where moto does not (``ext/sqs_limits.py``,
``ext/sqs_retention.py``). Each test cites the AWS documentation it pins.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend
from course.flow import Flow

from tests.conftest import make_client

MIB = 1_048_576


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = raised.value.response["Error"]
    return err["Code"], err["Message"]


def _attributes(sqs: Any, url: str) -> dict[str, str]:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


# ---------------------------------------------------------------- queue attributes

OUT_OF_RANGE = [
    ("VisibilityTimeout", "43201"),
    ("VisibilityTimeout", "-1"),
    ("MessageRetentionPeriod", "59"),
    ("MessageRetentionPeriod", "1209601"),
    ("DelaySeconds", "901"),
    ("ReceiveMessageWaitTimeSeconds", "21"),
    ("MaximumMessageSize", "1023"),
    ("MaximumMessageSize", "1048577"),
    ("VisibilityTimeout", "ten"),
]


@pytest.mark.parametrize(("name", "value"), OUT_OF_RANGE)
def test_create_queue_refuses_attribute_values_out_of_range(
    sqs: Any, name: str, value: str
) -> None:
    """CreateQueue, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html:
    "VisibilityTimeout – ... Valid values: An integer from 0 to 43,200 (12 hours)";
    "MessageRetentionPeriod – ... Valid values: An integer from 60 seconds (1 minute) to
    1,209,600 seconds (14 days)"; "DelaySeconds – ... An integer from 0 to 900 seconds";
    "ReceiveMessageWaitTimeSeconds – ... An integer from 0 to 20 (seconds)";
    "MaximumMessageSize – ... An integer from 1,024 bytes (1 KiB) to 1,048,576 bytes (1 MiB)".
    Errors: "InvalidAttributeValue: A queue attribute value is invalid."
    """
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName="limits", Attributes={name: value})
    assert _error(raised) == ("InvalidAttributeValue", f"Invalid value for the parameter {name}.")
    assert sqs.list_queues().get("QueueUrls", []) == []


def test_create_queue_accepts_the_bounds_of_every_range(sqs: Any) -> None:
    """Same reference: the ranges are inclusive ("from 0 to 43,200", "from 60 ... to 1,209,600")."""
    low = {
        "VisibilityTimeout": "0",
        "MessageRetentionPeriod": "60",
        "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0",
        "MaximumMessageSize": "1024",
    }
    high = {
        "VisibilityTimeout": "43200",
        "MessageRetentionPeriod": "1209600",
        "DelaySeconds": "900",
        "ReceiveMessageWaitTimeSeconds": "20",
        "MaximumMessageSize": str(MIB),
    }
    for name, attributes in (("low", low), ("high", high)):
        url = sqs.create_queue(QueueName=f"bounds-{name}", Attributes=attributes)["QueueUrl"]
        got = _attributes(sqs, url)
        assert {k: got[k] for k in attributes} == attributes


def test_set_queue_attributes_refuses_out_of_range_and_keeps_the_queue(sqs: Any) -> None:
    """SetQueueAttributes, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html:
    "MessageRetentionPeriod – ... Valid values: An integer representing seconds, from 60
    (1 minute) to 1,209,600 (14 days)". Errors: "InvalidAttributeValue: A queue attribute value
    is invalid."
    """
    url = sqs.create_queue(QueueName="limits", Attributes={"VisibilityTimeout": "10"})["QueueUrl"]
    for name, value in (("VisibilityTimeout", "43201"), ("MessageRetentionPeriod", "30")):
        with pytest.raises(ClientError) as raised:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value})
        assert _error(raised)[0] == "InvalidAttributeValue"
    attributes = _attributes(sqs, url)
    assert attributes["VisibilityTimeout"] == "10"
    assert attributes["MessageRetentionPeriod"] == "345600"


@pytest.mark.parametrize("action", ["create", "set"])
def test_unknown_attribute_names_are_refused(sqs: Any, action: str) -> None:
    """CreateQueue and SetQueueAttributes references, Errors: "InvalidAttributeName: The
    specified attribute doesn't exist." (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html)
    """
    with pytest.raises(ClientError) as raised:
        if action == "create":
            sqs.create_queue(QueueName="limits", Attributes={"VisibilityTimeOut": "10"})
        else:
            url = sqs.create_queue(QueueName="limits")["QueueUrl"]
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"ApproximateNumberOfMessages": "3"})
    code, message = _error(raised)
    assert code == "InvalidAttributeName"
    assert message.startswith("Unknown Attribute ")


# ---------------------------------------------------------------- ReceiveMessage parameters


def test_a_long_poll_over_20_seconds_is_refused_with_aws_wording(
    backend: Backend, sqs: Any
) -> None:
    """Setting-up long polling, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/best-practices-setting-up-long-polling.html:
    "When the wait time for the ReceiveMessage API action is greater than 0, long polling is in
    effect. The maximum long polling wait time is 20 seconds." SQS answers a larger value with
    InvalidParameterValue, "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be
    >= 0 and <= 20, if provided." (moto's text reads "must be &lt;= 0 and &gt;= 20").
    The refusal is recorded in the flow with its code, for lab 03's check.
    """
    url = sqs.create_queue(QueueName="limits")["QueueUrl"]
    with pytest.raises(ClientError) as raised:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)
    assert _error(raised) == (
        "InvalidParameterValue",
        "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, "
        "if provided.",
    )
    failed = Flow.from_json(backend.flow()).calls_to("sqs", "ReceiveMessage", ok=False)
    assert [(c.request["WaitTimeSeconds"], c.error_code) for c in failed] == [
        (21, "InvalidParameterValue")
    ]


@pytest.mark.parametrize(
    ("parameter", "value", "reason"),
    [
        ("MaxNumberOfMessages", 11, "Must be between 1 and 10, if provided."),
        ("MaxNumberOfMessages", 0, "Must be between 1 and 10, if provided."),
        ("VisibilityTimeout", 43201, "Must be >= 0 and <= 43200, if provided."),
        ("VisibilityTimeout", -1, "Must be >= 0 and <= 43200, if provided."),
    ],
)
def test_receive_parameters_out_of_range_are_refused(
    sqs: Any, parameter: str, value: int, reason: str
) -> None:
    """ReceiveMessage, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html:
    "MaxNumberOfMessages – The maximum number of messages to return. ... Valid values: 1 to
    10." and, for the visibility timeout, ChangeMessageVisibility: "Values range: 0 to 43200.
    Maximum: 12 hours."
    """
    url = sqs.create_queue(QueueName="limits")["QueueUrl"]
    with pytest.raises(ClientError) as raised:
        sqs.receive_message(QueueUrl=url, **{parameter: value})
    assert _error(raised) == (
        "InvalidParameterValue",
        f"Value {value} for parameter {parameter} is invalid. Reason: {reason}",
    )


# ---------------------------------------------------------------- message size and attributes


def test_message_size_is_counted_in_bytes(sqs: Any) -> None:
    """SendMessage, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html:
    "MessageBody – The message to send. The minimum size is one character. The maximum size is
    1 MiB or 1,048,576 bytes". 600,000 two-byte characters are 1,200,000 bytes (moto counted
    characters and accepted it); exactly 1,048,576 one-byte characters fit.
    """
    url = sqs.create_queue(QueueName="limits")["QueueUrl"]
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="é" * 600_000)
    assert _error(raised) == (
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.",
    )
    sqs.send_message(QueueUrl=url, MessageBody="x" * MIB)
    assert _attributes(sqs, url)["ApproximateNumberOfMessages"] == "1"


def test_message_attributes_count_toward_the_size(sqs: Any) -> None:
    """MessageAttributeValue, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_MessageAttributeValue.html:
    "All parts of the message attribute, including Name, Type, and Value, are part of the
    message size restriction (1 MiB or 1,048,576 bytes)." The limit is the queue's
    MaximumMessageSize: "The limit of how many bytes a message can contain before Amazon SQS
    rejects it."
    """
    url = sqs.create_queue(QueueName="limits", Attributes={"MaximumMessageSize": "1024"})[
        "QueueUrl"
    ]
    # body 1000 + "env" 3 + "String" 6 + value 15 = 1024 bytes: fits exactly
    sqs.send_message(
        QueueUrl=url,
        MessageBody="x" * 1000,
        MessageAttributes={"env": {"DataType": "String", "StringValue": "v" * 15}},
    )
    with pytest.raises(ClientError) as raised:  # one byte more
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x" * 1000,
            MessageAttributes={"env": {"DataType": "String", "StringValue": "v" * 16}},
        )
    assert _error(raised) == (
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.",
    )
    with pytest.raises(ClientError):  # binary values count as their decoded bytes
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x" * 1000,
            MessageAttributes={"bin": {"DataType": "Binary", "BinaryValue": b"\x00" * 20}},
        )


def test_at_most_ten_message_attributes(sqs: Any) -> None:
    """Amazon SQS message quotas, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html:
    "Message attributes: A message can contain up to 10 metadata attributes."
    """
    url = sqs.create_queue(QueueName="limits")["QueueUrl"]

    def attrs(n: int) -> dict[str, Any]:
        return {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(n)}

    sqs.send_message(QueueUrl=url, MessageBody="ten", MessageAttributes=attrs(10))
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="eleven", MessageAttributes=attrs(11))
    assert _error(raised) == (
        "InvalidParameterValue",
        "Number of message attributes [11] exceeds the allowed maximum [10].",
    )
    assert _attributes(sqs, url)["ApproximateNumberOfMessages"] == "1"


def test_delay_seconds_of_a_message_is_0_to_900(sqs: Any) -> None:
    """SendMessage reference: "DelaySeconds – The length of time, in seconds, for which to delay
    a specific message. Valid values: 0 to 900. Maximum: 15 minutes."
    """
    url = sqs.create_queue(QueueName="limits")["QueueUrl"]
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="late", DelaySeconds=-1)
    assert _error(raised)[0] == "InvalidParameterValue"


def test_a_batch_reports_a_bad_entry_and_sends_the_others(sqs: Any) -> None:
    """SendMessageBatch, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html:
    "The result of sending each message is reported individually in the response. Because the
    batch request can result in a combination of successful and unsuccessful actions, you
    should check for batch errors even when the call returns an HTTP status code of 200."
    """
    url = sqs.create_queue(QueueName="limits")["QueueUrl"]
    too_many = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    binary = {"blob": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}}
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "good", "MessageBody": "one", "MessageAttributes": binary},
            {"Id": "bad", "MessageBody": "two", "MessageAttributes": too_many},
            {"Id": "also-good", "MessageBody": "three"},
        ],
    )
    assert sorted(s["Id"] for s in result["Successful"]) == ["also-good", "good"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in result["Failed"]] == [
        ("bad", "InvalidParameterValue", True)
    ]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    bodies = {m["Body"]: m for m in got["Messages"]}
    assert sorted(bodies) == ["one", "three"]
    assert bodies["one"]["MessageAttributes"]["blob"]["BinaryValue"] == b"\x01\x02"


def test_a_batch_over_1_mib_in_all_is_refused(sqs: Any) -> None:
    """SendMessageBatch reference: "The maximum allowed individual message size and the maximum
    total payload size (the sum of the individual lengths of all of the batched messages) are
    both 1 MiB 1,048,576 bytes." Errors: "BatchRequestTooLong: The length of all the messages
    put together is more than the limit."
    """
    url = sqs.create_queue(QueueName="limits")["QueueUrl"]
    body = "é" * 200_000  # 400,000 bytes each, 1,200,000 in all (600,000 characters)
    with pytest.raises(ClientError) as raised:
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": body} for i in range(3)],
        )
    assert _error(raised) == (
        "BatchRequestTooLong",
        "Batch requests cannot be longer than 1048576 bytes. You have sent 1200000 bytes.",
    )


# ---------------------------------------------------------------- retention


def test_expired_messages_are_deleted_not_just_hidden(backend: Backend, sqs: Any) -> None:
    """DeleteMessage, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html:
    "Amazon SQS automatically deletes messages left in a queue longer than the retention period
    configured for the queue." moto skipped them on receive but went on counting them.
    """
    url = sqs.create_queue(
        QueueName="short-lived",
        Attributes={"MessageRetentionPeriod": "60", "VisibilityTimeout": "600"},
    )["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="waiting")
    sqs.send_message(QueueUrl=url, MessageBody="in flight")
    sqs.receive_message(QueueUrl=url)  # one of them is now in flight
    backend.advance_clock(61)
    attributes = _attributes(sqs, url)
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.send_message(QueueUrl=url, MessageBody="fresh")  # the queue itself goes on working
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["fresh"]


def test_lowering_retention_expires_older_messages(backend: Backend) -> None:
    """SetQueueAttributes reference: "Changes made to the MessageRetentionPeriod attribute ...
    will impact existing messages in the queue potentially causing them to be expired and
    deleted if the MessageRetentionPeriod is reduced below the age of existing messages."
    """
    sqs = make_client(backend, "sqs")
    url = sqs.create_queue(QueueName="retention")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    backend.advance_clock(120)
    sqs.send_message(QueueUrl=url, MessageBody="new")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "60"})
    assert _attributes(sqs, url)["ApproximateNumberOfMessages"] == "1"
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in received] == ["new"]


def test_receivers_are_named_by_their_client_app_id(backend: Backend) -> None:
    """Not an AWS behaviour: the backend notes which named client received each message, for
    the visibility timeline (botocore sends ``app/NAME`` of ``Config(user_agent_appid=...)``).
    """
    import json
    import urllib.request

    from botocore.config import Config

    named = make_client(backend, "sqs", config=Config(user_agent_appid="consumer-7"))
    url = named.create_queue(QueueName="named")["QueueUrl"]
    named.send_message(QueueUrl=url, MessageBody="x")
    handle = named.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    with urllib.request.urlopen(f"{backend.url}/_course/sqs/receivers", timeout=5) as response:
        assert json.loads(response.read()) == {handle: "consumer-7"}
