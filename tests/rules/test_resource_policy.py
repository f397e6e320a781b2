"""Resource policies as IAM evaluates them, for the requests SNS makes of SQS and Lambda."""

from __future__ import annotations

import pytest
from course.rules.resource_policy import Request, allows

TOPIC = "arn:aws:sns:us-east-1:123456789012:filter-topic"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:filtered-queue"


def policy(operator: str, source: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": QUEUE,
                "Condition": {operator: {"aws:SourceArn": source}},
            }
        ],
    }


def request(topic: str = TOPIC) -> Request:
    return Request("sns.amazonaws.com", "sqs:SendMessage", QUEUE, {"aws:SourceArn": topic})


@pytest.mark.parametrize("operator", ["ArnEquals", "ArnLike"])
@pytest.mark.parametrize(
    ("source", "allowed"),
    [
        (TOPIC, True),
        ("arn:aws:sns:us-east-1:123456789012:*", True),
        ("arn:aws:sns:*:123456789012:filter-?opic", True),
        ("arn:aws:sns:us-east-1:123456789012:other-topic", False),
        ("arn:aws:sns:us-east-1:*", False),  # a wildcard does not span the ARN's components
        ("arn:aws:sns:us-east-1:123456789012:FILTER-TOPIC", False),  # case-sensitive
        ("arn:aws:sns:us-east-1:123456789012:[f]ilter-topic", False),  # [ is not special
    ],
)
def test_arn_operators_match_each_component_with_iam_wildcards(
    operator: str, source: str, allowed: bool
) -> None:
    """IAM User Guide, ARN condition operators: ArnEquals and ArnLike alike are "Case-sensitive
    matching of the ARN. Each of the six colon-delimited components of the ARN is checked
    separately and each can include multi-character match wildcards (*) or single-character
    match wildcards (?)"."""
    assert allows(policy(operator, source), request()) is allowed


@pytest.mark.parametrize("operator", ["ArnNotEquals", "ArnNotLike"])
def test_negated_arn_operators(operator: str) -> None:
    assert not allows(policy(operator, "arn:aws:sns:us-east-1:123456789012:*"), request())
    assert allows(policy(operator, "arn:aws:sns:eu-west-1:123456789012:*"), request())
