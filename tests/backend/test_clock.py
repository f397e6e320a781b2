"""The backend's dilated clock (issue 12): at ``time_scale`` K, AWS time runs K times faster.

``course grade`` runs a submission on dilated time, so a 10 s visibility timeout expires after
10 AWS seconds that take 1 real second at K = 10. These tests start a real backend process at
K = 10 and talk to it with plain boto3, as a submission does. Every timed assertion compares
real time with AWS time under wide bounds: a loaded machine only makes real waits longer, so
lower bounds are exact consequences of the dilation and upper bounds stay well below what the
undilated wait (K = 1) would take. K = 1 is the default, and the rest of ``tests/backend``
proves it behaves exactly as before.
"""

from __future__ import annotations

import json
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend, BackendError

from tests.backend.awslambda import test_lambda
from tests.backend.awslambda.test_lambda import create, streams
from tests.backend.ses.helpers import make_client, simple, verified_domain

K = 10.0
#: Lambda's fixtures, here on the K = 10 backend (this module's ``backend``).
lam, logs, role = test_lambda.lam, test_lambda.logs, test_lambda.role


def _clock(backend: Backend) -> dict[str, float]:
    """The backend's ``GET /_course/clock`` document."""
    with urllib.request.urlopen(f"{backend.url}/_course/clock") as response:
        return dict(json.loads(response.read()))


def _last_call(backend: Backend, action: str) -> dict[str, Any]:
    """The flow record's latest entry for ``action``."""
    return [c for c in backend.flow()["calls"] if c["action"] == action][-1]


@pytest.fixture(scope="module")
def dilated_process() -> Iterator[tuple[Backend, float, float]]:
    """One backend at K = 10 for this module, with the wall-clock times around its start."""
    before = time.time()
    backend = Backend.start(time_scale=K)
    after = time.time()
    yield backend, before, after
    backend.stop()


@pytest.fixture
def dilated(dilated_process: tuple[Backend, float, float]) -> Backend:
    """The K = 10 backend, wiped clean (resources, flow and clock offset) for this test."""
    backend = dilated_process[0]
    backend.reset()
    return backend


@pytest.fixture
def backend(dilated: Backend) -> Backend:
    """In this module the shared fixtures (``lam``, ``logs``, ``role``) use the K = 10 backend."""
    return dilated


@pytest.fixture
def queue(dilated: Backend) -> tuple[Any, str]:
    """A boto3 SQS client on the K = 10 backend and the URL of a new empty queue."""
    sqs = make_client(dilated, "sqs")
    return sqs, sqs.create_queue(QueueName="dilated")["QueueUrl"]


def test_by_default_the_clock_is_real_time(backend_process: Backend) -> None:
    """Without ``time_scale`` the clock runs at scale 1: real time plus the advanced offset."""
    reading = _clock(backend_process)
    assert reading["scale"] == 1.0
    assert abs(reading["now"] - reading["offset"] - time.time()) < 2.0


def test_the_clock_reports_its_scale_and_anchor(
    dilated_process: tuple[Backend, float, float],
) -> None:
    """The anchor defaults to the server's start; now = anchor + (real - anchor) * K + offset;
    advancing adds to the offset, and a reset clears the offset but keeps the dilation."""
    backend, before, after = dilated_process
    backend.reset()
    reading = _clock(backend)
    real = time.time()
    assert reading["scale"] == K
    assert before <= reading["anchor"] <= after
    expected = reading["anchor"] + (real - reading["anchor"]) * K
    assert expected - 5 * K < reading["now"] <= expected + 0.1
    backend.advance_clock(100)
    assert _clock(backend)["offset"] == 100
    backend.reset()
    reading = _clock(backend)
    assert (reading["offset"], reading["scale"]) == (0.0, K)


def test_a_given_anchor_is_kept_and_a_bad_scale_refused() -> None:
    """``time_anchor`` fixes the wall-clock time the dilation counts from (the kernel's side
    passes its own, so both clocks agree); a scale that is not positive stops the server."""
    anchor = time.time() - 100
    with Backend.start(time_scale=2, time_anchor=anchor) as backend:
        reading = _clock(backend)
        real = time.time()
    assert reading["anchor"] == anchor
    assert anchor + (real - anchor) * 2 - 10 < reading["now"] <= anchor + (real - anchor) * 2
    with pytest.raises(BackendError, match="time scale"):
        Backend.start(time_scale=0)


def test_flow_times_are_on_the_dilated_clock(dilated: Backend, queue: tuple[Any, str]) -> None:
    """The flow record's ``started`` and ``ended`` are AWS time: a call made at real time t is
    recorded at anchor + (t - anchor) * K, the time the kernel's dilated clock also reads."""
    sqs, url = queue
    anchor = _clock(dilated)["anchor"]
    real = time.time()
    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    call = _last_call(dilated, "GetQueueAttributes")
    expected = anchor + (real - anchor) * K
    assert expected <= call["started"] <= call["ended"] < expected + 5 * K


def test_a_visibility_timeout_of_10_s_takes_1_real_second(queue: tuple[Any, str]) -> None:
    """A message received with VisibilityTimeout=10 is hidden for 10 AWS seconds: visible again
    after about 1 real second (not 10), and still hidden 0.3 real seconds after."""
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    started = time.monotonic()
    assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=10)["Messages"]
    time.sleep(0.3)
    early = sqs.receive_message(QueueUrl=url).get("Messages")
    if time.monotonic() - started < 0.9:  # the look happened well within the 10 AWS seconds
        assert not early
    while not sqs.receive_message(QueueUrl=url).get("Messages"):
        assert time.monotonic() - started < 5.0, "still hidden after 50 AWS seconds"
        time.sleep(0.05)
    assert time.monotonic() - started >= 0.95  # 10 AWS seconds are 1 real second, at least


def test_a_long_poll_of_10_s_on_an_empty_queue_takes_1_real_second(
    dilated: Backend, queue: tuple[Any, str]
) -> None:
    """ReceiveMessage with WaitTimeSeconds=10 on an empty queue returns after about 1 real
    second, and the flow record shows a call of 10 AWS seconds."""
    sqs, url = queue
    started = time.monotonic()
    assert not sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages")
    real = time.monotonic() - started
    assert 0.95 <= real < 5.0
    call = _last_call(dilated, "ReceiveMessage")
    aws = call["ended"] - call["started"]
    assert 10.0 <= aws < 50.0
    assert 0.25 * K < aws / real <= 1.05 * K  # the client's own overhead is real time


def test_a_short_long_poll_ends_on_time(dilated: Backend, queue: tuple[Any, str]) -> None:
    """A 2 s long poll lasts 2 AWS seconds, give or take one: between two looks at the queue
    the poll waits one AWS second (a tenth of a real second), not one real second (10). The
    shortest of three polls counts: a loaded machine stretches some, never all."""
    sqs, url = queue
    spans = []
    for _ in range(3):
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
        call = _last_call(dilated, "ReceiveMessage")
        spans.append(call["ended"] - call["started"])
    assert all(span >= 2.0 for span in spans)
    assert min(spans) < 9.5


def test_a_long_poll_returns_a_message_that_becomes_visible_while_it_waits(
    dilated: Backend, queue: tuple[Any, str]
) -> None:
    """A message whose 2 s delay ends during a 20 s long poll ends the poll then, not after
    the 20 AWS seconds."""
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody="soon", DelaySeconds=2)
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages")
    assert messages and messages[0]["Body"] == "soon"
    call = _last_call(dilated, "ReceiveMessage")
    assert call["ended"] - call["started"] < 15.0


def test_a_delay_of_5_s_holds_a_message_half_a_real_second(queue: tuple[Any, str]) -> None:
    """DelaySeconds=5 hides a new message for 5 AWS seconds: about 0.5 real second."""
    sqs, url = queue
    started = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=5)
    early = sqs.receive_message(QueueUrl=url).get("Messages")
    if time.monotonic() - started < 0.45:
        assert not early
    while not sqs.receive_message(QueueUrl=url).get("Messages"):
        assert time.monotonic() - started < 4.0, "still delayed after 40 AWS seconds"
        time.sleep(0.02)
    assert time.monotonic() - started >= 0.45


def test_the_sandbox_rate_allows_a_send_a_tenth_of_a_real_second_later(dilated: Backend) -> None:
    """The sandbox's 1 message a second is one per AWS second: a second send 0.15 real seconds
    (1.5 AWS seconds) after the first is accepted; in a burst of sends over one real second,
    every send begun a tenth of a real second after the last accepted one ended is accepted,
    and no more than one per AWS second get through."""
    verified_domain(dilated)
    sesv2 = make_client(dilated, "sesv2")

    def send() -> bool:
        try:
            sesv2.send_email(
                FromEmailAddress="no-reply@example.com",
                Destination={"ToAddresses": ["success@simulator.amazonses.com"]},
                Content=simple(),
            )
        except ClientError as exc:
            assert "Maximum sending rate exceeded" in str(exc)
            return False
        return True

    assert send()
    time.sleep(0.15)
    before = time.monotonic()
    assert send()
    last_accepted = began = time.monotonic()
    accepted = 0
    while time.monotonic() - began < 1.0:
        start = time.monotonic()
        if send():
            accepted, last_accepted = accepted + 1, time.monotonic()
        else:
            assert start - last_accepted < 0.1 / 0.99, "refused more than 1 AWS second later"
    # The second send set the budget free 1 AWS second after it: one more per AWS second since.
    assert 1 <= accepted <= (time.monotonic() - before) * K


TIMES_OUT = """
def lambda_handler(event, context):
    while True:
        pass
"""

NAPS = """
import time

def lambda_handler(event, context):
    time.sleep(5)
    return "rested"
"""


def test_a_lambda_timeout_of_3_s_cuts_the_handler_after_a_third_of_a_real_second(
    lam: Any, logs: Any, role: str
) -> None:
    """A function's Timeout is AWS time: a handler that loops forever with Timeout=3 is cut
    after 0.3 real seconds (plus the interpreter's start), and its log reports AWS time: "Task
    timed out after 3.00 seconds" and a REPORT of 3000 ms."""
    create(lam, role, source=textwrap.dedent(TIMES_OUT), Timeout=3)
    started = time.monotonic()
    answer = lam.invoke(FunctionName="runner", Payload=b"{}")
    real = time.monotonic() - started
    error = json.loads(answer["Payload"].read())
    assert 0.3 <= real < 2.9  # 3 real seconds undilated
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 3.00 seconds")
    (run,) = streams(logs)
    assert any(m.endswith("Task timed out after 3.00 seconds") for m in run)
    assert "Duration: 3000.00 ms" in run[-1] and run[-1].endswith("Status: timeout")


def test_a_lambda_run_s_duration_is_reported_in_aws_time(lam: Any, logs: Any, role: str) -> None:
    """The handler runs on the backend's clock: its 5 s sleep is five AWS seconds, half a real
    one, and its REPORT says about 5000 ms."""
    create(lam, role, source=textwrap.dedent(NAPS), Timeout=30)
    started = time.monotonic()
    answer = lam.invoke(FunctionName="runner", Payload=b"{}")
    assert json.loads(answer["Payload"].read()) == "rested"
    (run,) = streams(logs)
    duration = float(run[-1].split("\tDuration: ")[1].split(" ms")[0])
    assert 5000 <= duration < 30_000
    assert time.monotonic() - started < 4  # not five real seconds
