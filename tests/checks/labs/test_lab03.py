"""Lab 03's checks: each passes at least two different correct submissions, among them an
unusual one (resource API, helper functions, threads, other value spellings), and fails (or calls
not attempted) at least two different wrong ones. Long polls run for real against the backend;
the test advances the backend's clock instead of waiting out the poll. ``max-wait-rejected``
reads which cell made the refused receive (``tests.checks.notebook_cells``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend
from course.checks.context import Aws

from tests.checks.labs.account import AccountAws, account_checks
from tests.checks.notebook_cells import Notebook, results
from tests.conftest import check_results, make_client, make_resource
from tests.real_account.standin import PREFIX

SHORT, LONG = "short-poll-queue", "long-poll-queue"
Submission = Callable[[Backend, Any], None]


def _outcome(check: str, aws: Aws, expected: str) -> str:
    """The check's outcome, or ``expected`` itself when it is "outcome:why" and the why matches."""
    result = check_results("03", aws)[check]
    _, _, why = expected.partition(":")
    if why and why in result.message:
        return expected
    return result.outcome if not why else f"{result.outcome}:{result.message}"


def _queues(sqs: Any) -> tuple[str, str]:
    short = sqs.create_queue(QueueName=SHORT, Attributes={"ReceiveMessageWaitTimeSeconds": "0"})
    long = sqs.create_queue(QueueName=LONG, Attributes={"ReceiveMessageWaitTimeSeconds": "10"})
    return short["QueueUrl"], long["QueueUrl"]


def _while_polling(
    backend: Backend, poll: Callable[[], Any], then: Callable[[], Any]
) -> dict[str, Any]:
    """Run ``poll`` in a thread; once the backend has seen it begin, run ``then``; wait for it."""
    before = backend.flow(since=10**9)["next"]
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.update(poll() or {}))
    thread.start()
    deadline = time.monotonic() + 10
    while backend.flow(since=10**9)["next"] == before and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # the poll is inside moto's wait loop
    then()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the long poll never returned"
    return result


def _resource(backend: Backend) -> Any:
    return make_resource(backend)


# ---------------------------------------------------------------- queues-configured


def configured_at_creation(backend: Backend, sqs: Any) -> None:
    _queues(sqs)


def configured_afterwards(backend: Backend, sqs: Any) -> None:
    sqs.create_queue(QueueName=SHORT)  # AWS's default wait is 0
    url = sqs.create_queue(QueueName=LONG)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ReceiveMessageWaitTimeSeconds": "10"})


def configured_by_resource_in_a_helper(backend: Backend, sqs: Any) -> None:
    def make(resource: Any, name: str, wait: int) -> Any:
        queue = resource.create_queue(QueueName=name)
        queue.set_attributes(Attributes={"ReceiveMessageWaitTimeSeconds": str(wait)})
        return queue

    resource = _resource(backend)
    make(resource, LONG, 10)
    make(resource, SHORT, 0)


def configured_20_not_10(backend: Backend, sqs: Any) -> None:
    sqs.create_queue(QueueName=SHORT)
    sqs.create_queue(QueueName=LONG, Attributes={"ReceiveMessageWaitTimeSeconds": "20"})


def configured_short_only(backend: Backend, sqs: Any) -> None:
    sqs.create_queue(QueueName=SHORT)


def configured_nothing(backend: Backend, sqs: Any) -> None:
    sqs.create_queue(QueueName="some-other-queue")


@pytest.mark.parametrize(
    ("submission", "expected"),
    [
        (configured_at_creation, "passed"),
        (configured_afterwards, "passed"),
        (configured_by_resource_in_a_helper, "passed"),
        (configured_20_not_10, "failed:waits 20 s, expected 10"),
        (configured_short_only, "failed:no queue named long-poll-queue"),
        (configured_nothing, "not_attempted"),
    ],
)
def test_queues_configured(
    backend: Backend, sqs: Any, aws: Aws, submission: Submission, expected: str
) -> None:
    submission(backend, sqs)
    assert _outcome("queues-configured", aws, expected) == expected


# ---------------------------------------------------------------- short-poll-empty


def short_poll_by_queue_attribute(backend: Backend, sqs: Any) -> None:
    short, _ = _queues(sqs)
    sqs.receive_message(QueueUrl=short)


def short_poll_by_parameter_resource(backend: Backend, sqs: Any) -> None:
    _queues(sqs)
    _resource(backend).Queue(sqs.get_queue_url(QueueName=LONG)["QueueUrl"]).receive_messages(
        WaitTimeSeconds=0, MaxNumberOfMessages=10
    )


def short_poll_in_a_thread(backend: Backend, sqs: Any) -> None:
    short, _ = _queues(sqs)
    found: list[Any] = []
    worker = threading.Thread(target=lambda: found.append(sqs.receive_message(QueueUrl=short)))
    worker.start()
    worker.join(timeout=10)
    assert len(found) == 1 and not found[0].get("Messages")


def short_poll_not_empty(backend: Backend, sqs: Any) -> None:
    short, _ = _queues(sqs)
    sqs.send_message(QueueUrl=short, MessageBody="here already")
    sqs.receive_message(QueueUrl=short)


def short_poll_batch_not_empty(backend: Backend, sqs: Any) -> None:
    short, _ = _queues(sqs)
    sqs.send_message_batch(
        QueueUrl=short, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)]
    )
    sqs.receive_message(QueueUrl=short, MaxNumberOfMessages=10, WaitTimeSeconds=0)


def only_long_polls(backend: Backend, sqs: Any) -> None:
    _, long = _queues(sqs)
    sqs.send_message(QueueUrl=long, MessageBody="x")
    sqs.receive_message(QueueUrl=long)  # the queue's 10 s wait: a long poll


@pytest.mark.parametrize(
    ("submission", "expected"),
    [
        (short_poll_by_queue_attribute, "passed"),
        (short_poll_by_parameter_resource, "passed"),
        (short_poll_in_a_thread, "passed"),
        (short_poll_not_empty, "failed:each returned a message"),
        (short_poll_batch_not_empty, "failed:each returned a message"),
        (only_long_polls, "not_attempted"),
    ],
)
def test_short_poll_empty(
    backend: Backend, sqs: Any, aws: Aws, submission: Submission, expected: str
) -> None:
    submission(backend, sqs)
    assert _outcome("short-poll-empty", aws, expected) == expected


# ---------------------------------------------------------------- long-poll-waited


def long_poll_by_queue_attribute(backend: Backend, sqs: Any) -> None:
    _, long = _queues(sqs)
    _while_polling(
        backend, lambda: sqs.receive_message(QueueUrl=long), lambda: backend.advance_clock(10)
    )


def long_poll_20_on_short_queue(backend: Backend, sqs: Any) -> None:
    short, _ = _queues(sqs)
    client = make_client(backend, "sqs")
    _while_polling(
        backend,
        lambda: client.receive_message(QueueUrl=short, WaitTimeSeconds=20),
        lambda: backend.advance_clock(20),
    )


def long_poll_resource_by_attribute(backend: Backend, sqs: Any) -> None:
    _queues(sqs)
    queue = _resource(backend).get_queue_by_name(QueueName=LONG)
    _while_polling(
        backend,
        lambda: {"got": queue.receive_messages(MaxNumberOfMessages=10)},
        lambda: backend.advance_clock(10),
    )


def long_poll_only_5_seconds(backend: Backend, sqs: Any) -> None:
    _, long = _queues(sqs)
    _while_polling(
        backend,
        lambda: sqs.receive_message(QueueUrl=long, WaitTimeSeconds=5),
        lambda: backend.advance_clock(5),
    )


def long_poll_never_empty(backend: Backend, sqs: Any) -> None:
    _, long = _queues(sqs)
    sqs.send_message(QueueUrl=long, MessageBody="waiting already")
    sqs.receive_message(QueueUrl=long)


def short_polls_only(backend: Backend, sqs: Any) -> None:
    short, _ = _queues(sqs)
    sqs.receive_message(QueueUrl=short)


@pytest.mark.parametrize(
    ("submission", "expected"),
    [
        (long_poll_by_queue_attribute, "passed"),
        (long_poll_20_on_short_queue, "passed"),
        (long_poll_resource_by_attribute, "passed"),
        (long_poll_only_5_seconds, "failed:let one wait about 10 s"),
        (long_poll_never_empty, "failed:every long poll returned a message"),
        (short_polls_only, "not_attempted"),
    ],
)
def test_long_poll_waited(
    backend: Backend, sqs: Any, aws: Aws, submission: Submission, expected: str
) -> None:
    submission(backend, sqs)
    assert _outcome("long-poll-waited", aws, expected) == expected


# ---------------------------------------------------------------- long-poll-early-return


def early_return_send_from_main(backend: Backend, sqs: Any) -> None:
    _, long = _queues(sqs)
    producer = make_client(backend, "sqs")
    _while_polling(
        backend,
        lambda: sqs.receive_message(QueueUrl=long),
        lambda: producer.send_message(QueueUrl=long, MessageBody="new upload"),
    )


def early_return_batch_resource(backend: Backend, sqs: Any) -> None:
    short, _ = _queues(sqs)
    queue = _resource(backend).Queue(short)
    producer = make_client(backend, "sqs")
    _while_polling(
        backend,
        lambda: {"got": queue.receive_messages(WaitTimeSeconds=20)},
        lambda: producer.send_message_batch(
            QueueUrl=short, Entries=[{"Id": "1", "MessageBody": "new upload"}]
        ),
    )


def early_return_resource_send_by_queue_attribute(backend: Backend, sqs: Any) -> None:
    _queues(sqs)
    queue = _resource(backend).get_queue_by_name(QueueName=LONG)

    def upload(name: str) -> None:  # a helper, on the resource API
        _resource(backend).get_queue_by_name(QueueName=LONG).send_message(MessageBody=name)

    _while_polling(
        backend, lambda: {"got": queue.receive_messages()}, lambda: upload("new-upload.mp4")
    )


def early_return_sent_before(backend: Backend, sqs: Any) -> None:
    _, long = _queues(sqs)
    sqs.send_message(QueueUrl=long, MessageBody="already there")
    sqs.receive_message(QueueUrl=long, WaitTimeSeconds=20)


def early_return_by_visibility_expiry(backend: Backend, sqs: Any) -> None:
    _, long = _queues(sqs)
    sqs.send_message(QueueUrl=long, MessageBody="sent long ago")
    sqs.receive_message(QueueUrl=long, VisibilityTimeout=5)
    _while_polling(  # the old message comes back during the poll: it was not sent after it began
        backend,
        lambda: sqs.receive_message(QueueUrl=long, WaitTimeSeconds=20),
        lambda: backend.advance_clock(6),
    )


def early_return_never_answered(backend: Backend, sqs: Any) -> None:
    _, long = _queues(sqs)
    _while_polling(
        backend, lambda: sqs.receive_message(QueueUrl=long), lambda: backend.advance_clock(10)
    )


@pytest.mark.parametrize(
    ("submission", "expected"),
    [
        (early_return_send_from_main, "passed"),
        (early_return_batch_resource, "passed"),
        (early_return_resource_send_by_queue_attribute, "passed"),
        (early_return_sent_before, "failed:found it already waiting"),
        (early_return_by_visibility_expiry, "failed:found it already waiting"),
        (early_return_never_answered, "not_attempted"),
    ],
)
def test_long_poll_early_return(
    backend: Backend, sqs: Any, aws: Aws, submission: Submission, expected: str
) -> None:
    submission(backend, sqs)
    assert _outcome("long-poll-early-return", aws, expected) == expected


# ---------------------------------------------------------------- max-wait-rejected
# Each submission runs as notebook cells (``nb.cell()``): the check reads whether the cell that
# made the refused receive raised. Before the cell record, it wanted a later poll of the same
# queue instead; ``caught_and_moved_on`` (which it failed) shows that proxy is gone.
NotebookSubmission = Callable[[Backend, Any, Notebook], None]


def caught_then_retried_with_20(backend: Backend, sqs: Any, nb: Notebook) -> None:
    with nb.cell():
        _, long = _queues(sqs)
        sqs.send_message(QueueUrl=long, MessageBody="x")
    with nb.cell():
        try:
            sqs.receive_message(QueueUrl=long, WaitTimeSeconds=21)
        except ClientError as err:
            assert err.response["Error"]["Code"] == "InvalidParameterValue"
            sqs.receive_message(QueueUrl=long, WaitTimeSeconds=20)


def caught_and_moved_on(backend: Backend, sqs: Any, nb: Notebook) -> None:
    with nb.cell():
        _, long = _queues(sqs)
    with nb.cell(), contextlib.suppress(ClientError):
        sqs.receive_message(QueueUrl=long, WaitTimeSeconds=21)


def caught_in_a_helper_on_the_resource_api(backend: Backend, sqs: Any, nb: Notebook) -> None:
    def poll(queue: Any, wait: int) -> list[Any]:
        try:
            return list(queue.receive_messages(WaitTimeSeconds=wait))
        except sqs.exceptions.ClientError as err:  # the client's own alias of ClientError
            print(err.response["Error"]["Code"])
            return []

    with nb.cell():
        short, _ = _queues(sqs)
    with nb.cell():
        poll(_resource(backend).Queue(short), 25)


def crashed_then_caught_in_a_later_cell(backend: Backend, sqs: Any, nb: Notebook) -> None:
    with nb.cell():
        _, long = _queues(sqs)
    with nb.cell():
        sqs.receive_message(QueueUrl=long, WaitTimeSeconds=21)
    # the student fixed the cell and ran it again
    with nb.cell(), contextlib.suppress(ClientError):
        sqs.receive_message(QueueUrl=long, WaitTimeSeconds=21)


def caught_then_the_cell_failed_on_something_else(backend: Backend, sqs: Any, nb: Notebook) -> None:
    with nb.cell():
        _, long = _queues(sqs)
    with nb.cell():
        try:
            sqs.receive_message(QueueUrl=long, WaitTimeSeconds=21)
        except ClientError as err:
            print(err.response["Error"]["Code"])
        raise KeyError("a typo later in the cell, nothing to do with SQS")


def crashed_on_the_refusal(backend: Backend, sqs: Any, nb: Notebook) -> None:
    with nb.cell():
        _, long = _queues(sqs)
    with nb.cell():
        sqs.receive_message(QueueUrl=long, WaitTimeSeconds=21)
    with nb.cell():  # a later poll no longer stands in for handling the error
        sqs.receive_message(QueueUrl=long, WaitTimeSeconds=20)


def never_asked_for_21(backend: Backend, sqs: Any, nb: Notebook) -> None:
    with nb.cell():
        short, _ = _queues(sqs)
        sqs.receive_message(QueueUrl=short, WaitTimeSeconds=0)


@pytest.mark.parametrize(
    ("submission", "expected"),
    [
        (caught_then_retried_with_20, "passed"),
        (caught_and_moved_on, "passed"),
        (caught_in_a_helper_on_the_resource_api, "passed"),
        (crashed_then_caught_in_a_later_cell, "passed"),
        (caught_then_the_cell_failed_on_something_else, "passed"),
        (crashed_on_the_refusal, "failed:cell 2 failed on it (ClientError"),
        (never_asked_for_21, "not_attempted"),
    ],
)
def test_max_wait_rejected(
    backend: Backend, sqs: Any, submission: NotebookSubmission, expected: str
) -> None:
    nb = Notebook(backend)
    submission(backend, sqs, nb)
    result = results("03", backend, nb)["max-wait-rejected"]
    outcome, _, why = expected.partition(":")
    assert (result.outcome, why in result.message) == (outcome, True), result.message


def test_max_wait_rejected_without_a_cell_record_is_not_checkable(
    backend: Backend, sqs: Any
) -> None:
    """Plain Python (or ``course check`` from a shell): the refusal is seen, its handling is not."""
    _, long = _queues(sqs)
    with contextlib.suppress(ClientError):
        sqs.receive_message(QueueUrl=long, WaitTimeSeconds=21)
    result = results("03", backend, None)["max-wait-rejected"]
    assert result.outcome == "not_checkable" and "known only from its cells" in result.message


# ---------------------------------------------------------------- cost-answer


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"short_poll_requests_per_day": 86400, "long_poll_requests_per_day": 4320}, "passed"),
        (
            {
                "short_poll_requests_per_day": 24 * 60 * 60 / 1,
                "long_poll_requests_per_day": 86400 / 20,
            },
            "passed",
        ),
        (
            {"short_poll_requests_per_day": 86400, "long_poll_requests_per_day": 8640},
            "failed:long_poll_requests_per_day is 8640",
        ),
        (
            {"short_poll_requests_per_day": 4320, "long_poll_requests_per_day": 86400},
            "failed:short_poll_requests_per_day is 4320",
        ),
        ({"short_poll_requests_per_day": 86400}, "failed:no variable long_poll_requests_per_day"),
        ({}, "not_attempted"),
    ],
    ids=["ints", "floats", "10-second-polls", "swapped", "one-missing", "none"],
)
def test_cost_answer(backend: Backend, answers: dict[str, Any], expected: str) -> None:
    aws = Aws(backend.url, answers=answers)
    assert _outcome("cost-answer", aws, expected) == expected


@pytest.mark.parametrize(
    "answers",
    [
        {"short_poll_requests_per_day": Decimal(86400), "long_poll_requests_per_day": 4320.0},
        {"short_poll_requests_per_day": "86,400", "long_poll_requests_per_day": "4_320"},
    ],
    ids=["decimal-and-float", "strings-with-separators"],
)
def test_cost_answer_in_other_numeric_spellings(backend: Backend, answers: dict[str, Any]) -> None:
    assert results("03", backend, None, answers)["cost-answer"].outcome == "passed"


# ---------------------------------------------------------------- whole runs


def test_a_whole_lab_run_scores_full_marks(backend: Backend, sqs: Any) -> None:
    nb = Notebook(backend)
    with nb.cell():
        short, long = _queues(sqs)
        sqs.receive_message(QueueUrl=short)
    with nb.cell():
        _while_polling(
            backend, lambda: sqs.receive_message(QueueUrl=long), lambda: backend.advance_clock(10)
        )
    with nb.cell(), contextlib.suppress(ClientError):
        sqs.receive_message(QueueUrl=long, WaitTimeSeconds=21)
    with nb.cell():
        producer = make_client(backend, "sqs")
        _while_polling(
            backend,
            lambda: sqs.receive_message(QueueUrl=long, WaitTimeSeconds=20),
            lambda: producer.send_message(QueueUrl=long, MessageBody="new upload"),
        )
    answers = {"short_poll_requests_per_day": 86400, "long_poll_requests_per_day": 4320}
    found = results("03", backend, nb, answers)
    assert {k: r.outcome for k, r in found.items()} == dict.fromkeys(found, "passed")
    assert sum(r.points for r in found.values()) == 10


def test_an_untouched_backend_scores_nothing(aws: Aws) -> None:
    results = check_results("03", aws)
    assert {r.outcome for r in results.values()} == {"not_attempted"}


# -- on a learner's real account (issue 15): the prefixed queues, read calls only
ANSWERS = {"short_poll_requests_per_day": 86_400, "long_poll_requests_per_day": 4_320}


@pytest.mark.parametrize(
    ("prefix", "waits", "expected"),
    [
        (PREFIX, {f"{PREFIX}{SHORT}": "0", f"{PREFIX}{LONG}": "10"}, "passed"),
        ("", {SHORT: "0", LONG: "10"}, "passed"),  # an account of one's own, no prefix
        (PREFIX, {f"{PREFIX}{SHORT}": "5", f"{PREFIX}{LONG}": "10"}, "failed"),
        (PREFIX, {SHORT: "0", LONG: "10"}, "not_attempted"),  # made without name()
    ],
)
def test_on_an_account_queues_configured_reads_the_prefixed_queues(
    sqs: Any, backend: Backend, prefix: str, waits: dict[str, str], expected: str
) -> None:
    for queue, wait in waits.items():
        sqs.create_queue(QueueName=queue, Attributes={"ReceiveMessageWaitTimeSeconds": wait})
    account = AccountAws(backend, prefix=prefix, answers=ANSWERS)
    results, writes = account_checks("03", account)
    assert results["queues-configured"].outcome == expected, results["queues-configured"].message
    assert results["cost-answer"].outcome == "passed"
    assert {r.outcome for r in results.values() if r.kind == "flow"} == {"not_checkable"}
    assert not writes
