"""Limits lab 10 hits where moto differs from SQS (``course/backend/sqs/limits.py``): tags beyond
50 are only a recommendation, a negative visibility timeout is refused."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend

from tests.conftest import make_client


def test_more_than_50_tags_are_added_as_aws_only_recommends_against_them(
    backend: Backend,
) -> None:
    """AWS's quotas page: "We don't recommend adding more than 50 tags to a queue"
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html);
    moto refuses the 51st tag with InvalidParameterValue."""
    sqs = make_client(backend, "sqs")
    url = sqs.create_queue(QueueName="tagged")["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={f"tag-{i}": str(i) for i in range(51)})
    sqs.tag_queue(QueueUrl=url, Tags={"one-more": "yes"})
    tags = sqs.list_queue_tags(QueueUrl=url)["Tags"]
    assert len(tags) == 52 and tags["tag-50"] == "50"


@pytest.mark.parametrize("timeout", [-1, 43_201])
def test_change_message_visibility_outside_0_to_12_hours_is_refused(
    backend: Backend, timeout: int
) -> None:
    """ChangeMessageVisibility's VisibilityTimeout: "Values range: 0 to 43200"
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html);
    moto accepted -1."""
    sqs = make_client(backend, "sqs")
    url = sqs.create_queue(QueueName="visibility")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    with pytest.raises(ClientError) as refused:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=timeout)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
