"""Lab 05 · FIFO queues: order per message group, deduplication, blocked groups, deletion."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import pairwise

from course.checks.api import CheckFailed, NotAttempted, check
from course.checks.context import Aws
from course.checks.readers.sqs import Received, Sent, deletes, queue_attributes, receives, sends
from course.flow import Flow, sha256_hex

LAB = "05"
TITLE = "FIFO queues"
#: Graded at twenty times the wall clock's speed: its AWS waits take a twentieth of their time
#: (as fast as the check tests and the stress run show every score unchanged).
TIME_SCALE = 20
FIFO = "orders.fifo"
STANDARD = "orders-standard"
DEDUPLICATION_INTERVAL = 300.0
MIN_MESSAGES = 6
MIN_GROUPS = 2


@check(
    "fifo-queue",
    points=2,
    kind="state",
    statement=f"{FIFO} is a FIFO queue with content-based deduplication, and {STANDARD}, for "
    "contrast, is a standard queue.",
    hint='create_queue(QueueName=name("orders.fifo"), Attributes={"FifoQueue": "true", '
    '"ContentBasedDeduplication": "true"}); the name must end in .fifo.',
)
def test_fifo_queue(aws: Aws) -> None:
    attributes = queue_attributes(aws, aws.name(FIFO))
    wrong = [
        f"{name} is {attributes.get(name, 'unset')}, expected true"
        for name in ("FifoQueue", "ContentBasedDeduplication")
        if str(attributes.get(name)).lower() != "true"
    ]
    try:
        standard = queue_attributes(aws, aws.name(STANDARD))
    except NotAttempted:
        wrong.append(f"there is no standard queue named {aws.name(STANDARD)}")
    else:
        if str(standard.get("FifoQueue")).lower() == "true":
            wrong.append(f"{aws.name(STANDARD)} should be a standard queue")
    if wrong:
        raise CheckFailed("; ".join(wrong))


def _fifo_sends(aws: Aws) -> list[Sent]:
    sent = sends(aws.flow, aws.name(FIFO))
    if not sent:
        raise NotAttempted(f"no message was sent to {aws.name(FIFO)} yet")
    return sent


def _fifo_receives(aws: Aws) -> list[Received]:
    received = receives(aws.flow, aws.name(FIFO))
    if not received:
        raise NotAttempted(f"nothing was received from {aws.name(FIFO)} yet")
    return received


def _groups(sent: list[Sent]) -> dict[str | None, set[str]]:
    """The distinct MessageIds accepted into each message group."""
    groups: dict[str | None, set[str]] = defaultdict(set)
    for s in sent:
        groups[s.group_id].add(s.message_id)
    return groups


@check(
    "grouped-sends",
    points=2,
    kind="flow",
    statement=f"Six or more orders sent to {FIFO}, at least two in each of two MessageGroupIds.",
    hint='Pass MessageGroupId on every send, e.g. "customer-1" and "customer-2".',
)
def test_grouped_sends(aws: Aws) -> None:
    sent = _fifo_sends(aws)
    groups = _groups(sent)
    distinct = {s.message_id for s in sent}
    busy = [g for g, ids in groups.items() if len(ids) >= 2]
    if len(distinct) < MIN_MESSAGES or len(busy) < MIN_GROUPS:
        sizes = ", ".join(f"{g}: {len(ids)}" for g, ids in sorted(groups.items(), key=str))
        raise CheckFailed(
            f"{len(distinct)} distinct message(s) accepted ({sizes}); six or more are needed, "
            "with at least two in each of two groups"
        )


def _dedup_key(sent: Sent) -> str:
    """The deduplication id SQS used: the explicit one, or the SHA-256 of the body."""
    return sent.dedup_id or sha256_hex(sent.body)


@check(
    "dedup-demonstrated",
    points=2,
    kind="flow",
    statement=f"One order sent twice to {FIFO} within five minutes, and delivered only once.",
    hint="Send the same body again (content-based deduplication), or the same "
    "MessageDeduplicationId; then receive everything and count the copies.",
)
def test_dedup_demonstrated(aws: Aws) -> None:
    """Passes when a repeated send (same deduplication id: explicit, or the body's SHA-256) was
    answered with the MessageId of the copy SQS already had — SQS's own word that it is a
    duplicate, so any number of sends, other messages or windows in between count — and that
    message was received. "Delivered only once" follows: SQS keeps one message for the id.
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html
    """
    sent = _fifo_sends(aws)
    by_key: dict[str, list[Sent]] = defaultdict(list)
    for s in sorted(sent, key=lambda s: s.call.started):
        by_key[_dedup_key(s)].append(s)
    repeated = [v for v in by_key.values() if len(v) >= 2]
    if not repeated:
        raise NotAttempted(f"no order was sent twice to {aws.name(FIFO)}")
    answers = Counter(s.message_id for copies in repeated for s in copies)
    duplicates = {message_id for message_id, n in answers.items() if n >= 2}
    if not duplicates:
        late = any(
            later.call.started - earlier.call.started >= DEDUPLICATION_INTERVAL
            for copies in repeated
            for earlier, later in pairwise(copies)
        )
        raise CheckFailed(
            "the repeated order was sent more than five minutes after the first copy: outside "
            "the deduplication interval it is a new message"
            if late
            else "SQS accepted each repeat as a new message (another deduplication id, or "
            "another group with DeduplicationScope messageGroup)"
        )
    if not duplicates & {r.message_id for r in _fifo_receives(aws)}:
        raise CheckFailed(
            "the repeated order was not received; receive the queue's messages to see that only "
            "one copy is delivered"
        )


def _send_order(sent: list[Sent]) -> dict[str, tuple[int, float, int]]:
    """A sortable position for each MessageId: SequenceNumber first, then when SQS answered."""
    order: dict[str, tuple[int, float, int]] = {}
    for index, s in enumerate(sent):
        sequence = int(s.sequence_number) if (s.sequence_number or "").isdigit() else 0
        order.setdefault(s.message_id, (sequence, s.call.ended, index))
    return order


def _first_receipts(flow_receives: list[Received]) -> list[Received]:
    """Each message's first delivery, in the order SQS answered the receives."""
    ordered = sorted(
        enumerate(flow_receives), key=lambda pair: (pair[1].call.ended, pair[1].call.seq, pair[0])
    )
    seen: set[str] = set()
    first = []
    for _, r in ordered:
        if r.message_id not in seen:
            seen.add(r.message_id)
            first.append(r)
    return first


@check(
    "order-preserved",
    points=2,
    kind="flow",
    statement=f"In each of two message groups, {FIFO} delivered the orders in the order they "
    "were sent (two or more orders received per group).",
    hint="Receive all the orders (delete each after processing, or the group stays blocked) "
    "and compare, group by group, with the order you sent them in.",
)
def test_order_preserved(aws: Aws) -> None:
    sent = _fifo_sends(aws)
    received = _fifo_receives(aws)
    position = _send_order(sent)
    group_of = {s.message_id: s.group_id for s in sent}
    seen: dict[str | None, list[str]] = defaultdict(list)
    for r in _first_receipts(received):
        if r.message_id in position:
            seen[group_of[r.message_id]].append(r.message_id)
    for group, ids in seen.items():
        if ids != sorted(ids, key=lambda m: position[m]):
            raise CheckFailed(f"group {group} was received out of the order it was sent in")
    full = [g for g, ids in seen.items() if len(ids) >= 2]
    if len(full) < MIN_GROUPS:
        counts = ", ".join(f"{g}: {len(ids)}" for g, ids in sorted(seen.items(), key=str))
        raise CheckFailed(
            f"orders received per group: {counts}; receive two or more from each of two groups "
            "to see the order per group"
        )


def _deleted_ids(flow: Flow, queue: str, received: list[Received]) -> set[str]:
    """The received messages that were deleted: by one of their receipt handles (DeleteMessage
    or a batch entry), or by a PurgeQueue after they were received (it deletes every message).
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_PurgeQueue.html
    """
    by_handle = {r.receipt_handle: r.message_id for r in received}
    deleted = {
        by_handle[d.receipt_handle]
        for d in deletes(flow, queue)
        if d.ok and d.receipt_handle in by_handle
    }
    purges = [c.seq for c in flow.calls_to("sqs", "PurgeQueue", queue=queue, ok=True)]
    if purges:
        deleted |= {r.message_id for r in received if r.call.seq < max(purges)}
    return deleted


@check(
    "deleted-after-processing",
    points=2,
    kind="flow",
    statement=f"Every order received from {FIFO} was deleted: a FIFO queue does not delete a "
    "message when it is received.",
    hint="Call delete_message with the ReceiptHandle after processing each order (or "
    "delete_message_batch); otherwise it comes back after the visibility timeout.",
)
def test_deleted_after_processing(aws: Aws) -> None:
    received = _fifo_receives(aws)
    ids = {r.message_id for r in received}
    left = ids - _deleted_ids(aws.flow, aws.name(FIFO), received)
    if left:
        raise CheckFailed(
            f"{len(left)} of the {len(ids)} order(s) received were never deleted; they are "
            "delivered again once their visibility timeout ends"
        )
