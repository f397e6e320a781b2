"""Lab 01 · SQS basics: create a standard queue, send, poll, see redelivery, delete, purge."""

from __future__ import annotations

import json

from course.checks.api import CheckFailed, NotAttempted, check
from course.checks.context import Aws
from course.checks.readers.sqs import deletes, queue_attributes, queue_url, receives, sends

LAB = "01"
TITLE = "SQS basics"
#: Graded at twenty times the wall clock's speed: its AWS waits take a twentieth of their time
#: (as fast as the check tests and the stress run show every score unchanged).
TIME_SCALE = 20
QUEUE = "lab-standard-queue"
EXPECTED_ATTRIBUTES = {
    "VisibilityTimeout": "10",
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "MaximumMessageSize": "262144",
    "ReceiveMessageWaitTimeSeconds": "5",
}


@check(
    "queue-exists",
    points=1,
    kind="state",
    statement=f"A standard queue named {QUEUE} exists.",
    hint="sqs.create_queue(QueueName=name('lab-standard-queue'), Attributes={...})",
)
def test_queue_exists(aws: Aws) -> None:
    queue_url(aws, aws.name(QUEUE))


@check(
    "queue-attributes",
    points=3,
    kind="state",
    statement="The queue has VisibilityTimeout 10, MessageRetentionPeriod 345600 (4 days), "
    "DelaySeconds 0, MaximumMessageSize 262144 and ReceiveMessageWaitTimeSeconds 5.",
    hint="Pass all five in Attributes= as strings, or fix them with sqs.set_queue_attributes.",
)
def test_queue_attributes(aws: Aws) -> None:
    attributes = queue_attributes(aws, aws.name(QUEUE))
    wrong = [
        f"{name} is {attributes.get(name, 'unset')}, expected {value}"
        for name, value in EXPECTED_ATTRIBUTES.items()
        if attributes.get(name) != value
    ]
    if wrong:
        raise CheckFailed("; ".join(wrong))


def _is_person(body: str) -> bool:
    try:
        document = json.loads(body)
    except ValueError:
        return False
    return isinstance(document, dict) and "name" in document and "age" in document


@check(
    "sent-three-json",
    points=2,
    kind="flow",
    statement="Three or more messages sent to the queue, each a JSON object with `name` and `age`.",
    hint="Send json.dumps({'name': 'An', 'age': 30}) as MessageBody, three times (or in a batch).",
)
def test_sent_three_json(aws: Aws) -> None:
    sent = sends(aws.flow, aws.name(QUEUE))
    if not sent:
        raise NotAttempted("no message was sent to the queue")
    people = [s for s in sent if _is_person(s.body)]
    if len(people) < 3:
        raise CheckFailed(
            f"{len(sent)} message(s) sent, {len(people)} of them a JSON object with name and age; "
            "three are needed"
        )


@check(
    "saw-redelivery",
    points=1,
    kind="flow",
    statement="One message received twice: its ApproximateReceiveCount reached 2.",
    hint="Receive without deleting, wait past the 10 s visibility timeout, then receive again.",
)
def test_saw_redelivery(aws: Aws) -> None:
    received = receives(aws.flow, aws.name(QUEUE))
    if not received:
        raise NotAttempted("no message was received from the queue")
    seen: dict[str, int] = {}
    for message in received:
        seen[message.message_id] = seen.get(message.message_id, 0) + 1
        if (message.receive_count or 0) >= 2 or seen[message.message_id] >= 2:
            return
    raise CheckFailed(
        f"{len(received)} receive(s), each of a different message the first time: no message "
        "came back after its visibility timeout"
    )


@check(
    "deleted-one",
    points=1,
    kind="flow",
    statement="A DeleteMessage with a valid receipt handle succeeded.",
    hint="Delete with the ReceiptHandle of the newest receive of that message.",
)
def test_deleted_one(aws: Aws) -> None:
    attempts = deletes(aws.flow, aws.name(QUEUE))
    if not attempts:
        raise NotAttempted("no DeleteMessage was called on the queue")
    if not any(a.ok for a in attempts):
        codes = ", ".join(sorted({a.error or "error" for a in attempts}))
        raise CheckFailed(f"every DeleteMessage failed ({codes})")


@check(
    "purged",
    points=1,
    kind="flow",
    statement="PurgeQueue was called on the queue and succeeded.",
    hint="sqs.purge_queue(QueueUrl=url). AWS allows one purge per queue every 60 seconds: after "
    "PurgeQueueInProgress, wait a minute and run the purge cell again.",
)
def test_purged(aws: Aws) -> None:
    purges = aws.flow.calls_to("sqs", "PurgeQueue", queue=aws.name(QUEUE))
    if not purges:
        raise NotAttempted("PurgeQueue was not called on the queue")
    if not any(p.ok for p in purges):
        code = purges[-1].error_code
        raise CheckFailed(f"PurgeQueue failed: {code}" + _AFTER_IN_PROGRESS.get(code, ""))


#: What to do after a refused purge. AWS, PurgeQueue API reference: "The message deletion process
#: takes up to 60 seconds"; PurgeQueueInProgress "Indicates that the specified queue previously
#: received a PurgeQueue request within the last 60 seconds (the time it can take to delete the
#: messages in the queue)."
#: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_PurgeQueue.html
_AFTER_IN_PROGRESS = {
    code: " (AWS allows one purge per queue every 60 seconds): wait a minute, then run the "
    "purge cell again"
    for code in ("PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress")
}


def _refused_purge(aws: Aws, name: str) -> str:
    """The error of the queue's last PurgeQueue if it failed ("" if it succeeded, or no record)."""
    if not aws.is_local:
        return ""
    purges = aws.flow.calls_to("sqs", "PurgeQueue", queue=name)
    return purges[-1].error_code if purges and not purges[-1].ok else ""


@check(
    "kept-the-queue",
    points=1,
    kind="state",
    statement="At the end the queue still exists and is empty (purged, not deleted).",
    hint="Purge empties the queue and keeps it; DeleteQueue removes it. After "
    "PurgeQueueInProgress (one purge per queue every 60 seconds), wait a minute and run the purge "
    "cell again.",
)
def test_kept_the_queue(aws: Aws) -> None:
    name = aws.name(QUEUE)
    if aws.is_local and not sends(aws.flow, name):
        raise NotAttempted("nothing was sent to the queue yet")
    try:
        attributes = queue_attributes(aws, name)
    except NotAttempted:
        if aws.is_local and aws.flow.calls_to("sqs", "DeleteQueue", queue=name, ok=True):
            raise CheckFailed("the queue was deleted; purge it instead to keep it") from None
        raise
    left = sum(
        int(attributes.get(a, 0))
        for a in (
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        )
    )
    if left:
        refused = _refused_purge(aws, name)
        if refused:
            raise CheckFailed(
                f"the queue still holds {left} message(s): the last PurgeQueue failed with "
                f"{refused}" + _AFTER_IN_PROGRESS.get(refused, "")
            )
        raise CheckFailed(
            f"the queue still holds {left} message(s); purge it (a purge can take up to "
            "60 seconds on AWS)"
        )
