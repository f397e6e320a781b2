"""The kit's price table and billing rules (``course/rules/pricing.py``), which lab 10's
``cost-function`` check compares the notebook's function with."""

from __future__ import annotations

import math

import pytest
from course.rules.pricing import CHUNK_BYTES, billed_requests, lab_cost


@pytest.mark.parametrize(
    ("payload", "requests"),
    [(0, 1), (1, 1), (CHUNK_BYTES, 1), (CHUNK_BYTES + 1, 2), (262_144, 4), (1_048_576, 16)],
)
def test_each_started_64_kb_chunk_is_a_request(payload: int, requests: int) -> None:
    """ "Each 64 KB chunk of a payload is billed as 1 request (for example, an API action with a
    256 KB payload is billed as 4 requests)" (https://aws.amazon.com/sqs/pricing/)."""
    assert billed_requests(1, payload) == requests
    assert billed_requests(1000, payload) == 1000 * requests


@pytest.mark.parametrize(
    ("usage", "dollars"),
    [
        ({"sqs_standard": [[1_000_000, 1_000]]}, 0.40),
        ({"sqs_fifo": [[2_000_000, 0]]}, 1.00),
        ({"sns_publish": [[1_000_000, 70_000]]}, 1.00),
        ({"sns_deliveries": {"email": 100_000, "https": 1_000_000, "sqs": 9, "lambda": 9}}, 2.60),
        ({"ses_emails": 10_000, "ses_attachment_gb": 2}, 1.24),
        ({}, 0.0),
    ],
)
def test_the_lab_s_worked_examples(usage: dict, dollars: float) -> None:
    assert math.isclose(lab_cost(usage), dollars, rel_tol=1e-9, abs_tol=1e-12)
