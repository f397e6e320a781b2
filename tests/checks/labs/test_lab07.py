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

from tests.checks.labs.account import AccountAws, account_checks
from tests.conftest import check_results, make_client, make_resource
from tests.real_account.standin import PREFIX

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

    def __init__(self, backend: Backend, prefix: str = "") -> None:
        self.prefix = prefix  # the learner's, on a real account
        self.sns = make_client(backend, "sns")
        self.sqs = make_client(backend, "sqs")
        self.lam = make_client(backend, "lambda")
        self.iam = make_client(backend, "iam")
        self.topic = ""
        self.function_arn = ""
        self.queue_url = ""
        self.queue_arn = ""

    def make_topic(self, name: str = "filter-topic") -> Lab:
        self.topic = self.sns.create_topic(Name=self.prefix + name)["TopicArn"]
        return self

    def make_function(self, runtime: str = "python3.12", source: str = PRINTER) -> Lab:
        role = self.iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("lambda_function.py", textwrap.dedent(source))
        self.function_arn = self.lam.create_function(
            FunctionName=f"{self.prefix}sns-printer",
            Runtime=runtime,
            Role=role,
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]
        return self

    def allow_sns(self, source_arn: str | None = None, principal: str = "sns.amazonaws.com") -> Lab:
        self.lam.add_permission(
            FunctionName=f"{self.prefix}sns-printer",
            StatementId="sns",
            Action="lambda:InvokeFunction",
            Principal=principal,
            SourceArn=source_arn or self.topic,
        )
        return self

    def make_queue(self) -> Lab:
        self.queue_url = self.sqs.create_queue(QueueName=f"{self.prefix}filtered-queue")["QueueUrl"]
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


@pytest.mark.parametrize(
    "permission",
    [
        {"SourceArn": "arn:aws:sns:us-east-1:123456789012:filter-*"},
        {"SourceArn": "TOPIC", "Action": "lambda:*"},
        {"SourceArn": "TOPIC", "FunctionName": "FUNCTION_ARN"},
        {"SourceAccount": "123456789012"},
    ],
    ids=["wildcard-source", "all-lambda-actions", "function-by-arn", "source-account"],
)
def test_invoke_permission_passes_for_other_right_forms(
    lab: Lab, aws: Aws, permission: dict[str, str]
) -> None:
    """AddPermission with a wildcard SourceArn (written as ArnLike), lambda:*, the function named
    by its ARN, or SourceAccount (every topic of the account, this one included)."""
    lab.make_topic().make_function()
    named = {"TOPIC": lab.topic, "FUNCTION_ARN": lab.function_arn}
    arguments = {
        "FunctionName": "sns-printer",
        "StatementId": "sns",
        "Action": "lambda:InvokeFunction",
        "Principal": "sns.amazonaws.com",
        **{k: named.get(v, v) for k, v in permission.items()},
    }
    lab.lam.add_permission(**arguments)
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


@pytest.mark.parametrize(
    "change",
    [
        {"Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:123456789012:filter-topic"}}},
        {"Condition": {"ArnEquals": {"aws:sourcearn": "TOPIC"}}},
        {"Condition": {"StringEquals": {"aws:SourceArn": "TOPIC"}}},
        {"Condition": {"ArnEquals": {"aws:SourceArn": ["other", "TOPIC"]}}},
        {"Action": ["SQS:SendMessage", "sqs:ReceiveMessage"]},
        {"Action": "sqs:*", "Resource": "*"},
        {"Principal": {"AWS": "*"}},
    ],
    ids=[
        "arn-like",
        "lower-case-key",
        "string-equals",
        "list-of-sources",
        "action-list",
        "all-actions",
        "aws-star",
    ],
)
def test_queue_policy_passes_for_other_right_spellings(
    lab: Lab, aws: Aws, change: dict[str, Any]
) -> None:
    """Condition keys are case-insensitive; ArnLike, StringEquals, a list of values, action names
    in any case or with wildcards are all valid IAM.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    """
    lab.make_topic().make_queue()
    text = json.dumps(change).replace('"TOPIC"', json.dumps(lab.topic))
    lab.queue_policy(**json.loads(text))
    assert outcome(aws, "queue-policy") == "passed"


def test_queue_policy_passes_when_given_at_creation_as_one_statement(
    lab: Lab, aws: Aws, backend: Backend
) -> None:
    """The policy passed to create_queue (resource API), its Statement an object, not a list."""
    lab.make_topic()
    arn = "arn:aws:sqs:us-east-1:123456789012:filtered-queue"
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": lab.topic}},
    }
    policy = {"Version": "2008-10-17", "Statement": statement}
    queue = make_resource(backend).create_queue(
        QueueName="filtered-queue", Attributes={"Policy": json.dumps(policy)}
    )
    assert queue.attributes["QueueArn"] == arn
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


def test_filter_policies_set_after_subscribing_in_any_spelling_pass(
    lab: Lab, aws: Aws, backend: Backend
) -> None:
    """Subscribed first, policies set afterwards: with set_subscription_attributes (other
    whitespace and key order) and with the resource API's Subscription.set_attributes (scope
    written out)."""
    lab.make_topic().make_function().make_queue()
    lambda_arn = lab.sns.subscribe(
        TopicArn=lab.topic, Protocol="lambda", Endpoint=lab.function_arn, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    queue_arn = lab.sns.subscribe(
        TopicArn=lab.topic, Protocol="sqs", Endpoint=lab.queue_arn, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    lab.sns.set_subscription_attributes(
        SubscriptionArn=lambda_arn,
        AttributeName="FilterPolicy",
        AttributeValue='{ "sendTo" :\n[ "LAMBDA" ] }',
    )
    subscription = make_resource(backend, "sns").Subscription(queue_arn)
    subscription.set_attributes(
        AttributeName="FilterPolicyScope", AttributeValue="MessageAttributes"
    )
    subscription.set_attributes(AttributeName="FilterPolicy", AttributeValue='{"sendTo":["SQS"]}')
    subscription.set_attributes(AttributeName="RawMessageDelivery", AttributeValue="True")
    assert outcome(aws, "filter-policies") == "passed"


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


def test_published_passes_with_the_resource_api_a_batch_and_a_labelled_type(
    lab: Lab, aws: Aws, backend: Backend
) -> None:
    """Topic.publish for one, PublishBatch for the others, a String.<label> type for LAMBDA."""
    lab.make_topic()
    topic = make_resource(backend, "sns").Topic(lab.topic)
    topic.publish(
        Message="q", MessageAttributes={"sendTo": {"DataType": "String", "StringValue": "SQS"}}
    )
    lab.sns.publish_batch(
        TopicArn=lab.topic,
        PublishBatchRequestEntries=[
            {
                "Id": "l",
                "Message": "l",
                "MessageAttributes": {"sendTo": {"DataType": "String.x", "StringValue": "LAMBDA"}},
            },
            {"Id": "n", "Message": "n"},
        ],
    )
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


def publish_same_text(lab: Lab, kinds: tuple[str | None, ...] = ("LAMBDA", None, "SQS")) -> None:
    """The three messages with one and the same text, told apart only by their attributes."""
    for kind in kinds:
        attributes = {"sendTo": {"DataType": "String", "StringValue": kind}} if kind else {}
        lab.sns.publish(TopicArn=lab.topic, Message="hello", MessageAttributes=attributes)


def raw_subscription(lab: Lab, policy: dict[str, Any] | None) -> None:
    attributes = {"RawMessageDelivery": "true"}
    if policy:
        attributes["FilterPolicy"] = json.dumps(policy)
    lab.sns.subscribe(
        TopicArn=lab.topic, Protocol="sqs", Endpoint=lab.queue_arn, Attributes=attributes
    )


def test_sqs_check_passes_with_raw_delivery_and_one_text_for_all(lab: Lab, aws: Aws) -> None:
    """Raw delivery, the same text for the three messages, the queue read (and emptied) by a
    receive that did not ask for message attributes."""
    lab.make_topic().make_queue().queue_policy()
    raw_subscription(lab, {"sendTo": ["SQS"]})
    publish_same_text(lab)
    for message in lab.sqs.receive_message(QueueUrl=lab.queue_url)["Messages"]:
        lab.sqs.delete_message(QueueUrl=lab.queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert outcome(aws, "sqs-got-only-its-message") == "passed"


def test_sqs_check_reads_the_attributes_a_receive_asked_for(lab: Lab, aws: Aws) -> None:
    """Raw delivery, one text for all, a swapped filter fixed only after the queue was read (by
    a receive that asked for message attributes): the received sendTo tells, not the filter."""
    lab.make_topic().make_queue().queue_policy()
    raw_subscription(lab, {"sendTo": ["LAMBDA"]})
    publish_same_text(lab)
    for message in lab.sqs.receive_message(QueueUrl=lab.queue_url, MessageAttributeNames=["All"])[
        "Messages"
    ]:
        lab.sqs.delete_message(QueueUrl=lab.queue_url, ReceiptHandle=message["ReceiptHandle"])
    (subscription,) = lab.sns.list_subscriptions_by_topic(TopicArn=lab.topic)["Subscriptions"]
    lab.sns.set_subscription_attributes(
        SubscriptionArn=subscription["SubscriptionArn"],
        AttributeName="FilterPolicy",
        AttributeValue=json.dumps({"sendTo": ["SQS"]}),
    )
    found = result(aws, "sqs-got-only-its-message")
    assert (found.outcome, "LAMBDA" in found.message) == ("failed", True)


@pytest.mark.parametrize("policy", [None, {"sendTo": ["LAMBDA"]}], ids=["no-filter", "swapped"])
def test_sqs_check_fails_with_raw_delivery_one_text_and_a_wrong_filter(
    lab: Lab, aws: Aws, policy: dict[str, Any] | None
) -> None:
    """Told apart by nothing but a shared text, a delivery is not taken for the SQS message
    when the queue's filter is wrong (it used to be, and this passed)."""
    lab.make_topic().make_queue().queue_policy()
    raw_subscription(lab, policy)
    publish_same_text(lab, ("SQS", "LAMBDA", None))
    while messages := lab.sqs.receive_message(QueueUrl=lab.queue_url).get("Messages", []):
        for message in messages:
            lab.sqs.delete_message(QueueUrl=lab.queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert outcome(aws, "sqs-got-only-its-message") == "failed"


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


TEXT_ONLY = """
def lambda_handler(event, context):
    print(event["Records"][0]["Sns"]["Message"])
"""


def test_lambda_check_passes_with_one_text_for_all_printed_alone(lab: Lab, aws: Aws) -> None:
    """The handler prints only the text, the same for the three messages: one run, for the
    LAMBDA message, is what the filter lets through."""
    lab.make_topic().make_function(source=TEXT_ONLY).allow_sns().subscribe()
    publish_same_text(lab)
    assert outcome(aws, "lambda-logged-only-its-message") == "passed"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [(None, "also logged"), ({"sendTo": ["SQS"]}, "does not show")],
    ids=["no-filter", "swapped"],
)
def test_lambda_check_fails_with_one_text_for_all_and_a_wrong_filter(
    lab: Lab, aws: Aws, policy: dict[str, Any] | None, expected: str
) -> None:
    lab.make_topic().make_function(source=TEXT_ONLY).allow_sns().subscribe(lambda_policy=policy)
    publish_same_text(lab)
    found = result(aws, "lambda-logged-only-its-message")
    assert found.outcome == "failed"
    assert expected in found.message


# -- a real account (issue 15): the learner's prefix, read-only checks
def account_results(backend: Backend, prefix: str = PREFIX) -> dict[str, Any]:
    """Every check of lab 07 on a real account with ``prefix``; the checks must only read."""
    results, writes = account_checks("07", AccountAws(backend, prefix=prefix))
    assert writes == []
    return results


STATE = ("function", "invoke-permission", "queue-policy", "filter-policies")
#: Checks that read the flow, or would have to receive from the queue: nothing to read there.
UNREADABLE = ("published", "sqs-got-only-its-message", "lambda-logged-only-its-message")


def test_a_real_account_checks_the_prefixed_resources_by_reading(backend: Backend) -> None:
    Lab(backend, prefix=PREFIX).whole()
    results = account_results(backend)
    assert {c: results[c].outcome for c in STATE} == dict.fromkeys(STATE, "passed")
    assert {c: results[c].outcome for c in UNREADABLE} == dict.fromkeys(UNREADABLE, "not_checkable")
    assert sum(r.max_points for r in results.values()) == 7


def test_a_real_account_does_not_take_the_plain_names(lab: Lab, backend: Backend) -> None:
    lab.whole()
    results = account_results(backend)
    assert {c: results[c].outcome for c in STATE} == dict.fromkeys(STATE, "not_attempted")


def test_a_real_account_still_fails_a_wrong_queue_policy(backend: Backend) -> None:
    Lab(backend, prefix=PREFIX).make_topic().make_queue().queue_policy(Effect="Deny")
    assert account_results(backend)["queue-policy"].outcome == "failed"


def test_a_real_account_never_peeks_at_the_queue(backend: Backend) -> None:
    """What the queue holds stays as the lab left it: no ReceiveMessage from the checks, and the
    check that would need one says "not checkable" even when the queue holds the message."""
    lab = Lab(backend, prefix=PREFIX).whole()
    result = account_results(backend)["sqs-got-only-its-message"]
    assert result.outcome == "not_checkable" and "only reads" in result.message
    held = lab.sqs.get_queue_attributes(
        QueueUrl=lab.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert held == "1"
