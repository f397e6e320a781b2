"""Every check of lab 04 passes on right submissions and fails on wrong ones.

Submissions are plain boto3 (client and resource API) against a real backend process; visibility
timeouts are skipped by advancing the backend's clock, never by sleeping.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from course.backend.process import Backend
from course.checks.api import run_check
from course.checks.catalog import resolve_lab
from course.checks.context import Aws

from tests.checks.labs.account import AccountAws, account_checks
from tests.conftest import check_results, make_client, make_resource
from tests.real_account.standin import PREFIX

MAIN, DLQ = "main-queue", "dead-letter-queue"
COUNT = ["ApproximateReceiveCount"]


def outcome(aws: Aws, check_id: str) -> str:
    return check_results("04", aws)[check_id].outcome


def arn_of(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def make_queues(
    sqs: Any, max_receives: Any = "5", target: str | None = None, **overrides: str
) -> tuple[str, str]:
    """The lab's two queues; ``target`` sends the redrive policy to another queue instead."""
    dlq = sqs.create_queue(QueueName=DLQ)["QueueUrl"]
    target_url = sqs.create_queue(QueueName=target)["QueueUrl"] if target else dlq
    policy = {"deadLetterTargetArn": arn_of(sqs, target_url), "maxReceiveCount": max_receives}
    attributes = {
        "VisibilityTimeout": "10",
        "ReceiveMessageWaitTimeSeconds": "5",
        "RedrivePolicy": json.dumps(policy),
        **overrides,
    }
    return sqs.create_queue(QueueName=MAIN, Attributes=attributes)["QueueUrl"], dlq


def receive_times(sqs: Any, backend: Backend, url: str, times: int, how: str = "clock") -> str:
    """Receive one message ``times`` times without deleting it; returns its MessageId.

    ``how`` lets it become visible again: "clock" waits out the 10 s timeout (on the backend's
    clock), "release" sets its visibility to 0, "zero" receives with VisibilityTimeout 0.
    """
    message_id = ""
    for _ in range(times):
        kwargs: dict[str, Any] = {"VisibilityTimeout": 0} if how == "zero" else {}
        message = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, **kwargs
        )["Messages"][0]
        message_id = message["MessageId"]
        if how == "clock":
            backend.advance_clock(11)
        elif how == "release":
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    return message_id


def dead_letter(sqs: Any, backend: Backend, how: str = "clock") -> tuple[str, str, str]:
    """The notes' Lab 2 up to step 5: send, five receives, the sixth poll finds nothing."""
    main, dlq = make_queues(sqs)
    sqs.send_message(QueueUrl=main, MessageBody=json.dumps({"name": "viettu"}))
    message_id = receive_times(sqs, backend, main, 5, how)
    assert "Messages" not in sqs.receive_message(QueueUrl=main, WaitTimeSeconds=0)
    return main, dlq, message_id


def from_dlq(sqs: Any, dlq: str, **kwargs: Any) -> dict[str, Any]:
    return sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0, **kwargs)["Messages"][0]


def test_an_untouched_backend_attempts_nothing(aws: Aws) -> None:
    assert {r.outcome for r in check_results("04", aws).values()} == {"not_attempted"}


def test_the_whole_lab_with_a_redrive_scores_ten(sqs: Any, aws: Aws, backend: Backend) -> None:
    _, dlq, _ = dead_letter(sqs, backend, how="release")
    copy = from_dlq(sqs, dlq, MessageSystemAttributeNames=COUNT)
    sqs.change_message_visibility(
        QueueUrl=dlq, ReceiptHandle=copy["ReceiptHandle"], VisibilityTimeout=0
    )
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))
    results = check_results("04", aws)
    assert {k: r.outcome for k, r in results.items()} == dict.fromkeys(results, "passed")
    assert sum(r.points for r in results.values()) == 10


# -- dlq-exists
def test_dlq_exists_with_the_client(sqs: Any, aws: Aws) -> None:
    sqs.create_queue(QueueName=DLQ)
    assert outcome(aws, "dlq-exists") == "passed"


def test_dlq_exists_with_the_resource_api(backend: Backend, aws: Aws) -> None:
    resource = make_resource(backend)
    resource.create_queue(QueueName=DLQ)
    assert outcome(aws, "dlq-exists") == "passed"


@pytest.mark.parametrize("name", ["dead-letter", "Dead-Letter-Queue", "dlq"])
def test_dlq_with_another_name_is_not_attempted(sqs: Any, aws: Aws, name: str) -> None:
    sqs.create_queue(QueueName=name)
    assert outcome(aws, "dlq-exists") == "not_attempted"


def test_a_deleted_dlq_is_not_there(sqs: Any, aws: Aws) -> None:
    sqs.delete_queue(QueueUrl=sqs.create_queue(QueueName=DLQ)["QueueUrl"])
    assert outcome(aws, "dlq-exists") == "not_attempted"


# -- redrive-policy
def test_redrive_policy_at_creation(sqs: Any, aws: Aws) -> None:
    make_queues(sqs)
    assert outcome(aws, "redrive-policy") == "passed"


def test_redrive_policy_set_later_with_a_number(sqs: Any, aws: Aws) -> None:
    dlq = sqs.create_queue(QueueName=DLQ)["QueueUrl"]
    main = sqs.create_queue(QueueName=MAIN)["QueueUrl"]
    policy = json.dumps({"maxReceiveCount": 5, "deadLetterTargetArn": arn_of(sqs, dlq)})
    sqs.set_queue_attributes(
        QueueUrl=main,
        Attributes={
            "RedrivePolicy": policy,
            "VisibilityTimeout": "10",
            "ReceiveMessageWaitTimeSeconds": "5",
        },
    )
    assert outcome(aws, "redrive-policy") == "passed"


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"max_receives": "3"}, "maxReceiveCount"),
        ({"target": "another-dlq"}, "deadLetterTargetArn"),
        ({"VisibilityTimeout": "30"}, "VisibilityTimeout"),
        ({"ReceiveMessageWaitTimeSeconds": "0"}, "ReceiveMessageWaitTimeSeconds"),
    ],
)
def test_a_wrong_redrive_setup_fails_and_says_what(
    sqs: Any, aws: Aws, kwargs: dict[str, str], named: str
) -> None:
    make_queues(sqs, **kwargs)
    result = check_results("04", aws)["redrive-policy"]
    assert result.outcome == "failed"
    assert named in result.message


def test_no_redrive_policy_fails(sqs: Any, aws: Aws) -> None:
    sqs.create_queue(QueueName=DLQ)
    sqs.create_queue(
        QueueName=MAIN, Attributes={"VisibilityTimeout": "10", "ReceiveMessageWaitTimeSeconds": "5"}
    )
    result = check_results("04", aws)["redrive-policy"]
    assert (result.outcome, "no RedrivePolicy" in result.message) == ("failed", True)


# -- received-five-times
@pytest.mark.parametrize("how", ["clock", "release", "zero"])
def test_five_receives_pass_however_the_message_came_back(
    sqs: Any, aws: Aws, backend: Backend, how: str
) -> None:
    main, _ = make_queues(sqs)
    sqs.send_message(QueueUrl=main, MessageBody='{"name": "An"}')
    receive_times(sqs, backend, main, 5, how)
    assert outcome(aws, "received-five-times") == "passed"


def test_five_receives_by_consumer_threads_pass(sqs: Any, aws: Aws, backend: Backend) -> None:
    main, _ = make_queues(sqs)
    sqs.send_message(QueueUrl=main, MessageBody='{"name": "An"}')

    def consumer() -> None:
        client = make_client(backend, "sqs")
        client.receive_message(QueueUrl=main, VisibilityTimeout=0, WaitTimeSeconds=0)

    for _ in range(5):  # five consumers one after the other, each in its own thread
        thread = threading.Thread(target=consumer)
        thread.start()
        thread.join()
    assert outcome(aws, "received-five-times") == "passed"


def test_four_receives_fail(sqs: Any, aws: Aws, backend: Backend) -> None:
    main, _ = make_queues(sqs)
    sqs.send_message(QueueUrl=main, MessageBody='{"name": "An"}')
    receive_times(sqs, backend, main, 4)
    result = check_results("04", aws)["received-five-times"]
    assert (result.outcome, "4 time(s)" in result.message) == ("failed", True)


def test_five_different_messages_once_each_fail(sqs: Any, aws: Aws) -> None:
    main, _ = make_queues(sqs)
    for i in range(5):
        sqs.send_message(QueueUrl=main, MessageBody=json.dumps({"name": f"p{i}"}))
    for _ in range(5):
        sqs.receive_message(QueueUrl=main, WaitTimeSeconds=0)
    assert outcome(aws, "received-five-times") == "failed"


def test_deleting_after_the_first_receive_fails(sqs: Any, aws: Aws) -> None:
    main, _ = make_queues(sqs)
    sqs.send_message(QueueUrl=main, MessageBody='{"name": "An"}')
    message = sqs.receive_message(QueueUrl=main, WaitTimeSeconds=0)["Messages"][0]
    sqs.delete_message(QueueUrl=main, ReceiptHandle=message["ReceiptHandle"])
    sqs.receive_message(QueueUrl=main, WaitTimeSeconds=0)
    assert outcome(aws, "received-five-times") == "failed"


# -- moved-to-dlq
@pytest.mark.parametrize("how", ["clock", "release"])
def test_the_moved_message_received_from_the_dlq_passes(
    sqs: Any, aws: Aws, backend: Backend, how: str
) -> None:
    _, dlq, message_id = dead_letter(sqs, backend, how)
    assert from_dlq(sqs, dlq)["MessageId"] == message_id
    assert outcome(aws, "moved-to-dlq") == "passed"


def test_a_message_sent_straight_to_the_dlq_fails(sqs: Any, aws: Aws, backend: Backend) -> None:
    main, dlq = make_queues(sqs)
    sqs.send_message(QueueUrl=main, MessageBody='{"name": "An"}')
    receive_times(sqs, backend, main, 5)
    sqs.send_message(QueueUrl=dlq, MessageBody='{"name": "An"}')  # a copy, not the moved one
    from_dlq(sqs, dlq)
    result = check_results("04", aws)["moved-to-dlq"]
    assert (result.outcome, "not the one" in result.message) == ("failed", True)


def test_without_the_sixth_poll_nothing_reaches_the_dlq(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    main, dlq = make_queues(sqs)
    sqs.send_message(QueueUrl=main, MessageBody='{"name": "An"}')
    receive_times(sqs, backend, main, 5)
    assert "Messages" not in sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0)
    assert outcome(aws, "moved-to-dlq") == "not_attempted"


# -- count-not-reset
def test_count_asked_for_by_name_passes(sqs: Any, aws: Aws, backend: Backend) -> None:
    _, dlq, _ = dead_letter(sqs, backend)
    assert from_dlq(sqs, dlq, MessageSystemAttributeNames=COUNT)["Attributes"] == {
        "ApproximateReceiveCount": "6"
    }
    assert outcome(aws, "count-not-reset") == "passed"


def test_count_asked_for_with_all_in_a_later_receive_passes(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    _, dlq, _ = dead_letter(sqs, backend, how="zero")
    from_dlq(sqs, dlq, VisibilityTimeout=0)  # the first DLQ receive did not ask
    from_dlq(sqs, dlq, MessageSystemAttributeNames=["All"], MaxNumberOfMessages=10)
    assert outcome(aws, "count-not-reset") == "passed"


def test_not_asking_for_the_count_fails(sqs: Any, aws: Aws, backend: Backend) -> None:
    _, dlq, _ = dead_letter(sqs, backend)
    from_dlq(sqs, dlq)
    result = check_results("04", aws)["count-not-reset"]
    assert (result.outcome, "did not ask" in result.message) == ("failed", True)


def test_a_count_below_six_fails(sqs: Any, aws: Aws, backend: Backend) -> None:
    main, dlq = make_queues(sqs, max_receives="2")
    sqs.send_message(QueueUrl=main, MessageBody='{"name": "An"}')
    receive_times(sqs, backend, main, 2)
    sqs.receive_message(QueueUrl=main, WaitTimeSeconds=0)
    assert from_dlq(sqs, dlq, MessageSystemAttributeNames=COUNT)["Attributes"] == {
        "ApproximateReceiveCount": "3"
    }
    assert outcome(aws, "count-not-reset") == "failed"


def test_a_high_count_on_a_message_that_was_never_moved_fails(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    make_queues(sqs)
    dlq = sqs.get_queue_url(QueueName=DLQ)["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody="straight in")
    for _ in range(6):
        from_dlq(sqs, dlq, MessageSystemAttributeNames=COUNT, VisibilityTimeout=0)
    assert outcome(aws, "count-not-reset") == "failed"


# -- dlq-handled
def test_redriving_the_released_copy_passes(sqs: Any, aws: Aws, backend: Backend) -> None:
    main, dlq, message_id = dead_letter(sqs, backend)
    copy = from_dlq(sqs, dlq)
    sqs.change_message_visibility(
        QueueUrl=dlq, ReceiptHandle=copy["ReceiptHandle"], VisibilityTimeout=0
    )
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq), MaxNumberOfMessagesPerSecond=1)
    back = sqs.receive_message(QueueUrl=main, WaitTimeSeconds=0)["Messages"][0]
    assert back["MessageId"] != message_id
    assert outcome(aws, "dlq-handled") == "passed"


def test_redriving_without_receiving_first_passes(sqs: Any, aws: Aws, backend: Backend) -> None:
    dead_letter(sqs, backend)
    dlq = sqs.get_queue_url(QueueName=DLQ)["QueueUrl"]
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))
    assert outcome(aws, "dlq-handled") == "passed"


def test_deleting_the_copy_in_a_batch_passes(sqs: Any, aws: Aws, backend: Backend) -> None:
    _, dlq, _ = dead_letter(sqs, backend)
    copy = from_dlq(sqs, dlq)
    sqs.delete_message_batch(
        QueueUrl=dlq, Entries=[{"Id": "1", "ReceiptHandle": copy["ReceiptHandle"]}]
    )
    assert outcome(aws, "dlq-handled") == "passed"


def test_redriving_a_copy_still_in_flight_moves_nothing_and_fails(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    _, dlq, _ = dead_letter(sqs, backend)
    from_dlq(sqs, dlq)  # in flight for the DLQ's 30 s default visibility timeout
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))
    result = check_results("04", aws)["dlq-handled"]
    assert (result.outcome, "moved no message" in result.message) == ("failed", True)


def test_a_move_task_from_the_main_queue_fails(sqs: Any, aws: Aws, backend: Backend) -> None:
    main, _, _ = dead_letter(sqs, backend)
    with pytest.raises(sqs.exceptions.ClientError):
        sqs.start_message_move_task(SourceArn=arn_of(sqs, main))
    assert outcome(aws, "dlq-handled") == "failed"


def test_purging_the_dlq_is_not_handling_it(sqs: Any, aws: Aws, backend: Backend) -> None:
    _, dlq, _ = dead_letter(sqs, backend)
    sqs.purge_queue(QueueUrl=dlq)
    assert outcome(aws, "dlq-handled") == "not_attempted"


def test_flow_checks_are_not_checkable_on_a_real_account() -> None:
    class NoAws(Aws):
        def client(self, service: str) -> Any:
            raise AssertionError("a flow check must not reach for resources here")

    flow_checks = [c for c in resolve_lab("04").checks if c.kind == "flow"]
    results = [run_check(c, NoAws(None)) for c in flow_checks]
    assert {r.outcome for r in results} == {"not_checkable"}


# -- unusual but correct submissions (issue 11): every check passes them
def test_the_resource_api_in_another_order_scores_ten(backend: Backend, aws: Aws) -> None:
    """main-queue first and its policy set afterwards (Queue.set_attributes, a policy with an int
    and its keys in another order), receives asking with the deprecated AttributeNames,
    Message.change_visibility to release, Message.delete to handle the DLQ copy."""
    resource = make_resource(backend)
    main = resource.create_queue(QueueName=MAIN)
    dlq = resource.create_queue(QueueName=DLQ)
    policy = {"maxReceiveCount": 5, "deadLetterTargetArn": dlq.attributes["QueueArn"]}
    main.set_attributes(
        Attributes={
            "ReceiveMessageWaitTimeSeconds": "5",
            "RedrivePolicy": json.dumps(policy, indent=2),
            "VisibilityTimeout": "10",
        }
    )
    main.send_message(MessageBody=json.dumps({"name": "viettu"}))
    for attempt in range(1, 6):
        [message] = main.receive_messages(AttributeNames=["All"], WaitTimeSeconds=0)
        assert message.attributes["ApproximateReceiveCount"] == str(attempt)
        message.change_visibility(VisibilityTimeout=0)
    assert main.receive_messages(WaitTimeSeconds=0) == []
    [copy] = dlq.receive_messages(AttributeNames=["ApproximateReceiveCount"])
    assert copy.attributes["ApproximateReceiveCount"] == "6"
    copy.delete()
    results = check_results("04", aws)
    assert {k: r.outcome for k, r in results.items()} == dict.fromkeys(results, "passed")


def test_a_second_run_after_a_blind_redrive_still_passes(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    """Run 1 redrives the first message without receiving it from the DLQ; run 2 sends another,
    which is received five times and then from the DLQ. Both were received five times from
    main-queue: the one the DLQ receive delivered is "that message"."""
    main, dlq, first = dead_letter(sqs, backend, how="release")
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))
    back = sqs.receive_message(QueueUrl=main, WaitTimeSeconds=0)["Messages"][0]
    sqs.delete_message(QueueUrl=main, ReceiptHandle=back["ReceiptHandle"])
    sqs.send_message(QueueUrl=main, MessageBody=json.dumps({"name": "again"}))
    second = receive_times(sqs, backend, main, 5, how="release")
    assert "Messages" not in sqs.receive_message(QueueUrl=main, WaitTimeSeconds=0)
    copy = from_dlq(sqs, dlq, MessageSystemAttributeNames=COUNT)
    assert copy["MessageId"] == second != first
    results = check_results("04", aws)
    assert {k: r.outcome for k, r in results.items()} == dict.fromkeys(results, "passed")


def test_two_moved_messages_and_the_dlq_receive_delivering_the_later_one_pass(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    """The send cell run twice: both messages received five times, both moved; the DLQ receive
    (one message) happens to deliver the second."""
    main, dlq = make_queues(sqs)
    sent = [
        sqs.send_message(QueueUrl=main, MessageBody=json.dumps({"name": n}))["MessageId"]
        for n in ("An", "Binh")
    ]
    for _ in range(5):
        got = sqs.receive_message(QueueUrl=main, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        assert len(got["Messages"]) == 2
        backend.advance_clock(11)
    assert "Messages" not in sqs.receive_message(QueueUrl=main, WaitTimeSeconds=0)
    copies = sqs.receive_message(
        QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0
    )["Messages"]
    assert {c["MessageId"] for c in copies} == set(sent)
    later = next(c for c in copies if c["MessageId"] == sent[1])
    # hold the first one out of sight, then receive the later one alone, asking for its count
    first = next(c for c in copies if c["MessageId"] == sent[0])
    sqs.change_message_visibility(
        QueueUrl=dlq, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=600
    )
    assert from_dlq(sqs, dlq, MessageSystemAttributeNames=COUNT)["MessageId"] == later["MessageId"]
    assert outcome(aws, "moved-to-dlq") == "passed"
    assert outcome(aws, "count-not-reset") == "passed"


def test_a_redrive_to_an_explicit_destination_and_a_long_polled_dlq_receive_pass(
    sqs: Any, aws: Aws, backend: Backend
) -> None:
    main, dlq, _ = dead_letter(sqs, backend, how="zero")
    copy = sqs.receive_message(
        QueueUrl=dlq, WaitTimeSeconds=1, AttributeNames=["ApproximateReceiveCount"]
    )["Messages"][0]
    sqs.change_message_visibility(
        QueueUrl=dlq, ReceiptHandle=copy["ReceiptHandle"], VisibilityTimeout=0
    )
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq), DestinationArn=arn_of(sqs, main))
    results = check_results("04", aws)
    for check_id in ("moved-to-dlq", "count-not-reset", "dlq-handled"):
        assert results[check_id].outcome == "passed", check_id


def test_the_whole_lab_run_twice_scores_ten(sqs: Any, aws: Aws, backend: Backend) -> None:
    """The solution's cells run twice on one backend: the create cells find the same queues, the
    second message goes the same way as the first."""
    for _ in range(2):
        main, dlq, message_id = dead_letter(sqs, backend, how="release")
        copy = from_dlq(sqs, dlq, MessageSystemAttributeNames=COUNT)
        assert (copy["MessageId"], copy["Attributes"]["ApproximateReceiveCount"]) == (
            message_id,
            "6",
        )
        sqs.change_message_visibility(
            QueueUrl=dlq, ReceiptHandle=copy["ReceiptHandle"], VisibilityTimeout=0
        )
        sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))
        back = sqs.receive_message(QueueUrl=main, WaitTimeSeconds=0)["Messages"][0]
        sqs.delete_message(QueueUrl=main, ReceiptHandle=back["ReceiptHandle"])
    results = check_results("04", aws)
    assert {k: r.outcome for k, r in results.items()} == dict.fromkeys(results, "passed")


# -- on a learner's real account (issue 15): the prefixed queues, read calls only
def _account_queues(sqs: Any, main: str, dlq: str, target: str | None = None) -> None:
    """``main`` redriving to ``target`` (default ``dlq``) after 5 receives."""
    dlq_url = sqs.create_queue(QueueName=dlq)["QueueUrl"]
    target_url = sqs.create_queue(QueueName=target)["QueueUrl"] if target else dlq_url
    policy = {"deadLetterTargetArn": arn_of(sqs, target_url), "maxReceiveCount": "5"}
    attributes = {"VisibilityTimeout": "10", "ReceiveMessageWaitTimeSeconds": "5"}
    sqs.create_queue(QueueName=main, Attributes={**attributes, "RedrivePolicy": json.dumps(policy)})


@pytest.mark.parametrize(
    ("prefix", "queues", "expected"),
    [
        (PREFIX, (f"{PREFIX}{MAIN}", f"{PREFIX}{DLQ}"), ("passed", "passed")),
        ("", (MAIN, DLQ), ("passed", "passed")),  # an account of one's own, no prefix
        (PREFIX, (f"{PREFIX}{MAIN}", f"{PREFIX}{DLQ}", DLQ), ("passed", "failed")),
        (PREFIX, (MAIN, DLQ), ("not_attempted", "not_attempted")),  # made without name()
    ],
    ids=["prefixed", "no-prefix", "redrive-to-the-unprefixed-dlq", "unprefixed"],
)
def test_on_an_account_the_state_checks_read_the_prefixed_queues(
    sqs: Any, backend: Backend, prefix: str, queues: tuple[str, ...], expected: tuple[str, str]
) -> None:
    _account_queues(sqs, *queues)
    account = AccountAws(backend, prefix=prefix)
    results, writes = account_checks("04", account)
    assert (results["dlq-exists"].outcome, results["redrive-policy"].outcome) == expected
    assert {r.outcome for r in results.values() if r.kind == "flow"} == {"not_checkable"}
    assert not writes
