"""Lab 04 · Dead-letter queue: a message received five times moves to the DLQ, then is handled."""

from __future__ import annotations

import json
from collections import Counter

from course.checks.api import CheckFailed, NotAttempted, check
from course.checks.context import Aws
from course.checks.readers.sqs import Received, deletes, queue_attributes, queue_url, receives

LAB = "04"
TITLE = "Dead-letter queue"
#: Graded at twenty times the wall clock's speed: its AWS waits take a twentieth of their time
#: (as fast as the check tests and the stress run show every score unchanged).
TIME_SCALE = 20
MAIN = "main-queue"
DLQ = "dead-letter-queue"
MAX_RECEIVES = 5
MAIN_ATTRIBUTES = {"VisibilityTimeout": "10", "ReceiveMessageWaitTimeSeconds": "5"}


@check(
    "dlq-exists",
    points=1,
    kind="state",
    statement=f"A standard queue named {DLQ} exists.",
    hint="Create the dead-letter queue first: a RedrivePolicy names it by its QueueArn.",
)
def test_dlq_exists(aws: Aws) -> None:
    queue_url(aws, aws.name(DLQ))


@check(
    "redrive-policy",
    points=3,
    kind="state",
    statement=f"{MAIN} has VisibilityTimeout 10, ReceiveMessageWaitTimeSeconds 5 and a "
    f"RedrivePolicy that moves a message to {DLQ} after {MAX_RECEIVES} receives.",
    hint='RedrivePolicy is a JSON string: json.dumps({"deadLetterTargetArn": dlq_arn, '
    '"maxReceiveCount": "5"}), with dlq_arn from get_queue_attributes(..., ["QueueArn"]).',
)
def test_redrive_policy(aws: Aws) -> None:
    attributes = queue_attributes(aws, aws.name(MAIN))
    wrong = [
        f"{name} is {attributes.get(name, 'unset')}, expected {value}"
        for name, value in MAIN_ATTRIBUTES.items()
        if attributes.get(name) != value
    ]
    policy_text = attributes.get("RedrivePolicy")
    if not policy_text:
        wrong.append(f"{MAIN} has no RedrivePolicy")
    else:
        policy = json.loads(policy_text)
        dlq_arn = _arn_or_none(aws, aws.name(DLQ))
        target = policy.get("deadLetterTargetArn")
        if dlq_arn is None or target != dlq_arn:
            wrong.append(f"deadLetterTargetArn is {target}, not the ARN of {aws.name(DLQ)}")
        if str(policy.get("maxReceiveCount")) != str(MAX_RECEIVES):
            wrong.append(f"maxReceiveCount is {policy.get('maxReceiveCount')}, expected 5")
    if wrong:
        raise CheckFailed("; ".join(wrong))


def _arn_or_none(aws: Aws, name: str) -> str | None:
    try:
        return queue_attributes(aws, name).get("QueueArn")
    except NotAttempted:
        return None


def _times_received(received: list[Received]) -> dict[str, int]:
    """For each MessageId: how often it was delivered, or its highest receive count if larger."""
    times = Counter(r.message_id for r in received)
    for r in received:
        times[r.message_id] = max(times[r.message_id], r.receive_count or 0)
    return dict(times)


def _received(aws: Aws, base: str) -> list[Received]:
    """Every delivery from the lab's queue ``base``; "not attempted" if there is none yet."""
    received = receives(aws.flow, aws.name(base))
    if not received:
        raise NotAttempted(f"nothing was received from {aws.name(base)} yet")
    return received


def _the_message(aws: Aws) -> tuple[str, int]:
    """The MessageId received most often from main-queue, and how often."""
    times = _times_received(_received(aws, MAIN))
    message_id = max(times, key=lambda m: times[m])
    return message_id, times[message_id]


@check(
    "received-five-times",
    points=2,
    kind="flow",
    statement=f"One message received {MAX_RECEIVES} times from {MAIN} without being deleted.",
    hint="Receive the same message five times: after each receive let it become visible again "
    "(wait for the visibility timeout, or ChangeMessageVisibility to 0) instead of deleting it.",
)
def test_received_five_times(aws: Aws) -> None:
    _, times = _the_message(aws)
    if times < MAX_RECEIVES:
        raise CheckFailed(
            f"no message was received {MAX_RECEIVES} times from {aws.name(MAIN)}: the most "
            f"often received one was received {times} time(s)"
        )


def _stored_ids(aws: Aws, queue: str) -> set[str] | None:
    """The MessageIds a queue holds now, from the local backend's read-only view."""
    found = aws.backend.queue_messages(queue, aws.region)
    return None if found is None else {m["MessageId"] for m in found}


@check(
    "moved-to-dlq",
    points=2,
    kind="flow",
    statement=f"SQS moved that message to {DLQ}: it was received from {DLQ} with the same "
    f"MessageId, and {MAIN} no longer holds it.",
    hint=f"After the fifth receive, poll {MAIN} once more (it finds nothing), then receive "
    f"from {DLQ}.",
)
def test_moved_to_dlq(aws: Aws) -> None:
    times = _times_received(_received(aws, MAIN))
    message_id, most = _the_message(aws)
    in_dlq = {r.message_id for r in _received(aws, DLQ)}
    # Any message received five times counts (a re-run may have sent two, and the DLQ receive
    # may deliver either first); failing that, the most often received one.
    often = [m for m, n in times.items() if n >= MAX_RECEIVES] or [message_id]
    moved = [m for m in often if m in in_dlq]
    if not moved:
        raise CheckFailed(
            f"the messages received from {aws.name(DLQ)} are not the one received {most} "
            f"time(s) from {aws.name(MAIN)} ({message_id}); SQS moves a message only after "
            "maxReceiveCount receives"
        )
    stored = _stored_ids(aws, aws.name(MAIN))
    if stored is not None and all(m in stored for m in moved):
        raise CheckFailed(f"{aws.name(MAIN)} still holds message {moved[0]}")


@check(
    "count-not-reset",
    points=1,
    kind="flow",
    statement=f"A receive from {DLQ} showed ApproximateReceiveCount 6 or more: the move did "
    "not reset the count.",
    hint="Ask for it: receive_message(..., "
    'MessageSystemAttributeNames=["ApproximateReceiveCount"]).',
)
def test_count_not_reset(aws: Aws) -> None:
    from_dlq = _received(aws, DLQ)
    moved = {r.message_id for r in receives(aws.flow, aws.name(MAIN))}
    counts = [r.receive_count for r in from_dlq if r.message_id in moved]
    if not counts:
        raise CheckFailed(
            f"no message received from {aws.name(DLQ)} came from {aws.name(MAIN)}; "
            "let SQS move one there"
        )
    shown = [c for c in counts if c is not None]
    if not shown:
        raise CheckFailed(
            f"the receives from {aws.name(DLQ)} did not ask for ApproximateReceiveCount"
        )
    if max(shown) < MAX_RECEIVES + 1:
        raise CheckFailed(f"the highest ApproximateReceiveCount seen in the DLQ is {max(shown)}")


@check(
    "dlq-handled",
    points=1,
    kind="flow",
    statement=f"The message in {DLQ} was handled: moved back with StartMessageMoveTask, or "
    "deleted after processing.",
    hint="sqs.start_message_move_task(SourceArn=dlq_arn) sends it back to main-queue (release "
    "it first if you received it: ChangeMessageVisibility 0); or delete it with the "
    "ReceiptHandle of your receive from the DLQ.",
)
def test_dlq_handled(aws: Aws) -> None:
    flow = aws.flow  # first: on a real account there is no flow, and nothing else is read
    dlq_arn = _arn_or_none(aws, aws.name(DLQ))
    starts = [
        c
        for c in flow.calls_to("sqs", "StartMessageMoveTask")
        if dlq_arn is not None and c.request.get("SourceArn") == dlq_arn
    ]
    removed = [d for d in deletes(flow, aws.name(DLQ)) if d.ok]
    if removed:
        return
    if any(c.ok for c in starts):
        tasks = aws.client("sqs").list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)
        if any(t.get("ApproximateNumberOfMessagesMoved", 0) > 0 for t in tasks["Results"]):
            return
        raise CheckFailed(
            "StartMessageMoveTask moved no message: the DLQ copy was in flight (received, "
            "its visibility timeout not yet over) or the DLQ was empty"
        )
    failed = [c.error_code for c in starts] + [
        d.error or "error" for d in deletes(flow, aws.name(DLQ))
    ]
    if failed:
        raise CheckFailed(f"every attempt failed ({', '.join(sorted(set(failed)))})")
    others = flow.calls_to("sqs", "StartMessageMoveTask")
    if others:
        raise CheckFailed(
            f"StartMessageMoveTask was called, but not with the ARN of {aws.name(DLQ)} as SourceArn"
        )
    raise NotAttempted(f"the message in {aws.name(DLQ)} was neither moved back nor deleted")
