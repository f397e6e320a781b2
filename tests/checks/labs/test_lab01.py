"""Every check of lab 01 fails on wrong submissions and passes on right ones.

Submissions are made with plain boto3 against a real backend process; the checks read the
backend's state and its server-side flow record, as the grader does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import nbformat
import pytest
from course.backend.process import Backend
from course.checks.api import run_check
from course.checks.catalog import resolve_lab
from course.checks.context import Aws, fetch_flow
from course.flow import Flow
from course.grading.grade import Grade

from tests.checks.labs.account import AccountAws, account_checks
from tests.conftest import ROOT, check_results, make_client, make_resource
from tests.real_account.standin import PREFIX

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


def lab_check(check_id: str) -> Any:
    return next(c for c in resolve_lab("01").checks if c.id == check_id)


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
    class NoAws(Aws):
        def client(self, service: str) -> Any:
            raise AssertionError("a flow check must not reach for resources here")

    real = NoAws(None)
    flow_checks = [c for c in resolve_lab("01").checks if c.kind == "flow"]
    results = [run_check(c, real) for c in flow_checks]
    assert {r.outcome for r in results} == {"not_checkable"}
    assert all(r.max_points == 0 for r in results)


# -- unusual but correct submissions (issue 11): every check passes them
def assert_full_marks(aws: Aws) -> None:
    results = check_results("01", aws)
    assert {k: r.outcome for k, r in results.items()} == dict.fromkeys(results, "passed")
    assert sum(r.points for r in results.values()) == 10


def test_the_resource_api_with_the_deprecated_attribute_names_scores_ten(
    backend: Backend, aws: Aws
) -> None:
    """Queue.send_messages, receive_messages asking AttributeNames=["All"] (the deprecated
    spelling), Message.delete and Queue.purge: the server sees the same requests."""
    queue = make_resource(backend).create_queue(QueueName=QUEUE, Attributes=GOOD_ATTRIBUTES)
    queue.send_messages(Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(people())])
    first = queue.receive_messages(MaxNumberOfMessages=1, AttributeNames=["All"])[0]
    backend.advance_clock(11)
    again = queue.receive_messages(MaxNumberOfMessages=10, AttributeNames=["All"])
    [same] = [m for m in again if m.message_id == first.message_id]
    assert same.attributes["ApproximateReceiveCount"] == "2"
    same.delete()
    queue.purge()
    assert_full_marks(aws)


def test_helpers_threads_and_a_looked_up_url_score_ten(backend: Backend, aws: Aws) -> None:
    """Attributes fixed one at a time after a bare create, the URL from get_queue_url, sends
    from helper threads with their own clients (indented JSON, extra keys), a short-poll receive
    of everything released with a batch, a batch delete, and the purge in its own helper."""
    sqs = make_client(backend, "sqs")
    sqs.create_queue(QueueName=QUEUE)
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    for name, value in GOOD_ATTRIBUTES.items():
        sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value})

    def send(person: dict[str, Any]) -> None:
        body = json.dumps({**person, "city": "Huế"}, indent=2, ensure_ascii=False)
        make_client(backend, "sqs").send_message(QueueUrl=url, MessageBody=body)

    threads = [threading.Thread(target=send, args=(json.loads(b),)) for b in people()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageSystemAttributeNames=["All"]
    )["Messages"]
    sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(got)
        ],
    )
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    handle = again["Messages"][0]["ReceiptHandle"]
    sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "one", "ReceiptHandle": handle}])

    def purge(queue_url: str) -> None:
        make_client(backend, "sqs").purge_queue(QueueUrl=queue_url)

    purge(url)
    assert_full_marks(aws)


def test_cells_run_out_of_order_still_score_ten(sqs: Any, aws: Aws, backend: Backend) -> None:
    """The receive cell run before the send cell (nothing yet), then the cells in order; the
    purge cell run twice a minute apart."""
    url = create(sqs)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    for body in people():
        sqs.send_message(QueueUrl=url, MessageBody=body)
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    backend.advance_clock(11)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert first["MessageId"] in {m["MessageId"] for m in again}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again[0]["ReceiptHandle"])
    sqs.purge_queue(QueueUrl=url)
    backend.advance_clock(61)
    sqs.purge_queue(QueueUrl=url)
    assert_full_marks(aws)


# -- changing the queue, as the lab's text says: set_queue_attributes, or delete and recreate
def test_a_create_with_other_attributes_is_refused_and_set_queue_attributes_fixes_it(
    sqs: Any, aws: Aws
) -> None:
    url = create(sqs, VisibilityTimeout="30")
    with pytest.raises(sqs.exceptions.QueueNameExists):
        create(sqs)  # the lab's text: a bare QueueAlreadyExists, and the old queue stays
    assert outcome(aws, "queue-attributes") == "failed"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "10"})
    assert outcome(aws, "queue-attributes") == "passed"


def test_a_deleted_and_recreated_queue_passes(sqs: Any, aws: Aws) -> None:
    url = create(sqs, MaximumMessageSize="1048576")
    sqs.send_message(QueueUrl=url, MessageBody=people(1)[0])
    sqs.delete_queue(QueueUrl=url)
    url = create(sqs)
    for body in people():
        sqs.send_message(QueueUrl=url, MessageBody=body)
    sqs.purge_queue(QueueUrl=url)
    results = check_results("01", aws)
    for check_id in ("queue-exists", "queue-attributes", "sent-three-json", "kept-the-queue"):
        assert results[check_id].outcome == "passed", check_id


# -- the whole lab run twice within a minute: the second purge is refused
def run_the_solution(sqs: Any, backend: Backend) -> None:
    """Lab 01's solution cells, the visibility wait skipped on the backend's clock."""
    url = create(sqs)
    for body in people():
        sqs.send_message(QueueUrl=url, MessageBody=body)
    count = ["ApproximateReceiveCount"]
    first = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=count)["Messages"][0]
    backend.advance_clock(11)
    again = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=count
    )["Messages"]
    [same] = [m for m in again if m["MessageId"] == first["MessageId"]]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=same["ReceiptHandle"])
    sqs.purge_queue(QueueUrl=url)


def test_a_second_run_within_a_minute_fails_kept_the_queue_and_says_to_wait(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    run_the_solution(sqs, backend)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress):
        run_the_solution(sqs, backend)  # 11 s later: within the purge's 60 seconds
    results = check_results("01", aws)
    assert results["purged"].outcome == "passed"  # the first run's purge succeeded
    kept = results["kept-the-queue"]
    assert kept.outcome == "failed"
    assert "2 message(s)" in kept.message and "PurgeQueueInProgress" in kept.message
    assert "wait a minute" in kept.message and "purge cell again" in kept.message
    assert "wait a minute" in lab_check("kept-the-queue").hint
    backend.advance_clock(60)  # as the message says: wait, then run the purge cell again
    sqs.purge_queue(QueueUrl=sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"])
    assert outcome(aws, "kept-the-queue") == "passed"


def test_a_refused_purge_alone_fails_purged_and_says_to_wait(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    """The same refusal when the record holds no successful purge (the flow is read without it)."""
    url = create(sqs)
    sqs.purge_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress):
        sqs.purge_queue(QueueUrl=url)
    recorded = fetch_flow(aws.endpoint_url or "")
    refused_only = Flow([c for c in recorded if c.action != "PurgeQueue" or not c.ok])
    view = Aws(aws.endpoint_url, flow_loader=lambda: refused_only)
    result = run_check(lab_check("purged"), view)
    assert result.outcome == "failed"
    assert "PurgeQueueInProgress" in result.message and "wait a minute" in result.message


@pytest.mark.slow
def test_the_solution_run_twice_in_one_kernel_ends_and_says_to_wait(
    grade_cells: Callable[..., Grade],
) -> None:
    """ "Run All" twice within a minute, as a learner may: the purge cell catches
    PurgeQueueInProgress and the notebook runs to its end; kept-the-queue fails and says to wait a
    minute and run the purge cell again."""
    solution = nbformat.read(ROOT / "solutions" / "01-sqs-basics.ipynb", as_version=4)
    cells = [c.source for c in solution.cells if c.cell_type == "code" and "check(" not in c.source]
    grade = grade_cells("01", cells + cells)
    assert not grade.execution.problems, grade.execution.summary
    results = {r.id.rsplit(".", 1)[-1]: r for r in grade.results}
    assert results["purged"].outcome == "passed"
    assert results["kept-the-queue"].outcome == "failed"
    assert "PurgeQueueInProgress" in results["kept-the-queue"].message
    assert "wait a minute" in results["kept-the-queue"].message
    assert grade.score == 9


# -- on a learner's real account (issue 15): the prefixed names, read calls only
def test_on_an_account_the_prefixed_queue_passes_with_reads_only(
    sqs: Any, backend: Backend
) -> None:
    """The solution's end on an account with COURSE_PREFIX ana-: ana-lab-standard-queue, empty."""
    sqs.create_queue(QueueName=f"{PREFIX}{QUEUE}", Attributes=GOOD_ATTRIBUTES)
    results, writes = account_checks("01", AccountAws(backend, prefix=PREFIX))
    assert {r.outcome for r in results.values() if r.kind == "state"} == {"passed"}
    assert {r.outcome for r in results.values() if r.kind == "flow"} == {"not_checkable"}
    assert not writes


def test_on_an_account_of_one_s_own_an_empty_prefix_finds_the_plain_name(
    sqs: Any, backend: Backend
) -> None:
    """COURSE_PREFIX set empty (an account of one's own): the plain name is the learner's."""
    create(sqs)
    results, _ = account_checks("01", AccountAws(backend, prefix=""))
    assert {results[c].outcome for c in ("queue-exists", "queue-attributes", "kept-the-queue")} == {
        "passed"
    }


def test_on_an_account_an_unprefixed_or_another_learner_s_queue_is_not_found(
    sqs: Any, backend: Backend
) -> None:
    create(sqs)
    sqs.create_queue(QueueName=f"binh-{QUEUE}", Attributes=GOOD_ATTRIBUTES)
    results, _ = account_checks("01", AccountAws(backend, prefix=PREFIX))
    assert results["queue-exists"].outcome == "not_attempted"
    assert f"{PREFIX}{QUEUE}" in results["queue-exists"].message


def test_on_an_account_wrong_attributes_and_messages_left_fail(sqs: Any, backend: Backend) -> None:
    url = sqs.create_queue(QueueName=f"{PREFIX}{QUEUE}", Attributes={"VisibilityTimeout": "30"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=url, MessageBody=people(1)[0])
    account = AccountAws(backend, prefix=PREFIX)
    results, writes = account_checks("01", account)
    assert results["queue-attributes"].outcome == "failed"
    assert results["kept-the-queue"].outcome == "failed"
    assert "60 seconds" in results["kept-the-queue"].message
    assert not writes
