"""SetQueueAttributes changes only the attributes it names (``course.backend.sqs.attributes``).

AWS: "Sets the value of one or more queue attributes"
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html);
moto 5.2 dropped the queue's Policy on any call that did not name it.
"""

from __future__ import annotations

import json
from typing import Any

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": "*",
            }
        ],
    }
)


def _attributes(sqs: Any, url: str) -> dict[str, str]:
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])


def test_setting_another_attribute_keeps_the_policy(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="policy-kept")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": POLICY})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "20"})
    attributes = _attributes(sqs, url)
    assert json.loads(attributes["Policy"]) == json.loads(POLICY)
    assert attributes["VisibilityTimeout"] == "20"


def test_a_policy_given_at_creation_survives_later_changes(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="policy-at-creation", Attributes={"Policy": POLICY})[
        "QueueUrl"
    ]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "3600"})
    assert json.loads(_attributes(sqs, url)["Policy"]) == json.loads(POLICY)


def test_an_empty_policy_removes_it(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="policy-removed", Attributes={"Policy": POLICY})["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert "Policy" not in _attributes(sqs, url)
