"""A Lambda handler on a grader's dilated clock runs on AWS time, as the backend does.

When ``course grade`` runs the backend ten times faster than the wall clock, a function's
``Timeout`` is AWS time; so is everything the handler measures or waits for: a handler that
sleeps 3 s under a 10 s timeout succeeds (in 0.3 real seconds) and reports about 3,000 ms, one
that sleeps 30 s times out after 10 AWS seconds, and ``get_remaining_time_in_millis`` counts
down AWS milliseconds. https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from course.backend.process import Backend

from tests.backend.awslambda.test_lambda import create, invoke, make_role, streams
from tests.conftest import make_client

SLEEPER = """
import time


def lambda_handler(event, context):
    before = context.get_remaining_time_in_millis()
    started = time.monotonic()
    time.sleep(event["sleep"])
    return {
        "slept": time.monotonic() - started,
        "remaining_before": before,
        "remaining_after": context.get_remaining_time_in_millis(),
    }
"""


@pytest.fixture(scope="module")
def dilated() -> Iterator[Backend]:
    backend = Backend.start(time_scale=10)
    yield backend
    backend.stop()


@pytest.fixture
def clients(dilated: Backend) -> tuple[Any, Any, str]:
    dilated.reset()
    return make_client(dilated, "lambda"), make_client(dilated, "logs"), make_role(dilated)


def test_a_handler_sleeps_and_counts_in_aws_seconds(clients: tuple[Any, Any, str]) -> None:
    lam, logs, role = clients
    create(lam, role, source=SLEEPER, Timeout=10)
    started = time.monotonic()
    answer, result = invoke(lam, {"sleep": 3})
    assert "FunctionError" not in answer, result
    assert time.monotonic() - started < 3  # 3 AWS seconds are 0.3 real ones
    assert 2.9 <= result["slept"] < 4.5
    assert 8_000 < result["remaining_before"] <= 10_000
    assert result["remaining_before"] - result["remaining_after"] >= 2_900
    (run,) = streams(logs)
    report = next(m for m in run if m.startswith("REPORT"))
    duration = float(report.split("Duration: ")[1].split(" ms")[0])
    assert 2_900 <= duration < 6_000, report


def test_a_handler_past_its_timeout_stops_after_the_timeout_in_aws_seconds(
    clients: tuple[Any, Any, str],
) -> None:
    lam, logs, role = clients
    create(lam, role, source=SLEEPER, Timeout=10)
    started = time.monotonic()
    answer, error = invoke(lam, {"sleep": 30})
    assert time.monotonic() - started < 3  # 10 AWS seconds are 1 real one
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    (run,) = streams(logs)
    assert any(m.endswith("Task timed out after 10.00 seconds") for m in run)
