"""Every check of lab 07 fails on wrong submissions and passes on right ones.

``Lab`` builds the lab with plain boto3 against a real backend, with each step replaceable by a
wrong variant; the checks read the backend's state (function, policies, subscriptions, queue,
CloudWatch Logs) and its server-side flow, as the grader does.
"""

from __future__ import annotations

import io
import json
import textwrap
import zipfile
from typing import Any

import pytest
from course.backend.process import Backend
from course.checks.context import Aws

from tests.conftest import check_results, make_client

PRINTER = """
def lambda_handler(event, context):
    for record in event["Records"]:
        print("Message:", record["Sns"]["Message"])
"""
SILENT = """
def lambda_handler(event, context):
    return None
"""


class Lab:
    """Lab 07's resources, made step by step; each step takes the variant to make."""

    def __init__(self, backend: Backend) -> None:
        self.sns = make_client(backend, "sns")
        self.sqs = make_client(backend, "sqs")
        self.lam = make_client(backend, "lambda")
        self.iam = make_client(backend, "iam")
        self.topic = ""
        self.function_arn = ""
        self.queue_url = ""
        self.queue_arn = ""

    def make_topic(self, name: str = "filter-topic") -> Lab:
        self.topic = self.sns.create_topic(Name=name)["TopicArn"]
        return self

    def make_function(self, runtime: str = "python3.12", source: str = PRINTER) -> Lab:
        role = self.iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("lambda_function.py", textwrap.dedent(source))
        self.function_arn = self.lam.create_function(
            FunctionName="sns-printer",
            Runtime=runtime,
            Role=role,
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]
        return self

    def allow_sns(self, source_arn: str | None = None, principal: str = "sns.amazonaws.com") -> Lab:
        self.lam.add_permission(
            FunctionName="sns-printer",
            StatementId="sns",
            Action="lambda:InvokeFunction",
            Principal=principal,
            SourceArn=source_arn or self.topic,
        )
        return self

    def make_queue(self) -> Lab:
        self.queue_url = self.sqs.create_queue(QueueName="filtered-queue")["QueueUrl"]
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        return self

    def queue_policy(self, **change: Any) -> Lab:
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": self.queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": self.topic}},
            **change,
        }
        self.sqs.set_queue_attributes(
            QueueUrl=self.queue_url,
            Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})},
        )
        return self

    def subscribe(
        self,
        lambda_policy: dict[str, Any] | None = {"sendTo": ["LAMBDA"]},  # noqa: B006
        sqs_policy: dict[str, Any] | None = {"sendTo": ["SQS"]},  # noqa: B006
        scope: str = "MessageAttributes",
    ) -> Lab:
        for protocol, endpoint, policy in (
            ("lambda", self.function_arn, lambda_policy),
            ("sqs", self.queue_arn, sqs_policy),
        ):
            if not endpoint:
                continue
            attributes = {"FilterPolicyScope": scope}
            if policy is not None:
                attributes["FilterPolicy"] = json.dumps(policy)
            self.sns.subscribe(
                TopicArn=self.topic, Protocol=protocol, Endpoint=endpoint, Attributes=attributes
            )
        return self

    def publish(self, *kinds: str | None) -> Lab:
        for kind in kinds or ("SQS", "LAMBDA", None):
            attributes = (
                {"sendTo": {"DataType": "String", "StringValue": kind}}
                if kind
                else {"env": {"DataType": "String", "StringValue": "dev"}}
            )
            self.sns.publish(
                TopicArn=self.topic, Message=f"Test send to {kind}", MessageAttributes=attributes
            )
        return self

    def whole(self) -> Lab:
        """The right lab, every step done."""
        return (
            self.make_topic()
            .make_function()
            .allow_sns()
            .make_queue()
            .queue_policy()
            .subscribe()
            .publish()
        )


@pytest.fixture
def lab(backend: Backend) -> Lab:
    return Lab(backend)


def result(aws: Aws, check_id: str) -> Any:
    return check_results("07", aws)[check_id]


def outcome(aws: Aws, check_id: str) -> str:
    return result(aws, check_id).outcome


def test_an_untouched_backend_attempts_nothing(aws: Aws) -> None:
    assert {r.outcome for r in check_results("07", aws).values()} == {"not_attempted"}


def test_the_whole_lab_scores_twelve(lab: Lab, aws: Aws) -> None:
    lab.whole()
    results = check_results("07", aws)
    assert {k: r.outcome for k, r in results.items() if not r.passed} == {}
    assert sum(r.points for r in results.values()) == 12


def test_the_checks_pass_again_after_the_queue_was_read(lab: Lab, aws: Aws) -> None:
    """A learner receives and deletes the queue's message (as the notebook does)."""
    lab.whole()
    for message in lab.sqs.receive_message(QueueUrl=lab.queue_url)["Messages"]:
        lab.sqs.delete_message(QueueUrl=lab.queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert outcome(aws, "sqs-got-only-its-message") == "passed"


# -- function
def test_function_fails_for_another_runtime(lab: Lab, aws: Aws) -> None:
    lab.make_function(runtime="nodejs20.x")
    assert outcome(aws, "function") == "failed"


def test_function_passes_for_python(lab: Lab, aws: Aws) -> None:
    lab.make_function()
    assert outcome(aws, "function") == "passed"


# -- invoke-permission
def test_invoke_permission_is_not_attempted_without_a_policy(lab: Lab, aws: Aws) -> None:
    lab.make_topic().make_function()
    assert outcome(aws, "invoke-permission") == "not_attempted"


@pytest.mark.parametrize(
    ("source_arn", "principal"),
    [
        ("arn:aws:sns:us-east-1:123456789012:other-topic", "sns.amazonaws.com"),
        (None, "s3.amazonaws.com"),
    ],
    ids=["other-topic", "other-service"],
)
def test_invoke_permission_fails_when_it_does_not_cover_the_topic(
    lab: Lab, aws: Aws, source_arn: str | None, principal: str
) -> None:
    lab.make_topic().make_function().allow_sns(source_arn, principal)
    assert outcome(aws, "invoke-permission") == "failed"


def test_invoke_permission_passes_for_sns_and_the_topic(lab: Lab, aws: Aws) -> None:
    lab.make_topic().make_function().allow_sns()
    assert outcome(aws, "invoke-permission") == "passed"


# -- queue-policy
def test_queue_policy_is_not_attempted_without_a_policy(lab: Lab, aws: Aws) -> None:
    lab.make_topic().make_queue()
    assert outcome(aws, "queue-policy") == "not_attempted"


@pytest.mark.parametrize(
    "change",
    [
        {"Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:1:other"}}},
        {"Action": "sqs:ReceiveMessage"},
        {"Effect": "Deny"},
        {"Principal": {"Service": "s3.amazonaws.com"}},
    ],
    ids=["other-topic", "other-action", "deny", "other-service"],
)
def test_queue_policy_fails_when_it_does_not_let_the_topic_send(
    lab: Lab, aws: Aws, change: dict[str, Any]
) -> None:
    lab.make_topic().make_queue().queue_policy(**change)
    assert outcome(aws, "queue-policy") == "failed"


def test_queue_policy_passes_for_the_documented_everybody_form(lab: Lab, aws: Aws) -> None:
    """The SNS guide's own example: Principal "*" with an ArnEquals aws:SourceArn condition."""
    lab.make_topic().make_queue().queue_policy(Principal="*")
    assert outcome(aws, "queue-policy") == "passed"


# -- filter-policies
def test_filter_policies_are_not_attempted_without_subscriptions(lab: Lab, aws: Aws) -> None:
    lab.make_topic()
    assert outcome(aws, "filter-policies") == "not_attempted"


@pytest.mark.parametrize(
    ("lambda_policy", "sqs_policy", "scope", "expected"),
    [
        ({"sendTo": ["SQS"]}, {"sendTo": ["LAMBDA"]}, "MessageAttributes", "expected"),
        (None, {"sendTo": ["SQS"]}, "MessageAttributes", "no FilterPolicy"),
        ({"sendTo": ["LAMBDA"]}, {"sendTo": ["SQS", "LAMBDA"]}, "MessageAttributes", "sqs"),
        ({"sendTo": ["LAMBDA"]}, {"sendTo": ["SQS"]}, "MessageBody", "FilterPolicyScope"),
    ],
    ids=["swapped", "lambda-unfiltered", "sqs-too-wide", "body-scope"],
)
def test_filter_policies_fail_and_say_which(
    lab: Lab,
    aws: Aws,
    lambda_policy: dict[str, Any] | None,
    sqs_policy: dict[str, Any],
    scope: str,
    expected: str,
) -> None:
    lab.make_topic().make_function().make_queue().subscribe(lambda_policy, sqs_policy, scope)
    found = result(aws, "filter-policies")
    assert found.outcome == "failed"
    assert expected in found.message


def test_filter_policies_fail_when_a_subscriber_is_missing(lab: Lab, aws: Aws) -> None:
    lab.make_topic().make_queue().subscribe()
    found = result(aws, "filter-policies")
    assert found.outcome == "failed"
    assert "no lambda subscription" in found.message


# -- published
def test_published_is_not_attempted_without_publishes(lab: Lab, aws: Aws) -> None:
    lab.make_topic()
    assert outcome(aws, "published") == "not_attempted"


@pytest.mark.parametrize("kinds", [("SQS", "LAMBDA"), ("SQS", None), ("LAMBDA",)])
def test_published_fails_without_all_three(lab: Lab, aws: Aws, kinds: tuple[str | None]) -> None:
    lab.make_topic().publish(*kinds)
    assert outcome(aws, "published") == "failed"


def test_published_passes_with_all_three(lab: Lab, aws: Aws) -> None:
    lab.make_topic().publish()
    assert outcome(aws, "published") == "passed"


# -- sqs-got-only-its-message
def test_sqs_check_fails_without_the_queue_policy(lab: Lab, aws: Aws) -> None:
    """The notes' pitfall: subscribed, published, nothing in the queue."""
    lab.make_topic().make_function().allow_sns().make_queue().subscribe().publish()
    found = result(aws, "sqs-got-only-its-message")
    assert found.outcome == "failed"
    assert "policy" in found.message


def test_sqs_check_fails_when_the_queue_is_unfiltered(lab: Lab, aws: Aws) -> None:
    lab.make_topic().make_queue().queue_policy().subscribe(sqs_policy=None).publish()
    found = result(aws, "sqs-got-only-its-message")
    assert found.outcome == "failed"
    assert "LAMBDA" in found.message


def test_sqs_check_is_not_attempted_before_publishing(lab: Lab, aws: Aws) -> None:
    lab.make_topic().make_queue().queue_policy().subscribe()
    assert outcome(aws, "sqs-got-only-its-message") == "not_attempted"


def test_sqs_check_passes_with_raw_delivery(lab: Lab, aws: Aws) -> None:
    lab.make_topic().make_queue().queue_policy()
    lab.sns.subscribe(
        TopicArn=lab.topic,
        Protocol="sqs",
        Endpoint=lab.queue_arn,
        Attributes={"FilterPolicy": json.dumps({"sendTo": ["SQS"]}), "RawMessageDelivery": "true"},
    )
    lab.publish()
    assert outcome(aws, "sqs-got-only-its-message") == "passed"


def test_sqs_check_ignores_messages_the_notebook_sent_to_the_queue_itself(
    lab: Lab, aws: Aws
) -> None:
    """Without the queue policy nothing comes from the topic; a hand-made copy of an SNS
    envelope sent straight to the queue must not stand in for it."""
    lab.make_topic().make_queue().subscribe().publish()
    forged = {
        "Type": "Notification",
        "MessageId": "forged",
        "TopicArn": lab.topic,
        "Message": "hello",
        "MessageAttributes": {"sendTo": {"Type": "String", "Value": "SQS"}},
    }
    lab.sqs.send_message(QueueUrl=lab.queue_url, MessageBody=json.dumps(forged))
    lab.sqs.receive_message(QueueUrl=lab.queue_url)
    assert outcome(aws, "sqs-got-only-its-message") == "failed"


# -- lambda-logged-only-its-message
def test_lambda_check_fails_without_the_permission(lab: Lab, aws: Aws) -> None:
    lab.make_topic().make_function().subscribe().publish()
    found = result(aws, "lambda-logged-only-its-message")
    assert found.outcome == "failed"
    assert "never ran" in found.message


def test_lambda_check_fails_when_the_function_is_unfiltered(lab: Lab, aws: Aws) -> None:
    lab.make_topic().make_function().allow_sns().subscribe(lambda_policy=None).publish()
    found = result(aws, "lambda-logged-only-its-message")
    assert found.outcome == "failed"
    assert "also logged" in found.message


def test_lambda_check_fails_when_the_handler_prints_nothing(lab: Lab, aws: Aws) -> None:
    lab.make_topic().make_function(source=SILENT).allow_sns().subscribe().publish()
    found = result(aws, "lambda-logged-only-its-message")
    assert found.outcome == "failed"
    assert "does not show" in found.message


def test_lambda_check_passes_when_only_its_message_was_logged(lab: Lab, aws: Aws) -> None:
    lab.make_topic().make_function().allow_sns().subscribe().publish()
    assert outcome(aws, "lambda-logged-only-its-message") == "passed"
