"""Shared pieces of the SNS tests."""

from __future__ import annotations

import json


def topic_may_send(queue_arn: str, topic_arn: str) -> str:
    """The queue policy AWS documents for a topic's subscription: ``sns.amazonaws.com`` may
    ``sqs:SendMessage`` to the queue when the source is the topic
    (https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html)."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
