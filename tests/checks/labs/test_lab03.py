"""Lab 03's checks: each passes at least two different correct submissions and fails (or calls
not attempted) at least two different wrong ones. Long polls run for real against the backend;
the test advances the backend's clock instead of waiting out the poll.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend
from course.checks.context import Aws

from tests.conftest import check_results, make_client, make_resource

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


def rejected_then_retried_with_20(backend: Backend, sqs: Any) -> None:
    _, long = _queues(sqs)
    sqs.send_message(QueueUrl=long, MessageBody="x")
    try:
        sqs.receive_message(QueueUrl=long, WaitTimeSeconds=21)
    except ClientError as err:
        assert err.response["Error"]["Code"] == "InvalidParameterValue"
        sqs.receive_message(QueueUrl=long, WaitTimeSeconds=20)


def rejected_resource_then_default_wait(backend: Backend, sqs: Any) -> None:
    short, _ = _queues(sqs)
    queue = _resource(backend).Queue(short)
    with contextlib.suppress(ClientError):
        queue.receive_messages(WaitTimeSeconds=25)
    queue.receive_messages()


def rejected_and_abandoned(backend: Backend, sqs: Any) -> None:
    _, long = _queues(sqs)
    with contextlib.suppress(ClientError):
        sqs.receive_message(QueueUrl=long, WaitTimeSeconds=21)


def rejected_then_other_queue_only(backend: Backend, sqs: Any) -> None:
    short, long = _queues(sqs)
    with contextlib.suppress(ClientError):
        sqs.receive_message(QueueUrl=long, WaitTimeSeconds=21)
    sqs.receive_message(QueueUrl=short)


def never_asked_for_21(backend: Backend, sqs: Any) -> None:
    short, _ = _queues(sqs)
    sqs.receive_message(QueueUrl=short, WaitTimeSeconds=0)


@pytest.mark.parametrize(
    ("submission", "expected"),
    [
        (rejected_then_retried_with_20, "passed"),
        (rejected_resource_then_default_wait, "passed"),
        (rejected_and_abandoned, "failed:never polled that queue again"),
        (rejected_then_other_queue_only, "failed:never polled that queue again"),
        (never_asked_for_21, "not_attempted"),
    ],
)
def test_max_wait_rejected(
    backend: Backend, sqs: Any, aws: Aws, submission: Submission, expected: str
) -> None:
    submission(backend, sqs)
    assert _outcome("max-wait-rejected", aws, expected) == expected


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


# ---------------------------------------------------------------- whole runs


def test_a_whole_lab_run_scores_full_marks(backend: Backend, sqs: Any) -> None:
    short, long = _queues(sqs)
    sqs.receive_message(QueueUrl=short)
    _while_polling(
        backend, lambda: sqs.receive_message(QueueUrl=long), lambda: backend.advance_clock(10)
    )
    with contextlib.suppress(ClientError):
        sqs.receive_message(QueueUrl=long, WaitTimeSeconds=21)
    producer = make_client(backend, "sqs")
    _while_polling(
        backend,
        lambda: sqs.receive_message(QueueUrl=long, WaitTimeSeconds=20),
        lambda: producer.send_message(QueueUrl=long, MessageBody="new upload"),
    )
    aws = Aws(
        backend.url,
        answers={"short_poll_requests_per_day": 86400, "long_poll_requests_per_day": 4320},
    )
    results = check_results("03", aws)
    assert {k: r.outcome for k, r in results.items()} == dict.fromkeys(results, "passed")
    assert sum(r.points for r in results.values()) == 10


def test_an_untouched_backend_scores_nothing(aws: Aws) -> None:
    results = check_results("03", aws)
    assert {r.outcome for r in results.values()} == {"not_attempted"}
