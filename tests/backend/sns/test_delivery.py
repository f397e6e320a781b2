"""SNS delivers to SQS and Lambda only with permission, as AWS does (``backend/sns_delivery.py``).

moto 5.2 delivers to any queue without a queue policy and never runs a subscribed function
without Docker (and then with a sample event). On AWS a queue needs a policy allowing the topic
to sqs:SendMessage, a function needs a resource-based policy allowing sns.amazonaws.com; a
delivery without permission fails, which shows in CloudWatch (NumberOfNotificationsFailed) and,
when enabled, in the delivery status logs.
"""

from __future__ import annotations

import datetime
import io
import json
import textwrap
import urllib.request
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend

from tests.conftest import make_client

SQS_SUBSCRIBER = "https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html"
LAMBDA_SUBSCRIBER = "https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html"
METRICS = "https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html"
STATUS_LOGS = "https://docs.aws.amazon.com/sns/latest/dg/sns-topic-attributes.html"

PRINTER = """
import json

def lambda_handler(event, context):
    print(json.dumps(event))
"""


class World:
    """A topic, a queue and a function on one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.sns = make_client(backend, "sns")
        self.sqs = make_client(backend, "sqs")
        self.lam = make_client(backend, "lambda")
        self.logs = make_client(backend, "logs")
        self.cloudwatch = make_client(backend, "cloudwatch")
        self.topic = self.sns.create_topic(Name="filter-topic")["TopicArn"]
        self.queue = self.sqs.create_queue(QueueName="filtered-queue")["QueueUrl"]
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]

    def allow_queue(self, statement: dict[str, Any] | None = None) -> None:
        statement = statement or {
            "Sid": "topic-to-queue",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": self.queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": self.topic}},
        }
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        self.sqs.set_queue_attributes(
            QueueUrl=self.queue, Attributes={"Policy": json.dumps(policy)}
        )

    def subscribe_queue(self, **attributes: str) -> str:
        return self.sns.subscribe(
            TopicArn=self.topic, Protocol="sqs", Endpoint=self.queue_arn, Attributes=attributes
        )["SubscriptionArn"]

    def queued(self) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])

    def function(self) -> str:
        iam = make_client(self.backend, "iam")
        role = iam.create_role(RoleName="printer", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("lambda_function.py", textwrap.dedent(PRINTER))
        return self.lam.create_function(
            FunctionName="sns-printer",
            Runtime="python3.12",
            Role=role,
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]

    def events(self) -> list[dict[str, Any]] | None:
        """The events the function printed, once queued runs are done; None if it never ran."""
        with urllib.request.urlopen(f"{self.backend.url}/_course/lambda/idle") as response:
            assert json.loads(response.read())["idle"]
        try:
            found = self.logs.filter_log_events(logGroupName="/aws/lambda/sns-printer")["events"]
        except self.logs.exceptions.ResourceNotFoundException:
            return None
        return [json.loads(e["message"]) for e in found if e["message"].startswith("{")]

    def metric(self, name: str) -> float:
        now = datetime.datetime.now(datetime.UTC)
        points = self.cloudwatch.get_metric_statistics(
            Namespace="AWS/SNS",
            MetricName=name,
            Dimensions=[{"Name": "TopicName", "Value": "filter-topic"}],
            StartTime=now - datetime.timedelta(hours=1),
            EndTime=now + datetime.timedelta(hours=1),
            Period=3600 * 2,
            Statistics=["Sum"],
        )["Datapoints"]
        return sum(p["Sum"] for p in points)


@pytest.fixture
def world(backend: Backend) -> World:
    return World(backend)


# ------------------------------------------------------------------------------------- SQS


def test_a_queue_without_a_policy_gets_nothing(world: World) -> None:
    """SQS_SUBSCRIBER: "For an Amazon SNS topic to be able to send messages to a queue, you must
    set a policy on the queue that allows the Amazon SNS topic to perform the sqs:SendMessage
    action." Without it the delivery fails: METRICS, NumberOfNotificationsFailed, "The number of
    messages that Amazon SNS failed to deliver"."""
    world.subscribe_queue()
    world.sns.publish(TopicArn=world.topic, Message="lost")
    assert world.queued() == []
    assert world.metric("NumberOfNotificationsFailed") == 1
    assert world.metric("NumberOfNotificationsDelivered") == 0
    assert world.metric("NumberOfMessagesPublished") == 1


def test_a_queue_policy_for_the_topic_lets_messages_in(world: World) -> None:
    """With the policy of SQS_SUBSCRIBER the queue gets the message, wrapped in SNS's JSON: "The
    Amazon SQS message contains the subject and message that were published to the topic along
    with metadata about the message in a JSON document"."""
    world.allow_queue()
    world.subscribe_queue()
    published = world.sns.publish(
        TopicArn=world.topic,
        Message="Hello world!",
        Subject="Testing publish to subscribed queues",
        MessageAttributes={"sendTo": {"DataType": "String", "StringValue": "SQS"}},
    )
    (message,) = world.queued()
    envelope = json.loads(message["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published["MessageId"]
    assert envelope["TopicArn"] == world.topic
    assert envelope["Subject"] == "Testing publish to subscribed queues"
    assert envelope["Message"] == "Hello world!"
    assert envelope["MessageAttributes"] == {"sendTo": {"Type": "String", "Value": "SQS"}}
    assert {
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
    } <= set(envelope)
    assert world.metric("NumberOfNotificationsDelivered") == 1


KEY_MANAGEMENT = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
    "sqs-key-management.html"
)


def _encrypt_queue(world: World, key_policy_for_sns: bool | None) -> str:
    """Encrypt the world's queue (SSE-KMS) with a new customer managed key, whose policy lets SNS
    use it when ``key_policy_for_sns``; with None, with the AWS managed key alias/aws/sqs."""
    if key_policy_for_sns is None:
        key = "alias/aws/sqs"
    else:
        kms = make_client(world.backend, "kms")
        statements = [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
        if key_policy_for_sns:
            statements.append(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                    "Resource": "*",
                }
            )
        policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
        key = kms.create_key(Policy=policy)["KeyMetadata"]["Arn"]
    world.sqs.set_queue_attributes(QueueUrl=world.queue, Attributes={"KmsMasterKeyId": key})
    return key


@pytest.mark.parametrize("key", [False, None], ids=["key-policy-without-sns", "aws-managed-key"])
def test_an_encrypted_queue_gets_nothing_unless_its_key_lets_sns_in(
    world: World, key: bool | None
) -> None:
    """KEY_MANAGEMENT: a queue encrypted with KMS (SSE-KMS) takes messages from SNS only if SNS
    may use its key: a customer managed key whose policy allows the service principal
    kms:GenerateDataKey and kms:Decrypt. "You can't modify the key policy of an AWS managed KMS
    key for Amazon SQS. The policy for this KMS key includes permissions for all principals in
    the account (that are authorized to use Amazon SQS)", not SNS. With the queue policy in
    place, the delivery still fails: NumberOfNotificationsFailed."""
    _encrypt_queue(world, key)  # first: moto's SetQueueAttributes drops a Policy not re-sent
    world.allow_queue()
    world.subscribe_queue()
    world.sns.publish(TopicArn=world.topic, Message="sealed")
    assert world.queued() == []
    assert world.metric("NumberOfNotificationsFailed") == 1


def test_an_encrypted_queue_whose_key_lets_sns_in_gets_the_message(world: World) -> None:
    """KEY_MANAGEMENT: with a key policy statement for sns.amazonaws.com allowing
    kms:GenerateDataKey* and kms:Decrypt, SNS delivers to the SSE-KMS queue."""
    _encrypt_queue(world, True)
    world.allow_queue()
    world.subscribe_queue()
    world.sns.publish(TopicArn=world.topic, Message="sealed")
    (message,) = world.queued()
    assert json.loads(message["Body"])["Message"] == "sealed"
    assert world.metric("NumberOfNotificationsDelivered") == 1


def test_the_documented_everybody_policy_with_a_source_arn_works(world: World) -> None:
    """SQS_SUBSCRIBER's own example: Principal "*", Action sqs:SendMessage, Condition ArnEquals
    aws:SourceArn the topic."""
    world.allow_queue(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sqs:SendMessage",
            "Resource": world.queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": world.topic}},
        }
    )
    world.subscribe_queue()
    world.sns.publish(TopicArn=world.topic, Message="in")
    assert len(world.queued()) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:other"}}},
        {"Action": "sqs:ReceiveMessage"},
        {"Principal": {"Service": "s3.amazonaws.com"}},
        {"Effect": "Deny"},
        {"Resource": "arn:aws:sqs:us-east-1:123456789012:another-queue"},
    ],
    ids=["other-topic", "other-action", "other-service", "deny", "other-queue"],
)
def test_a_policy_that_does_not_cover_the_topic_keeps_messages_out(
    world: World, change: dict[str, Any]
) -> None:
    """Only a statement that allows this topic (aws:SourceArn), this action and this queue lets the
    message in; an explicit Deny always wins
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": world.queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": world.topic}},
        **change,
    }
    world.allow_queue(statement)
    world.subscribe_queue()
    world.sns.publish(TopicArn=world.topic, Message="kept out")
    assert world.queued() == []


def test_failures_go_to_the_delivery_status_log_when_enabled(world: World) -> None:
    """STATUS_LOGS: "After you configure the <ENDPOINT>FailureFeedbackRoleArn attribute, then all
    failed message deliveries generate CloudWatch Logs." They land in the topic's Failure group."""
    world.sns.set_topic_attributes(
        TopicArn=world.topic,
        AttributeName="SQSFailureFeedbackRoleArn",
        AttributeValue="arn:aws:iam::123456789012:role/SNSFailureFeedback",
    )
    assert (
        world.sns.get_topic_attributes(TopicArn=world.topic)["Attributes"][
            "SQSFailureFeedbackRoleArn"
        ]
        == "arn:aws:iam::123456789012:role/SNSFailureFeedback"
    )
    world.subscribe_queue()
    published = world.sns.publish(TopicArn=world.topic, Message="lost")
    group = "sns/us-east-1/123456789012/filter-topic/Failure"
    (event,) = world.logs.filter_log_events(logGroupName=group)["events"]
    record = json.loads(event["message"])
    assert record["status"] == "FAILURE"
    assert record["notification"]["messageId"] == published["MessageId"]
    assert record["delivery"]["destination"] == world.queue_arn
    assert record["delivery"]["statusCode"] == 403
    assert "AccessDenied" in record["delivery"]["providerResponse"]


def test_raw_message_delivery_sends_the_message_itself(world: World) -> None:
    """https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html: with
    raw delivery the queue gets the message body and its attributes, without the JSON envelope."""
    world.allow_queue()
    world.subscribe_queue(RawMessageDelivery="true")
    world.sns.publish(
        TopicArn=world.topic,
        Message="raw body",
        MessageAttributes={"sendTo": {"DataType": "String", "StringValue": "SQS"}},
    )
    (message,) = world.queued()
    assert message["Body"] == "raw body"
    assert message["MessageAttributes"]["sendTo"]["StringValue"] == "SQS"


def test_a_filtered_message_is_counted_not_failed(world: World) -> None:
    """METRICS: NumberOfNotificationsFilteredOut is "The number of messages that were rejected by
    subscription filter policies"; NumberOfNotificationsFailed "does not include messages that
    were rejected by subscription filter policies"."""
    world.allow_queue()
    world.subscribe_queue(FilterPolicy=json.dumps({"sendTo": ["SQS"]}))
    world.sns.publish(TopicArn=world.topic, Message="no attributes")
    assert world.queued() == []
    assert world.metric("NumberOfNotificationsFilteredOut") == 1
    assert world.metric("NumberOfNotificationsFilteredOut-NoMessageAttributes") == 1
    assert world.metric("NumberOfNotificationsFailed") == 0


# ---------------------------------------------------------------------------------- Lambda


def test_a_function_without_permission_is_not_invoked(world: World) -> None:
    """https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html and
    LAMBDA_SUBSCRIBER: SNS invokes the function only if its resource-based policy allows it
    (AddPermission with Principal sns.amazonaws.com). Without it the function never runs."""
    function_arn = world.function()
    world.sns.subscribe(TopicArn=world.topic, Protocol="lambda", Endpoint=function_arn)
    world.sns.publish(TopicArn=world.topic, Message="unheard")
    assert world.events() is None
    assert world.metric("NumberOfNotificationsFailed") == 1


def test_a_permission_for_another_topic_does_not_count(world: World) -> None:
    function_arn = world.function()
    world.lam.add_permission(
        FunctionName="sns-printer",
        StatementId="other",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn="arn:aws:sns:us-east-1:123456789012:other-topic",
    )
    world.sns.subscribe(TopicArn=world.topic, Protocol="lambda", Endpoint=function_arn)
    world.sns.publish(TopicArn=world.topic, Message="unheard")
    assert world.events() is None


def test_with_permission_the_function_gets_the_real_sns_event(world: World) -> None:
    """LAMBDA_SUBSCRIBER: "When a message is published to an Amazon SNS topic, the service can
    invoke your Lambda function by passing the message payload as a parameter"; the event is
    Records[0].Sns with Type, MessageId, TopicArn, Subject, Message, Timestamp, SignatureVersion,
    Signature, SigningCertUrl, UnsubscribeUrl, MessageAttributes, and EventSubscriptionArn
    (moto sent a fixed sample: TopicArn "arn:aws:sns:EXAMPLE", Timestamp 1970)."""
    function_arn = world.function()
    world.lam.add_permission(
        FunctionName="sns-printer",
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=world.topic,
    )
    subscription = world.sns.subscribe(
        TopicArn=world.topic, Protocol="lambda", Endpoint=function_arn
    )["SubscriptionArn"]
    published = world.sns.publish(
        TopicArn=world.topic,
        Message="Hello from SNS!",
        Subject="TestInvoke",
        MessageAttributes={"sendTo": {"DataType": "String", "StringValue": "LAMBDA"}},
    )
    world.sns.publish(TopicArn=world.topic, Message="no subject")
    events = world.events()
    assert events is not None and len(events) == 2
    by_message = {e["Records"][0]["Sns"]["Message"]: e["Records"][0] for e in events}
    record = by_message["Hello from SNS!"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == subscription
    sns = record["Sns"]
    assert sns["Type"] == "Notification"
    assert sns["MessageId"] == published["MessageId"]
    assert sns["TopicArn"] == world.topic
    assert sns["Subject"] == "TestInvoke"
    assert sns["MessageAttributes"] == {"sendTo": {"Type": "String", "Value": "LAMBDA"}}
    sent = datetime.datetime.fromisoformat(sns["Timestamp"].replace("Z", "+00:00"))
    assert abs((datetime.datetime.now(datetime.UTC) - sent).total_seconds()) < 60
    assert {"Signature", "SigningCertUrl", "UnsubscribeUrl", "SignatureVersion"} <= set(sns)
    assert by_message["no subject"]["Sns"]["Subject"] is None
    assert world.metric("NumberOfNotificationsDelivered") == 2


def test_publish_rejects_a_json_structure_without_default(world: World) -> None:
    """https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, MessageStructure: "the value of
    the Message parameter must: be a syntactically valid JSON object; and contain at least a
    top-level JSON key of "default" with a value that is a string"."""
    world.allow_queue()
    world.subscribe_queue()
    with pytest.raises(ClientError) as raised:
        world.sns.publish(
            TopicArn=world.topic, Message=json.dumps({"sqs": "only"}), MessageStructure="json"
        )
    assert raised.value.response["Error"]["Code"] == "InvalidParameter"
    world.sns.publish(
        TopicArn=world.topic,
        Message=json.dumps({"default": "for all", "sqs": "for queues"}),
        MessageStructure="json",
    )
    assert json.loads(world.queued()[0]["Body"])["Message"] == "for queues"


@pytest.mark.parametrize("subject", ["two\nlines", "x" * 100, ""], ids=["newline", "100", "empty"])
def test_publish_rejects_a_bad_subject(world: World, subject: str) -> None:
    """https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, Subject: "Constraints:
    Subjects must be UTF-8 text with no line breaks or control characters, and less than 100
    characters long." (moto accepted line breaks and the empty subject, and answered HTTP 500 to
    long ones.)"""
    with pytest.raises(ClientError) as raised:
        world.sns.publish(TopicArn=world.topic, Message="m", Subject=subject)
    assert raised.value.response["Error"]["Code"] == "InvalidParameter"
    assert world.sns.publish(TopicArn=world.topic, Message="m", Subject="x" * 99)["MessageId"]


def test_publish_batch_lists_an_entry_with_a_bad_subject_in_failed(world: World) -> None:
    """https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html: each entry that fails is
    in Failed (BatchResultErrorEntry: Code, Id, Message, SenderFault), the others succeed; a
    Subject of 100 characters or more breaks the Publish constraint "less than 100 characters
    long". (moto dropped an entry over 100 characters from both lists.)"""
    entries = [
        {"Id": "ok", "Message": "m", "Subject": "x" * 99},
        {"Id": "hundred", "Message": "m", "Subject": "x" * 100},
        {"Id": "long", "Message": "m", "Subject": "x" * 150},
    ]
    sent = world.sns.publish_batch(TopicArn=world.topic, PublishBatchRequestEntries=entries)
    assert [e["Id"] for e in sent["Successful"]] == ["ok"]
    failed = {e["Id"]: e for e in sent["Failed"]}
    assert set(failed) == {"hundred", "long"}
    assert all(e["Code"] == "InvalidParameter" and e["SenderFault"] for e in failed.values())


def test_a_content_deduplicated_fifo_topic_passes_an_id_to_its_fifo_queue(world: World) -> None:
    """Publish, MessageDeduplicationId: "If you aren't able to provide a MessageDeduplicationId and
    you enable ContentBasedDeduplication for your topic, Amazon SNS uses a SHA-256 hash to generate
    the MessageDeduplicationId using the body of the message" — so a FIFO queue without
    content-based deduplication of its own accepts the message (moto failed the Publish)."""
    topic = world.sns.create_topic(
        Name="orders.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    url = world.sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    arn = world.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
            }
        ]
    }
    world.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    world.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    world.sns.publish(TopicArn=topic, Message="order 1", MessageGroupId="A")
    got = world.sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])["Messages"]
    assert json.loads(got[0]["Body"])["Message"] == "order 1"
    assert got[0]["Attributes"]["MessageDeduplicationId"]
