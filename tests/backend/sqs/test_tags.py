"""Tags on a queue: 50 is AWS's recommendation, not a limit (``course/backend/sqs/limits.py``)."""

from __future__ import annotations

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
