"""Every check of lab 01 fails on wrong submissions and passes on right ones.

Submissions are made with plain boto3 against a real backend process; the checks read the
backend's state and its server-side flow record, as the grader does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from course.backend.process import Backend
from course.checks.context import Aws

from tests.conftest import check_results

QUEUE = "lab-standard-queue"
GOOD_ATTRIBUTES = {
    "VisibilityTimeout": "10",
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "MaximumMessageSize": "262144",
    "ReceiveMessageWaitTimeSeconds": "5",
}


def people(n: int = 3) -> list[str]:
    return [json.dumps({"name": f"p{i}", "age": 20 + i}) for i in range(n)]


def create(sqs: Any, **overrides: str) -> str:
    return sqs.create_queue(QueueName=QUEUE, Attributes={**GOOD_ATTRIBUTES, **overrides})[
        "QueueUrl"
    ]


def outcome(aws: Aws, check_id: str) -> str:
    return check_results("01", aws)[check_id].outcome


def test_an_untouched_backend_attempts_nothing(aws: Aws) -> None:
    results = check_results("01", aws)
    assert {r.outcome for r in results.values()} == {"not_attempted"}


# -- queue-exists
def test_queue_exists_passes_for_the_named_queue(sqs: Any, aws: Aws) -> None:
    create(sqs)
    assert outcome(aws, "queue-exists") == "passed"


@pytest.mark.parametrize(
    "name", ["lab-standard-queue.fifo", "lab-standard-queue-2", "Lab-Standard-Queue"]
)
def test_queue_exists_is_not_attempted_for_another_name(sqs: Any, aws: Aws, name: str) -> None:
    attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
    sqs.create_queue(QueueName=name, Attributes=attributes)
    assert outcome(aws, "queue-exists") == "not_attempted"


# -- queue-attributes
def test_queue_attributes_pass_when_set_at_creation(sqs: Any, aws: Aws) -> None:
    create(sqs)
    assert outcome(aws, "queue-attributes") == "passed"


def test_queue_attributes_pass_when_fixed_later(sqs: Any, aws: Aws) -> None:
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes=GOOD_ATTRIBUTES)
    assert outcome(aws, "queue-attributes") == "passed"


@pytest.mark.parametrize(
    "overrides",
    [
        {"VisibilityTimeout": "30"},
        {"MessageRetentionPeriod": "1209600"},
        {"MaximumMessageSize": "1048576"},
    ],
)
def test_queue_attributes_fail_and_name_the_wrong_one(
    sqs: Any, aws: Aws, overrides: dict[str, str]
) -> None:
    create(sqs, **overrides)
    result = check_results("01", aws)["queue-attributes"]
    assert result.outcome == "failed"
    assert next(iter(overrides)) in result.message


# -- sent-three-json
def test_three_single_sends_pass(sqs: Any, aws: Aws) -> None:
    url = create(sqs)
    for body in people():
        sqs.send_message(QueueUrl=url, MessageBody=body)
    assert outcome(aws, "sent-three-json") == "passed"


def test_one_batch_of_three_passes(sqs: Any, aws: Aws) -> None:
    url = create(sqs)
    entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(people())]
    sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert outcome(aws, "sent-three-json") == "passed"


@pytest.mark.parametrize(
    "bodies",
    [
        people(2),
        ["An, 21", "Binh, 34", "Chi, 28"],
        [json.dumps({"name": "An"})] * 3,
        [json.dumps(["An", 21])] * 3,
    ],
    ids=["two-only", "not-json", "no-age", "json-list"],
)
def test_wrong_messages_fail(sqs: Any, aws: Aws, bodies: list[str]) -> None:
    url = create(sqs)
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    assert outcome(aws, "sent-three-json") == "failed"


def test_messages_sent_to_another_queue_do_not_count(sqs: Any, aws: Aws) -> None:
    create(sqs)
    other = sqs.create_queue(QueueName="elsewhere")["QueueUrl"]
    for body in people():
        sqs.send_message(QueueUrl=other, MessageBody=body)
    assert outcome(aws, "sent-three-json") == "not_attempted"


# -- saw-redelivery
def test_redelivery_after_the_visibility_timeout_passes(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    url = create(sqs)
    sqs.send_message(QueueUrl=url, MessageBody=people(1)[0])
    sqs.receive_message(QueueUrl=url)
    backend.advance_clock(11)
    sqs.receive_message(QueueUrl=url)  # without asking for the count: the same MessageId twice
    assert outcome(aws, "saw-redelivery") == "passed"


def test_redelivery_seen_through_the_receive_count_passes(sqs: Any, aws: Aws) -> None:
    url = create(sqs)
    sqs.send_message(QueueUrl=url, MessageBody=people(1)[0])
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
    )
    again = sqs.receive_message(
        QueueUrl=url, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    )
    assert again["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert outcome(aws, "saw-redelivery") == "passed"


def test_receiving_three_different_messages_once_fails(sqs: Any, aws: Aws) -> None:
    url = create(sqs)
    for body in people():
        sqs.send_message(QueueUrl=url, MessageBody=body)
    for _ in range(3):
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    assert outcome(aws, "saw-redelivery") == "failed"


def test_receiving_before_the_timeout_expires_fails(sqs: Any, aws: Aws, backend: Backend) -> None:
    url = create(sqs)
    sqs.send_message(QueueUrl=url, MessageBody=people(1)[0])
    sqs.receive_message(QueueUrl=url)
    backend.advance_clock(5)  # still hidden: the second receive gets nothing (after its long poll)
    sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    assert outcome(aws, "saw-redelivery") == "failed"


# -- deleted-one
def test_delete_with_the_receipt_handle_passes(sqs: Any, aws: Aws) -> None:
    url = create(sqs)
    sqs.send_message(QueueUrl=url, MessageBody=people(1)[0])
    message = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert outcome(aws, "deleted-one") == "passed"


def test_delete_in_a_batch_passes(sqs: Any, aws: Aws) -> None:
    url = create(sqs)
    sqs.send_message(QueueUrl=url, MessageBody=people(1)[0])
    message = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": "1", "ReceiptHandle": message["ReceiptHandle"]}]
    )
    assert outcome(aws, "deleted-one") == "passed"


def test_delete_with_a_made_up_handle_fails(sqs: Any, aws: Aws) -> None:
    url = create(sqs)
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-receipt-handle")
    assert outcome(aws, "deleted-one") == "failed"


def test_delete_with_the_message_id_instead_of_the_handle_fails(sqs: Any, aws: Aws) -> None:
    url = create(sqs)
    sent = sqs.send_message(QueueUrl=url, MessageBody=people(1)[0])
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=sent["MessageId"])
    assert outcome(aws, "deleted-one") == "failed"


# -- purged and kept-the-queue
def test_purge_keeps_an_empty_queue(sqs: Any, aws: Aws) -> None:
    url = create(sqs)
    for body in people():
        sqs.send_message(QueueUrl=url, MessageBody=body)
    sqs.purge_queue(QueueUrl=url)
    results = check_results("01", aws)
    assert results["purged"].outcome == "passed"
    assert results["kept-the-queue"].outcome == "passed"


def test_deleting_the_queue_instead_of_purging_fails_both(sqs: Any, aws: Aws) -> None:
    url = create(sqs)
    for body in people():
        sqs.send_message(QueueUrl=url, MessageBody=body)
    sqs.delete_queue(QueueUrl=url)
    results = check_results("01", aws)
    assert results["purged"].outcome == "not_attempted"
    assert results["kept-the-queue"].outcome == "failed"
    assert "deleted" in results["kept-the-queue"].message


def test_messages_left_in_the_queue_fail_kept_the_queue(sqs: Any, aws: Aws) -> None:
    url = create(sqs)
    for body in people():
        sqs.send_message(QueueUrl=url, MessageBody=body)
    results = check_results("01", aws)
    assert results["kept-the-queue"].outcome == "failed"
    assert "3 message" in results["kept-the-queue"].message


def test_a_purge_of_another_queue_does_not_count(sqs: Any, aws: Aws) -> None:
    create(sqs)
    other = sqs.create_queue(QueueName="other-queue")["QueueUrl"]
    sqs.purge_queue(QueueUrl=other)
    assert outcome(aws, "purged") == "not_attempted"


def test_a_failed_purge_fails(sqs: Any, aws: Aws, backend: Backend) -> None:
    url = create(sqs)
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.purge_queue(QueueUrl=url)
    assert outcome(aws, "purged") == "failed"


def test_flow_checks_are_not_checkable_on_a_real_account() -> None:
    from course.checks.api import run_check
    from course.checks.catalog import resolve_lab

    class NoAws(Aws):
        def client(self, service: str) -> Any:
            raise AssertionError("a flow check must not reach for resources here")

    real = NoAws(None)
    flow_checks = [c for c in resolve_lab("01").checks if c.kind == "flow"]
    results = [run_check(c, real) for c in flow_checks]
    assert {r.outcome for r in results} == {"not_checkable"}
    assert all(r.max_points == 0 for r in results)
