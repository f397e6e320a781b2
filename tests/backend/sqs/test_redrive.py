"""Dead-letter queues and their redrive behave as AWS documents (``backend/ext/sqs_redrive.py``).

moto 5.2 has no StartMessageMoveTask, ListMessageMoveTasks or CancelMessageMoveTask (HTTP 500);
the kit's backend adds them. Each test cites the AWS text it pins.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend

REDRIVE_GUIDE = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
    "sqs-configure-dead-letter-queue-redrive.html"
)


def arn_of(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def make_pair(
    sqs: Any, name: str = "main", dlq: str | None = None, max_receives: int = 2, fifo: bool = False
) -> tuple[str, str]:
    """A source queue and its dead-letter queue (made unless ``dlq`` names an existing one)."""
    suffix = ".fifo" if fifo else ""
    fifo_attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    if dlq is None:
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq{suffix}", Attributes=fifo_attributes)[
            "QueueUrl"
        ]
    else:
        dlq_url = sqs.get_queue_url(QueueName=dlq)["QueueUrl"]
    policy = json.dumps(
        {"deadLetterTargetArn": arn_of(sqs, dlq_url), "maxReceiveCount": str(max_receives)}
    )
    url = sqs.create_queue(
        QueueName=f"{name}{suffix}", Attributes={**fifo_attributes, "RedrivePolicy": policy}
    )["QueueUrl"]
    return url, dlq_url


def dead_letter(sqs: Any, url: str, max_receives: int = 2) -> None:
    """Receive everything ``max_receives`` times without deleting, then once more: SQS moves it."""
    for _ in range(max_receives + 1):
        sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
        )


def bodies(sqs: Any, url: str) -> list[str]:
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
    ).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def receive_one(sqs: Any, url: str, **kwargs: Any) -> dict[str, Any]:
    return sqs.receive_message(
        QueueUrl=url, MessageSystemAttributeNames=["All"], WaitTimeSeconds=0, **kwargs
    )["Messages"][0]


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = raised.value.response["Error"]
    return err["Code"], err["Message"]


def test_a_moved_message_keeps_its_id_and_receive_count(sqs: Any) -> None:
    """The move into the DLQ does not reset the message (pinned; moto already agrees).

    CreateQueue, RedrivePolicy (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/
    APIReference/API_CreateQueue.html): "When the ReceiveCount for a message exceeds the
    maxReceiveCount for a queue, Amazon SQS moves the message to the dead-letter-queue."
    Developer Guide, dead-letter queue retention: "When a message is moved to a dead-letter
    queue, the enqueue timestamp is unchanged." The course notes (Lab 2, step 6) add that the
    receive count is not reset and keeps counting.
    """
    url, dlq_url = make_pair(sqs, max_receives=5)
    sent = sqs.send_message(QueueUrl=url, MessageBody='{"name": "viettu"}')
    counts = []
    for _ in range(5):
        message = receive_one(sqs, url)
        counts.append(message["Attributes"]["ApproximateReceiveCount"])
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    assert counts == ["1", "2", "3", "4", "5"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)  # the sixth
    in_dlq = receive_one(sqs, dlq_url, VisibilityTimeout=0)
    again = receive_one(sqs, dlq_url)
    assert in_dlq["MessageId"] == again["MessageId"] == sent["MessageId"]
    assert [
        in_dlq["Attributes"]["ApproximateReceiveCount"],
        again["Attributes"]["ApproximateReceiveCount"],
    ] == ["6", "7"]


def test_redrive_to_the_source_queue_makes_a_new_message(sqs: Any) -> None:
    """StartMessageMoveTask without DestinationArn sends each message back where it came from.

    API Reference, StartMessageMoveTask (https://docs.aws.amazon.com/AWSSimpleQueueService/
    latest/APIReference/API_StartMessageMoveTask.html), DestinationArn: "If this field is left
    blank, the messages will be redriven back to their respective original source queues."
    Developer Guide, configuring a dead-letter queue redrive (REDRIVE_GUIDE): "The redrive task
    resets the retention period. All redriven messages are considered new messages with a new
    messageID and enqueueTime". A new message starts with no receives.
    """
    url, dlq_url = make_pair(sqs)
    sqs.send_message(
        QueueUrl=url,
        MessageBody="poison",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}},
    )
    dead_letter(sqs, url)
    in_dlq = receive_one(sqs, dlq_url, VisibilityTimeout=0)
    assert in_dlq["Attributes"]["ApproximateReceiveCount"] == "3"

    handle = sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq_url))["TaskHandle"]

    decoded = json.loads(base64.b64decode(handle))
    assert decoded["sourceArn"] == arn_of(sqs, dlq_url) and decoded["taskId"]
    back = sqs.receive_message(
        QueueUrl=url,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
        WaitTimeSeconds=0,
    )["Messages"][0]
    assert back["Body"] == "poison"
    assert back["MessageAttributes"]["kind"]["StringValue"] == "order"
    assert back["MessageId"] != in_dlq["MessageId"]
    assert back["Attributes"]["ApproximateReceiveCount"] == "1"
    assert int(back["Attributes"]["SentTimestamp"]) >= int(in_dlq["Attributes"]["SentTimestamp"])
    assert bodies(sqs, dlq_url) == []


def test_each_message_goes_back_to_its_own_source(sqs: Any) -> None:
    """Two queues share one DLQ; a redrive returns each message to "their respective original
    source queues" (StartMessageMoveTask, DestinationArn)."""
    first, dlq_url = make_pair(sqs, "first")
    second, _ = make_pair(sqs, "second", dlq="first-dlq")
    sqs.send_message(QueueUrl=first, MessageBody="from-first")
    sqs.send_message(QueueUrl=second, MessageBody="from-second")
    dead_letter(sqs, first)
    dead_letter(sqs, second)
    assert bodies(sqs, dlq_url) == ["from-first", "from-second"]

    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq_url))

    assert bodies(sqs, first) == ["from-first"]
    assert bodies(sqs, second) == ["from-second"]
    task = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq_url))["Results"][0]
    assert (
        task["ApproximateNumberOfMessagesMoved"],
        task["ApproximateNumberOfMessagesToMove"],
    ) == (
        2,
        2,
    )


def test_redrive_to_a_chosen_destination_and_the_task_listing(sqs: Any) -> None:
    """DestinationArn: "the destination queue where you would like to redrive messages".

    ListMessageMoveTasks (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/
    API_ListMessageMoveTasks.html): TaskHandle "is only populated for tasks that are in RUNNING
    status"; DestinationArn and MaxNumberOfMessagesPerSecond are returned when they were given.
    """
    url, dlq_url = make_pair(sqs)
    elsewhere = sqs.create_queue(QueueName="elsewhere")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    dead_letter(sqs, url)

    sqs.start_message_move_task(
        SourceArn=arn_of(sqs, dlq_url),
        DestinationArn=arn_of(sqs, elsewhere),
        MaxNumberOfMessagesPerSecond=10,
    )

    assert bodies(sqs, elsewhere) == ["m"] and bodies(sqs, url) == []
    task = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq_url))["Results"][0]
    assert task["Status"] == "COMPLETED"
    assert task["DestinationArn"] == arn_of(sqs, elsewhere)
    assert task["MaxNumberOfMessagesPerSecond"] == 10
    assert task["ApproximateNumberOfMessagesMoved"] == 1
    assert isinstance(task["StartedTimestamp"], int)
    assert "TaskHandle" not in task and "FailureReason" not in task


def test_tasks_are_listed_newest_first_one_by_default(sqs: Any) -> None:
    """ListMessageMoveTasks, MaxResults: "The default is 1, which provides the most recent message
    movement task. The upper limit is 10." """
    _, dlq_url = make_pair(sqs)
    dlq_arn = arn_of(sqs, dlq_url)
    for rate in (1, 2, 3):
        sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=rate)
    latest = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert [t["MaxNumberOfMessagesPerSecond"] for t in latest] == [3]
    every = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert [t["MaxNumberOfMessagesPerSecond"] for t in every] == [3, 2, 1]
    with pytest.raises(ClientError) as raised:
        sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=11)
    assert error_of(raised)[0] == "InvalidParameterValue"


def test_a_message_without_a_known_source_fails_the_task(sqs: Any) -> None:
    """A message sent straight to the DLQ has no "original source queue": the task is FAILED.

    ListMessageMoveTasksResultEntry, FailureReason: "The task failure reason (only included if
    the task status is FAILED)."
    """
    _, dlq_url = make_pair(sqs)
    sqs.send_message(QueueUrl=dlq_url, MessageBody="direct")
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq_url))
    task = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq_url))["Results"][0]
    assert task["Status"] == "FAILED"
    assert task["FailureReason"] == "CouldNotDetermineMessageSource"
    assert bodies(sqs, dlq_url) == ["direct"]


def test_a_message_in_flight_in_the_dlq_stays_there(sqs: Any, backend: Backend) -> None:
    """The kit's task moves the messages that are visible when it starts (documented in
    grader/docs/backend/sqs-redrive-fifo.md); one being processed is not taken away."""
    url, dlq_url = make_pair(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="m")
    dead_letter(sqs, url)
    receive_one(sqs, dlq_url, VisibilityTimeout=30)
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq_url))
    task = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq_url))["Results"][0]
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"]) == ("COMPLETED", 0)
    backend.advance_clock(31)
    assert bodies(sqs, dlq_url) == ["m"]


def test_a_fifo_redrive_keeps_the_message_group(sqs: Any) -> None:
    """ "if the dead-letter queue is a FIFO queue, the redrive destination queue must be a FIFO
    queue as well" (REDRIVE_GUIDE); the redriven message keeps its MessageGroupId."""
    url, dlq_url = make_pair(sqs, fifo=True)
    sqs.send_message(QueueUrl=url, MessageBody="first", MessageGroupId="g1")
    dead_letter(sqs, url)
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq_url))
    back = receive_one(sqs, url)
    assert (back["Body"], back["Attributes"]["MessageGroupId"]) == ("first", "g1")


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        (
            "missing-source",
            "ResourceNotFoundException",
            "The resource that you specified for the SourceArn parameter doesn't exist.",
        ),
        (
            "not-a-dlq",
            "InvalidParameterValue",
            "Source queue must be configured as a Dead Letter Queue.",
        ),
        (
            "missing-destination",
            "ResourceNotFoundException",
            "The resource that you specified for the DestinationArn parameter doesn't exist.",
        ),
        (
            "same-queue",
            "InvalidParameterValue",
            "Source queue arn and destination queue arn cannot be the same.",
        ),
        (
            "other-type",
            "InvalidParameterValue",
            "The source queue and destination queue must be of the same queue type.",
        ),
        (
            "rate-501",
            "InvalidParameterValue",
            "Value 501 for parameter MaxNumberOfMessagesPerSecond is invalid. "
            "Reason: Must be between 1 and 500.",
        ),
    ],
)
def test_start_message_move_task_errors(sqs: Any, case: str, code: str, message: str) -> None:
    """StartMessageMoveTask, SourceArn: "Currently, only ARNs of dead-letter queues (DLQs) whose
    sources are other Amazon SQS queues are accepted."; MaxNumberOfMessagesPerSecond: "The
    maximum value for messages per second is 500."; the Developer Guide: a redrive destination
    must be "the same type". Error codes as listed for the action (ResourceNotFoundException,
    InvalidParameterValue); the texts are those AWS returns."""
    url, dlq_url = make_pair(sqs)
    fifo = sqs.create_queue(QueueName="other.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = arn_of(sqs, dlq_url)
    kwargs = {
        "missing-source": {"SourceArn": dlq_arn + "-gone"},
        "not-a-dlq": {"SourceArn": arn_of(sqs, url)},
        "missing-destination": {"SourceArn": dlq_arn, "DestinationArn": dlq_arn + "-gone"},
        "same-queue": {"SourceArn": dlq_arn, "DestinationArn": dlq_arn},
        "other-type": {"SourceArn": dlq_arn, "DestinationArn": arn_of(sqs, fifo)},
        "rate-501": {"SourceArn": dlq_arn, "MaxNumberOfMessagesPerSecond": 501},
    }[case]
    with pytest.raises(ClientError) as raised:
        sqs.start_message_move_task(**kwargs)
    assert error_of(raised) == (code, message)


def test_only_running_tasks_can_be_cancelled(sqs: Any) -> None:
    """CancelMessageMoveTask (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/
    APIReference/API_CancelMessageMoveTask.html): "A message movement can only be cancelled
    when the current status is RUNNING." The kit's tasks finish at once."""
    _, dlq_url = make_pair(sqs)
    handle = sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq_url))["TaskHandle"]
    with pytest.raises(ClientError) as raised:
        sqs.cancel_message_move_task(TaskHandle=handle)
    assert error_of(raised) == ("ResourceNotFoundException", "Task does not exist.")
    with pytest.raises(ClientError) as raised:
        sqs.cancel_message_move_task(TaskHandle="not-a-handle")
    assert error_of(raised) == (
        "InvalidParameterValue",
        "Value for parameter TaskHandle is invalid.",
    )


def test_the_message_view_shows_ids_and_counts_without_bodies(sqs: Any, backend: Backend) -> None:
    """The checks' read-only view of a queue (not an AWS API): where a message is now."""
    url, _ = make_pair(sqs)
    sent = sqs.send_message(QueueUrl=url, MessageBody="secret")
    sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    with urllib.request.urlopen(f"{backend.url}/_course/sqs/messages?queue=main") as response:
        view = json.loads(response.read())
    assert view["messages"] == [
        {
            "MessageId": sent["MessageId"],
            "ApproximateReceiveCount": 1,
            "InFlight": True,
            "Delayed": False,
        }
    ]
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{backend.url}/_course/sqs/messages?queue=nope")
    assert raised.value.code == 404
