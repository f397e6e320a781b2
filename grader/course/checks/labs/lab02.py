"""Lab 02 · Visibility timeout: one producer, three consumers, ten-minute videos.

Part A shows a 10-second timeout letting a second consumer take a video the first is still
processing; Part B fixes the timeout (over 600 s) and three consumers get three different
videos; Part C keeps a job of unknown length hidden with ChangeMessageVisibility (a heartbeat).
The flow checks rebuild every delivery with the timeout that applied to it
(``course.checks.readers.sqs_history``), so client or resource API, batches, helpers and threads all
pass alike.
"""

from __future__ import annotations

from collections import Counter

from course.checks.api import CheckFailed, NotAttempted, check
from course.checks.context import Aws
from course.checks.readers.sqs import deletes, queue_attributes
from course.checks.readers.sqs_history import Delivery, deliveries

LAB = "02"
TITLE = "Visibility timeout"
#: Graded at twenty times the wall clock's speed: its AWS waits take a twentieth of their time
#: (as fast as the check tests and the stress run show every score unchanged).
TIME_SCALE = 20
QUEUE = "video-jobs"
#: The story's processing time: a timeout must be longer than this to protect a job.
PROCESSING_SECONDS = 600


def _deliveries(aws: Aws) -> list[Delivery]:
    found = deliveries(aws.flow, aws.name(QUEUE))
    if not found:
        raise NotAttempted(f"no message was received from {aws.name(QUEUE)} yet")
    return found


def _after_fix(found: list[Delivery]) -> list[Delivery]:
    """Deliveries from the first one made under a timeout longer than the processing time."""
    first = next((d.seq for d in found if d.timeout > PROCESSING_SECONDS), None)
    if first is None:
        raise NotAttempted(
            f"no message was received under a visibility timeout above {PROCESSING_SECONDS} s yet"
        )
    return [d for d in found if d.seq >= first]


def _duplicated(found: list[Delivery]) -> set[str]:
    """The MessageIds delivered again before any delete of them, first under a short timeout:
    part A's duplicates, each taken by a second consumer while the first still held it."""
    first_seen: dict[str, Delivery] = {}
    deleted_at: dict[str, int] = {}
    for delivery in found:
        if delivery.deleted is not None:
            seq = deleted_at.get(delivery.message_id, delivery.deleted.seq)
            deleted_at[delivery.message_id] = min(seq, delivery.deleted.seq)
    duplicated = set()
    for delivery in found:
        earlier = first_seen.get(delivery.message_id)
        if (
            earlier is not None
            and earlier.timeout <= PROCESSING_SECONDS
            and deleted_at.get(delivery.message_id, delivery.seq + 1) > delivery.seq
        ):
            duplicated.add(delivery.message_id)
        first_seen.setdefault(delivery.message_id, delivery)
    return duplicated


@check(
    "duplicate-seen",
    points=3,
    kind="flow",
    statement="Under the short timeout, one video (MessageId) was received a second time before "
    "it was deleted: a second consumer took a job the first was still processing.",
    hint="With VisibilityTimeout 10, receive a video and keep 'processing' it (do not delete); "
    "after 10 s another consumer's receive gets the same MessageId.",
)
def test_duplicate_seen(aws: Aws) -> None:
    found = _deliveries(aws)
    if _duplicated(found):
        return
    short = [d for d in found if d.timeout <= PROCESSING_SECONDS]
    if not short:
        raise CheckFailed(
            "every receive ran under a visibility timeout above 600 s: set VisibilityTimeout 10 "
            "first to see the problem"
        )
    raise CheckFailed(
        f"{len(found)} delivery(ies), and no video came back before it was deleted: keep the "
        "first consumer busy past the 10-second timeout, then receive again"
    )


@check(
    "timeout-fixed",
    points=2,
    kind="state",
    statement=f"At the end {QUEUE}'s VisibilityTimeout is longer than the processing time "
    "(more than 600 seconds).",
    hint="sqs.set_queue_attributes(QueueUrl=url, Attributes={'VisibilityTimeout': '900'})",
)
def test_timeout_fixed(aws: Aws) -> None:
    timeout = int(queue_attributes(aws, aws.name(QUEUE)).get("VisibilityTimeout", 30))
    if timeout <= PROCESSING_SECONDS:
        raise CheckFailed(
            f"VisibilityTimeout is {timeout} s; a 10-minute job needs more than "
            f"{PROCESSING_SECONDS} s"
        )


def _distinct_matching(calls: dict[int, set[str]]) -> int:
    """How many receive calls can each be paired with a different MessageId (max matching)."""
    owner: dict[str, int] = {}

    def assign(call: int, seen: set[str]) -> bool:
        for message_id in calls[call]:
            if message_id in seen:
                continue
            seen.add(message_id)
            if message_id not in owner or assign(owner[message_id], seen):
                owner[message_id] = call
                return True
        return False

    return sum(1 for call in calls if assign(call, set()))


@check(
    "distinct-after-fix",
    points=3,
    kind="flow",
    statement="After the fix, three receives got three different videos (MessageIds).",
    hint="Send three videos, then let three consumers (threads, or three receive calls) each "
    "receive one message while the long timeout holds.",
)
def test_distinct_after_fix(aws: Aws) -> None:
    long_leases = [d for d in _deliveries(aws) if d.timeout > PROCESSING_SECONDS]
    if not long_leases:
        raise NotAttempted(
            f"no message was received under a visibility timeout above {PROCESSING_SECONDS} s yet"
        )
    by_call: dict[int, set[str]] = {}
    for delivery in long_leases:
        by_call.setdefault(delivery.seq, set()).add(delivery.message_id)
    paired = _distinct_matching(by_call)
    if paired < 3:
        ids = {d.message_id for d in long_leases}
        raise CheckFailed(
            f"after the fix {len(by_call)} receive(s) delivered {len(ids)} different video(s); "
            "three receives should each get a different one"
        )


@check(
    "deleted-once",
    points=1,
    kind="flow",
    statement="Each video processed after the fix was deleted exactly once.",
    hint="Delete each message with the ReceiptHandle of its receive, once, when its job is done.",
)
def test_deleted_once(aws: Aws) -> None:
    name = aws.name(QUEUE)
    found = _deliveries(aws)
    processed = {d.message_id for d in _after_fix(found)}
    attempts = [a for a in deletes(aws.flow, name) if a.ok]
    if not attempts:
        raise NotAttempted(f"no message was deleted from {name} yet")
    owner = {d.received.receipt_handle: d.message_id for d in found}
    counts = Counter(owner.get(a.receipt_handle) for a in attempts)
    never = sorted(m for m in processed if counts[m] == 0)
    # A part A duplicate (run again after the fix) is deleted by each consumer that took it:
    # that double delete is what part A shows, not a processed video deleted twice.
    duplicated = _duplicated(found)
    twice = sorted(m for m in processed if counts[m] > 1 and m not in duplicated)
    problems = []
    if never:
        problems.append(f"{len(never)} processed video(s) never deleted")
    if twice:
        problems.append(
            f"{len(twice)} deleted more than once ({', '.join(f'{counts[m]}x' for m in twice)})"
        )
    if problems:
        raise CheckFailed("; ".join(problems))


@check(
    "heartbeat",
    points=1,
    kind="flow",
    statement="A ChangeMessageVisibility extended a received message's timeout while it was "
    "still hidden (a heartbeat for a job of unknown length).",
    hint="While a job runs, call sqs.change_message_visibility(QueueUrl=url, "
    "ReceiptHandle=handle, VisibilityTimeout=N) before its timeout ends.",
)
def test_heartbeat(aws: Aws) -> None:
    name = aws.name(QUEUE)
    changes = aws.flow.calls_to(
        "sqs", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch", queue=name
    )
    if not changes:
        raise NotAttempted(f"ChangeMessageVisibility was not called on {name}")
    beats = [b for d in deliveries(aws.flow, name) for b in d.heartbeats]
    if any(b.extended for b in beats):
        return
    if not beats:
        codes = ", ".join(sorted({c.error_code or "no matching receive" for c in changes}))
        raise CheckFailed(f"no ChangeMessageVisibility succeeded on a received message ({codes})")
    raise CheckFailed(
        "ChangeMessageVisibility ran, but never pushed a hidden message's return later: call it "
        "before the timeout ends, with a timeout that reaches past the current one"
    )
