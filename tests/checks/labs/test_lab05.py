"""Every check of lab 05 passes on right submissions and fails on wrong ones.

Submissions are plain boto3 (client and resource API, single calls and batches, threads) against
a real backend process; the checks read its state and server-side flow, as the grader does.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from course.backend.process import Backend
from course.checks.api import run_check
from course.checks.catalog import resolve_lab
from course.checks.context import Aws
from course.flow import ApiCall, Flow

from tests.checks.labs.account import AccountAws, account_checks
from tests.conftest import check_results, make_resource
from tests.real_account.standin import PREFIX

FIFO, STANDARD = "orders.fifo", "orders-standard"
FIFO_ATTRIBUTES = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
ORDERS = [("alice", 1), ("bob", 1), ("alice", 2), ("bob", 2), ("alice", 3), ("bob", 3)]


def outcome(aws: Aws, check_id: str) -> str:
    return check_results("05", aws)[check_id].outcome


def body(customer: str, n: int) -> str:
    return json.dumps({"customer": customer, "order": n})


def make_queues(sqs: Any, **fifo_attributes: str) -> str:
    sqs.create_queue(QueueName=STANDARD)
    attributes = {**FIFO_ATTRIBUTES, **fifo_attributes}
    return sqs.create_queue(QueueName=FIFO, Attributes=attributes)["QueueUrl"]


def send_orders(sqs: Any, url: str, orders: list[tuple[str, int]] = ORDERS) -> None:
    for customer, n in orders:
        sqs.send_message(QueueUrl=url, MessageBody=body(customer, n), MessageGroupId=customer)


def consume(sqs: Any, url: str, delete: bool = True, batch: int = 10) -> list[str]:
    """Receive (and delete) until nothing is left; the bodies in the order received."""
    got = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=batch, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return got
        for message in messages:
            got.append(message["Body"])
            if delete:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def resource(backend: Backend) -> Any:
    return make_resource(backend)


def test_an_untouched_backend_attempts_nothing(aws: Aws) -> None:
    assert {r.outcome for r in check_results("05", aws).values()} == {"not_attempted"}


def test_the_whole_lab_scores_ten(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url)
    sqs.send_message(QueueUrl=url, MessageBody=body("alice", 1), MessageGroupId="alice")
    consume(sqs, url)
    results = check_results("05", aws)
    assert {k: r.outcome for k, r in results.items()} == dict.fromkeys(results, "passed")
    assert sum(r.points for r in results.values()) == 10


# -- fifo-queue
def test_fifo_queue_with_the_client(sqs: Any, aws: Aws) -> None:
    make_queues(sqs)
    assert outcome(aws, "fifo-queue") == "passed"


def test_fifo_queue_with_the_resource_api(backend: Backend, aws: Aws) -> None:
    sqs = resource(backend)
    sqs.create_queue(QueueName=FIFO, Attributes=FIFO_ATTRIBUTES)
    sqs.create_queue(QueueName=STANDARD, Attributes={"VisibilityTimeout": "30"})
    assert outcome(aws, "fifo-queue") == "passed"


def test_fifo_queue_without_content_based_deduplication_fails(sqs: Any, aws: Aws) -> None:
    make_queues(sqs, ContentBasedDeduplication="false")
    result = check_results("05", aws)["fifo-queue"]
    assert (result.outcome, "ContentBasedDeduplication" in result.message) == ("failed", True)


def test_fifo_queue_without_the_standard_one_fails(sqs: Any, aws: Aws) -> None:
    sqs.create_queue(QueueName=FIFO, Attributes=FIFO_ATTRIBUTES)
    result = check_results("05", aws)["fifo-queue"]
    assert (result.outcome, STANDARD in result.message) == ("failed", True)


def test_a_standard_queue_cannot_be_named_fifo(sqs: Any, aws: Aws) -> None:
    with pytest.raises(sqs.exceptions.ClientError):
        sqs.create_queue(QueueName=FIFO)
    sqs.create_queue(QueueName="orders", Attributes={})
    assert outcome(aws, "fifo-queue") == "not_attempted"


def test_fifo_queue_spelled_true_and_deduplication_set_later_passes(sqs: Any, aws: Aws) -> None:
    """ "True" is accepted for a boolean attribute, and ContentBasedDeduplication may be turned
    on after the queue was created (FifoQueue may not)."""
    sqs.create_queue(QueueName=STANDARD)
    url = sqs.create_queue(QueueName=FIFO, Attributes={"FifoQueue": "True"})["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "True"})
    assert outcome(aws, "fifo-queue") == "passed"


# -- grouped-sends
def test_six_single_sends_in_two_groups_pass(sqs: Any, aws: Aws) -> None:
    send_orders(sqs, make_queues(sqs))
    assert outcome(aws, "grouped-sends") == "passed"


def test_batches_in_two_groups_pass(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    entries = [{"Id": f"{c}{n}", "MessageBody": body(c, n), "MessageGroupId": c} for c, n in ORDERS]
    sqs.send_message_batch(QueueUrl=url, Entries=entries[:3])
    sqs.send_message_batch(QueueUrl=url, Entries=entries[3:])
    assert outcome(aws, "grouped-sends") == "passed"


def test_batches_with_explicit_ids_from_one_thread_per_group_pass(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    """Resource API (Queue.send_messages), explicit MessageDeduplicationIds, a helper per group
    run in its own thread; then a consumer deleting in order."""
    queue = resource(backend).Queue(make_queues(sqs, ContentBasedDeduplication="false"))

    def send_group(customer: str) -> None:
        queue.send_messages(
            Entries=[
                {
                    "Id": str(n),
                    "MessageBody": body(customer, n),
                    "MessageGroupId": customer,
                    "MessageDeduplicationId": f"{customer}-{n}",
                }
                for n in (1, 2, 3)
            ]
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(send_group, ("alice", "bob")))
    queue.send_message(
        MessageBody="anything", MessageGroupId="alice", MessageDeduplicationId="alice-2"
    )
    got = consume(sqs, queue.url, batch=1)
    assert len(got) == 6
    outcomes = check_results("05", aws)
    assert {k: outcomes[k].outcome for k in outcomes if k != "fifo-queue"} == dict.fromkeys(
        [k for k in outcomes if k != "fifo-queue"], "passed"
    )


def test_six_sends_in_one_group_fail(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url, [("alice", n) for n in range(6)])
    assert outcome(aws, "grouped-sends") == "failed"


def test_five_distinct_orders_and_a_duplicate_fail(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url, [*ORDERS[:5], ORDERS[0]])  # six sends, five messages
    result = check_results("05", aws)["grouped-sends"]
    assert (result.outcome, "5 distinct" in result.message) == ("failed", True)


def test_orders_sent_to_the_standard_queue_do_not_count(sqs: Any, aws: Aws) -> None:
    make_queues(sqs)
    standard = sqs.get_queue_url(QueueName=STANDARD)["QueueUrl"]
    for customer, n in ORDERS:
        sqs.send_message(QueueUrl=standard, MessageBody=body(customer, n))
    assert outcome(aws, "grouped-sends") == "not_attempted"


# -- dedup-demonstrated
def test_the_same_content_twice_delivered_once_passes(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url)
    sqs.send_message(QueueUrl=url, MessageBody=body("bob", 2), MessageGroupId="bob")
    assert consume(sqs, url).count(body("bob", 2)) == 1
    assert outcome(aws, "dedup-demonstrated") == "passed"


def test_the_same_explicit_id_in_a_batch_passes(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    entries = [
        {
            "Id": "a",
            "MessageBody": "pay 10",
            "MessageGroupId": "alice",
            "MessageDeduplicationId": "p1",
        },
        {
            "Id": "b",
            "MessageBody": "pay 10 (retry)",
            "MessageGroupId": "alice",
            "MessageDeduplicationId": "p1",
        },
    ]
    sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert consume(sqs, url) == ["pay 10"]
    assert outcome(aws, "dedup-demonstrated") == "passed"


def test_the_same_content_after_five_minutes_fails(sqs: Any, aws: Aws, backend: Backend) -> None:
    url = make_queues(sqs)
    sqs.send_message(QueueUrl=url, MessageBody=body("bob", 1), MessageGroupId="bob")
    backend.advance_clock(301)
    sqs.send_message(QueueUrl=url, MessageBody=body("bob", 1), MessageGroupId="bob")
    assert consume(sqs, url).count(body("bob", 1)) == 2
    result = check_results("05", aws)["dedup-demonstrated"]
    assert (result.outcome, "five minutes" in result.message) == ("failed", True)


def test_a_duplicate_of_a_resend_after_the_window_passes(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    """Sent, sent again after five minutes (a new message), then a retry of that one within the
    window: SQS answers the retry with the second copy's MessageId. (The check used to measure
    from the very first send only, and failed this.)"""
    url = make_queues(sqs)
    sqs.send_message(QueueUrl=url, MessageBody=body("bob", 1), MessageGroupId="bob")
    backend.advance_clock(301)
    second = sqs.send_message(QueueUrl=url, MessageBody=body("bob", 1), MessageGroupId="bob")
    retry = sqs.send_message(QueueUrl=url, MessageBody=body("bob", 1), MessageGroupId="bob")
    assert retry["MessageId"] == second["MessageId"]
    consume(sqs, url)
    assert outcome(aws, "dedup-demonstrated") == "passed"


def test_the_same_body_in_two_groups_with_group_scope_is_no_duplicate(sqs: Any, aws: Aws) -> None:
    """With DeduplicationScope messageGroup the same body in another group is a new message."""
    url = make_queues(
        sqs, DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId"
    )
    for customer in ("alice", "bob"):
        sqs.send_message(QueueUrl=url, MessageBody="same order", MessageGroupId=customer)
    assert len(consume(sqs, url)) == 2
    result = check_results("05", aws)["dedup-demonstrated"]
    assert (result.outcome, "new message" in result.message) == ("failed", True)


def test_a_duplicate_never_received_fails(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url)
    sqs.send_message(QueueUrl=url, MessageBody=body("bob", 3), MessageGroupId="bob")
    sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)  # alice's first order only
    assert outcome(aws, "dedup-demonstrated") == "failed"


def test_a_duplicate_on_the_standard_queue_does_not_count(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url)
    standard = sqs.get_queue_url(QueueName=STANDARD)["QueueUrl"]
    for _ in range(2):
        sqs.send_message(QueueUrl=standard, MessageBody=body("bob", 1))
    consume(sqs, url)
    assert outcome(aws, "dedup-demonstrated") == "not_attempted"


# -- order-preserved
def test_one_consumer_in_batches_passes(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url)
    consume(sqs, url, batch=10)
    assert outcome(aws, "order-preserved") == "passed"


def test_one_consumer_thread_per_group_passes(sqs: Any, aws: Aws, backend: Backend) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url)
    queue = resource(backend).Queue(url)

    def worker() -> None:
        for _ in range(6):
            for message in queue.receive_messages(MaxNumberOfMessages=1, WaitTimeSeconds=0):
                message.delete()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcome(aws, "order-preserved") == "passed"


def test_receiving_one_group_only_fails(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url, [("alice", n) for n in range(3)] + [("bob", 1)])
    consume(sqs, url)
    result = check_results("05", aws)["order-preserved"]
    assert (result.outcome, "two groups" in result.message) == ("failed", True)


def test_receiving_without_deleting_sees_one_order_per_group_and_fails(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url)
    consume(sqs, url, delete=False, batch=1)  # each group blocked after its first order
    assert outcome(aws, "order-preserved") == "failed"


def test_an_out_of_order_record_fails() -> None:
    """A correct FIFO queue cannot deliver out of order, so this record is written by hand:
    what the check would see from a queue (or a reading of the flow) that broke the order."""

    def call(seq: int, action: str, request: dict[str, Any], response: dict[str, Any]) -> ApiCall:
        url = f"http://x/123456789012/{FIFO}"
        return ApiCall(
            seq, "sqs", action, "us-east-1", seq, seq, 200, {"QueueUrl": url, **request}, response
        )

    sends = [
        call(
            i,
            "SendMessage",
            {"MessageBody": f"{g}{n}", "MessageGroupId": g},
            {"MessageId": f"{g}{n}", "SequenceNumber": str(10 + i)},
        )
        for i, (g, n) in enumerate([("a", 1), ("a", 2), ("b", 1), ("b", 2)], start=1)
    ]
    order = ["a2", "a1", "b1", "b2"]
    received = [
        call(
            10 + i,
            "ReceiveMessage",
            {},
            {"Messages": [{"MessageId": m, "Body": m, "ReceiptHandle": f"h{m}"}]},
        )
        for i, m in enumerate(order)
    ]
    aws = Aws("http://unused", flow_loader=lambda: Flow([*sends, *received]))
    result = run_check(next(c for c in resolve_lab("05").checks if c.id == "order-preserved"), aws)
    assert (result.outcome, "group a" in result.message) == ("failed", True)


# -- deleted-after-processing
def test_deleting_each_message_passes(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url)
    consume(sqs, url)
    assert outcome(aws, "deleted-after-processing") == "passed"


def test_deleting_in_batches_with_the_resource_api_passes(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url)
    queue = resource(backend).Queue(url)
    while messages := queue.receive_messages(MaxNumberOfMessages=10, WaitTimeSeconds=0):
        queue.delete_messages(
            Entries=[
                {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)
            ]
        )
    assert outcome(aws, "deleted-after-processing") == "passed"


def test_purging_what_was_received_passes(sqs: Any, aws: Aws) -> None:
    """PurgeQueue deletes every message, the ones received before it included."""
    url = make_queues(sqs)
    send_orders(sqs, url)
    while consume(sqs, url, delete=False):
        sqs.purge_queue(QueueUrl=url)
    assert outcome(aws, "deleted-after-processing") == "passed"


def test_a_message_received_after_the_purge_still_needs_deleting(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url, ORDERS[:1])
    consume(sqs, url, delete=False)
    sqs.purge_queue(QueueUrl=url)
    send_orders(sqs, url, ORDERS[1:2])
    consume(sqs, url, delete=False)
    result = check_results("05", aws)["deleted-after-processing"]
    assert (result.outcome, "1 of the 2" in result.message) == ("failed", True)


def test_trusting_the_notes_and_not_deleting_fails(sqs: Any, aws: Aws, backend: Backend) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url)
    first = consume(sqs, url, delete=False)
    backend.advance_clock(31)  # the default visibility timeout: they come back
    assert consume(sqs, url, delete=False) == first
    result = check_results("05", aws)["deleted-after-processing"]
    assert (result.outcome, "never deleted" in result.message) == ("failed", True)


def test_deleting_with_a_made_up_handle_fails(sqs: Any, aws: Aws) -> None:
    url = make_queues(sqs)
    send_orders(sqs, url, ORDERS[:1])
    sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="made-up")
    assert outcome(aws, "deleted-after-processing") == "failed"


def test_flow_checks_are_not_checkable_on_a_real_account() -> None:
    class NoAws(Aws):
        def client(self, service: str) -> Any:
            raise AssertionError("a flow check must not reach for resources here")

    flow_checks = [c for c in resolve_lab("05").checks if c.kind == "flow"]
    results = [run_check(c, NoAws(None)) for c in flow_checks]
    assert {r.outcome for r in results} == {"not_checkable"}


# -- on a learner's real account (issue 15): the prefixed queues, read calls only
@pytest.mark.parametrize(
    ("prefix", "fifo", "standard", "attributes", "expected"),
    [
        (PREFIX, f"{PREFIX}{FIFO}", f"{PREFIX}{STANDARD}", FIFO_ATTRIBUTES, "passed"),
        ("", FIFO, STANDARD, FIFO_ATTRIBUTES, "passed"),  # an account of one's own
        (PREFIX, f"{PREFIX}{FIFO}", f"{PREFIX}{STANDARD}", {"FifoQueue": "true"}, "failed"),
        (PREFIX, FIFO, STANDARD, FIFO_ATTRIBUTES, "not_attempted"),  # made without name()
    ],
    ids=["prefixed", "no-prefix", "no-content-dedup", "unprefixed"],
)
def test_on_an_account_fifo_queue_reads_the_prefixed_queues(
    sqs: Any,
    backend: Backend,
    prefix: str,
    fifo: str,
    standard: str,
    attributes: dict[str, str],
    expected: str,
) -> None:
    sqs.create_queue(QueueName=standard)
    sqs.create_queue(QueueName=fifo, Attributes=attributes)
    account = AccountAws(backend, prefix=prefix)
    results, writes = account_checks("05", account)
    assert results["fifo-queue"].outcome == expected, results["fifo-queue"].message
    assert {r.outcome for r in results.values() if r.kind == "flow"} == {"not_checkable"}
    assert not writes
