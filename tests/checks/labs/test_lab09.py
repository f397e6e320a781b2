"""Lab 09's checks: none passes on an empty backend, each passes on the right work and fails, with
an actionable reason, on wrong work."""

from __future__ import annotations

import contextlib
import json
import smtplib
import threading
import time
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage

from botocore.exceptions import ClientError
from course.backend.process import Backend
from course.backend.ses.smtp import smtp_password
from course.checks.context import Aws

from tests.backend.ses.helpers import (
    events_pipeline,
    grant_production,
    make_client,
    read_events,
    request_production,
    simple,
    verified_domain,
)
from tests.checks.labs.test_lab08 import _smtp_user, on_account
from tests.conftest import check_results, make_resource

SENDER = "no-reply@example.com"


def _send(backend: Backend, to: str, config_set: str | None = None) -> None:
    extra = {"ConfigurationSetName": config_set} if config_set else {}
    with contextlib.suppress(ClientError):
        make_client(backend, "sesv2").send_email(
            FromEmailAddress=SENDER, Destination={"ToAddresses": [to]}, Content=simple(), **extra
        )
    backend.advance_clock(1)


def _alarm(backend: Backend, **overrides: object) -> None:
    params: dict = {
        "AlarmName": "ses-bounce-rate",
        "Namespace": "AWS/SES",
        "MetricName": "Reputation.BounceRate",
        "Statistic": "Average",
        "Period": 3600,
        "EvaluationPeriods": 1,
        "Threshold": 0.05,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    }
    params.update(overrides)
    make_client(backend, "cloudwatch").put_metric_alarm(**params)


def _destination_to(backend: Backend, config_set: str, topic_name: str) -> None:
    """Configuration set ``config_set`` with one enabled BOUNCE and COMPLAINT destination to
    a new SNS topic ``topic_name``."""
    sesv2 = make_client(backend, "sesv2")
    sesv2.create_configuration_set(ConfigurationSetName=config_set)
    topic = make_client(backend, "sns").create_topic(Name=topic_name)["TopicArn"]
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=config_set,
        EventDestinationName="x",
        EventDestination={
            "Enabled": True,
            "MatchingEventTypes": ["BOUNCE", "COMPLAINT"],
            "SnsDestination": {"TopicArn": topic},
        },
    )


def _complete(backend: Backend) -> None:
    verified_domain(backend)
    grant_production(backend)
    _send(backend, "customer@example.org")
    _, queue = events_pipeline(backend)
    for address in ("bounce", "complaint"):
        _send(backend, f"{address}@simulator.amazonses.com", "course-events")
    assert len(read_events(backend, queue, want=5)) == 5  # 2 Send, Bounce, Delivery, Complaint
    _alarm(backend)


def test_nothing_passes_on_an_empty_backend(backend: Backend, aws: Aws) -> None:
    results = check_results("09", aws)
    assert {r.outcome for r in results.values()} == {"not_attempted"}
    assert sum(r.max_points for r in results.values()) == 12


def test_the_complete_lab_passes_every_check(backend: Backend, aws: Aws) -> None:
    _complete(backend)
    results = check_results("09", aws)
    assert {k: r.outcome for k, r in results.items()} == dict.fromkeys(results, "passed")


def test_an_incomplete_request_is_denied_and_named(backend: Backend, aws: Aws) -> None:
    request_production(
        backend,
        use_case="Customers who sign up get password resets. They can unsubscribe any time.",
    )
    backend.advance_clock(5)
    results = check_results("09", aws)
    assert results["request-complete"].outcome == "failed"
    assert "bounces and complaints" in results["request-complete"].message
    assert "recipient list" not in results["request-complete"].message
    assert results["granted"].outcome == "failed"
    assert "DENIED" in results["granted"].message


def test_a_request_without_production_access_is_not_complete(backend: Backend, aws: Aws) -> None:
    request_production(backend, ProductionAccessEnabled=False)
    results = check_results("09", aws)
    assert results["request-complete"].outcome == "failed"
    assert "ProductionAccessEnabled" in results["request-complete"].message
    assert results["granted"].outcome == "not_attempted"


def test_granted_fails_while_pending(backend: Backend, aws: Aws) -> None:
    request_production(backend)
    results = check_results("09", aws)
    assert results["request-complete"].outcome == "passed"
    assert results["granted"].outcome == "failed" and "PENDING" in results["granted"].message


def test_sending_to_an_unverified_address_in_the_sandbox_fails(backend: Backend, aws: Aws) -> None:
    verified_domain(backend)
    _send(backend, "customer@example.org")
    _send(backend, "success@simulator.amazonses.com")  # the simulator is not "unverified"
    result = check_results("09", aws)["sent-unverified"]
    assert result.outcome == "failed" and "MessageRejected" in result.message


def test_event_destination_problems(backend: Backend, aws: Aws) -> None:
    verified_domain(backend)
    events_pipeline(backend, types=("DELIVERY", "BOUNCE"))
    result = check_results("09", aws)["event-destination"]
    assert result.outcome == "failed" and "COMPLAINT" in result.message
    backend.reset()
    events_pipeline(backend, enabled=False)
    result = check_results("09", aws)["event-destination"]
    assert result.outcome == "failed" and "disabled" in result.message
    backend.reset()
    _destination_to(backend, "course-events", "other-topic")
    result = check_results("09", aws)["event-destination"]
    assert result.outcome == "failed" and "ses-events" in result.message


def test_events_missing_without_the_queue_policy_or_the_complaint(
    backend: Backend, aws: Aws
) -> None:
    verified_domain(backend)
    _, queue = events_pipeline(backend, policy=False)
    _send(backend, "bounce@simulator.amazonses.com", "course-events")
    read_events(backend, queue, want=1, wait=2)
    result = check_results("09", aws)["events-captured"]
    assert result.outcome == "failed" and "queue policy" in result.message
    backend.reset()
    verified_domain(backend)
    _, queue = events_pipeline(backend)
    _send(backend, "bounce@simulator.amazonses.com", "course-events")
    read_events(backend, queue, want=2)
    result = check_results("09", aws)["events-captured"]
    assert result.outcome == "failed" and "missing: Complaint" in result.message


def test_alarm_thresholds_and_metrics(backend: Backend, aws: Aws) -> None:
    _alarm(backend, Threshold=5.0)
    result = check_results("09", aws)["bounce-alarm"]
    assert result.outcome == "failed" and "fraction" in result.message
    make_client(backend, "cloudwatch").delete_alarms(AlarmNames=["ses-bounce-rate"])
    _alarm(backend, ComparisonOperator="LessThanThreshold")
    assert check_results("09", aws)["bounce-alarm"].outcome == "failed"
    make_client(backend, "cloudwatch").delete_alarms(AlarmNames=["ses-bounce-rate"])
    _alarm(backend, Namespace="Custom", MetricName="Bounces")
    result = check_results("09", aws)["bounce-alarm"]
    assert result.outcome == "failed" and "Reputation.BounceRate" in result.message


def _forged_event(kind: str) -> str:
    return json.dumps({"eventType": kind, "mail": {"messageId": "forged"}})


def test_events_sent_to_the_queue_by_the_notebook_do_not_count(backend: Backend, aws: Aws) -> None:
    _, queue = events_pipeline(backend)
    sqs = make_client(backend, "sqs")
    for kind in ("Bounce", "Complaint"):
        sqs.send_message(QueueUrl=queue, MessageBody=_forged_event(kind))
    assert len(sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]) == 2
    assert check_results("09", aws)["events-captured"].outcome == "failed"


def test_events_published_to_the_topic_by_the_notebook_do_not_count(
    backend: Backend, aws: Aws
) -> None:
    topic, queue = events_pipeline(backend)
    sns = make_client(backend, "sns")
    for kind in ("Bounce", "Complaint"):
        sns.publish(TopicArn=topic, Message=_forged_event(kind))
    assert len(read_events(backend, queue, want=2)) == 2
    assert check_results("09", aws)["events-captured"].outcome == "failed"


# Unusual but correct work: each check passes on a right answer whatever the API, the order, a
# helper or a thread.

ISSUE_REQUEST = (
    "Our list is built from people who create an account in our shop and tick a box asking for "
    "email. We only send order and shipping emails. Each email footer has a one-click link to "
    "stop these emails, applied immediately. Hard bounces and spam reports arrive through SNS "
    "and the address is removed from the list."
)


def _in_a_thread(work: Callable[[], object]) -> None:
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()


def test_a_clear_request_in_other_words_from_a_thread_is_complete_and_granted(
    backend: Backend, aws: Aws
) -> None:
    """The issue's request, which the keyword reviewer denied on all four questions, sent as
    MARKETING from a helper in a thread after a denied first try."""

    def ask(use_case: str) -> None:
        request_production(backend, use_case=use_case, MailType="MARKETING")
        backend.advance_clock(5)

    _in_a_thread(lambda: ask("bounce complain unsubscribe signup marketing"))
    results = check_results("09", aws)
    assert results["request-complete"].outcome == "failed"
    assert "List: " in results["request-complete"].message  # how to label the answers
    assert results["granted"].outcome == "failed"
    _in_a_thread(lambda: ask(ISSUE_REQUEST))
    results = check_results("09", aws)
    assert results["request-complete"].outcome == "passed"
    assert results["granted"].outcome == "passed"


def test_sent_unverified_through_the_v1_api_with_raw_headers_only(
    backend: Backend, aws: Aws
) -> None:
    verified_domain(backend)
    grant_production(backend)
    raw = f"From: {SENDER}\r\nTo: Someone <someone@example.org>\r\nSubject: Hi\r\n\r\nHello\r\n"
    _in_a_thread(
        lambda: make_client(backend, "ses").send_raw_email(RawMessage={"Data": raw.encode()})
    )
    assert check_results("09", aws)["sent-unverified"].outcome == "passed"


def _v1_pipeline(backend: Backend, raw: bool) -> tuple[str, str]:
    """The events pipeline built with the SES v1 API (lower-case event types, SNSDestination),
    the queue subscribed with raw message delivery when ``raw``."""
    sns = make_client(backend, "sns")
    queue = make_resource(backend, "sqs").create_queue(QueueName="ses-events-queue")
    topic = sns.create_topic(Name="ses-events")["TopicArn"]
    arn = queue.attributes["QueueArn"]
    queue.set_attributes(
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "SQS:SendMessage",
                            "Resource": arn,
                            "Condition": {"ArnLike": {"aws:SourceArn": topic}},
                        }
                    ],
                }
            )
        }
    )
    attributes = {"RawMessageDelivery": "true"} if raw else {}
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    ses = make_client(backend, "ses")
    ses.create_configuration_set(ConfigurationSet={"Name": "course-events"})
    ses.create_configuration_set_event_destination(
        ConfigurationSetName="course-events",
        EventDestination={
            "Name": "to-sns",
            "Enabled": True,
            "MatchingEventTypes": ["bounce", "complaint"],
            "SNSDestination": {"TopicARN": topic},
        },
    )
    return topic, queue.url


def test_the_v1_api_raw_delivery_and_the_resource_api_capture_events(
    backend: Backend, aws: Aws
) -> None:
    verified_domain(backend)
    _, url = _v1_pipeline(backend, raw=True)
    ses = make_client(backend, "ses")
    for address in ("bounce", "complaint"):
        ses.send_email(
            Source=SENDER,
            Destination={"ToAddresses": [f"{address}@simulator.amazonses.com"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
            ConfigurationSetName="course-events",
        )
        backend.advance_clock(1)
    queue = make_resource(backend, "sqs").Queue(url)
    bodies: list[str] = []
    deadline = time.monotonic() + 8
    while len(bodies) < 2 and time.monotonic() < deadline:
        for message in queue.receive_messages(MaxNumberOfMessages=10, WaitTimeSeconds=1):
            bodies.append(message.body)
            message.delete()
    assert len(bodies) == 2
    results = check_results("09", aws)
    assert results["event-destination"].outcome == "passed"
    assert results["events-captured"].outcome == "passed"


def test_an_alarm_on_the_metric_through_metric_queries_passes(backend: Backend, aws: Aws) -> None:
    make_client(backend, "cloudwatch").put_metric_alarm(
        AlarmName="bounces",
        EvaluationPeriods=1,
        Threshold=0.02,
        ComparisonOperator="GreaterThanThreshold",
        Metrics=[
            {
                "Id": "rate",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/SES", "MetricName": "Reputation.BounceRate"},
                    "Period": 3600,
                    "Stat": "Maximum",
                },
                "ReturnData": True,
            }
        ],
    )
    assert check_results("09", aws)["bounce-alarm"].outcome == "passed"


def test_sent_unverified_through_the_smtp_interface(backend: Backend, aws: Aws) -> None:
    """SMTP is not an API call: the check reads the SMTP interface's sessions too."""
    verified_domain(backend)
    key = _smtp_user(backend)  # lab 08's IAM user allowed ses:SendRawEmail, and its key
    endpoint = json.loads(urllib.request.urlopen(f"{backend.url}/_course/ses/smtp").read())

    def send() -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = SENDER, "someone@example.org", "Hi"
        message.set_content("Hello")
        with (
            contextlib.suppress(smtplib.SMTPException),
            smtplib.SMTP(endpoint["host"], endpoint["port"], timeout=10) as smtp,
        ):
            smtp.starttls()
            smtp.login(key["AccessKeyId"], smtp_password(key["SecretAccessKey"], "us-east-1"))
            smtp.send_message(message)
        backend.advance_clock(1)

    send()  # in the sandbox: refused
    result = check_results("09", aws)["sent-unverified"]
    assert result.outcome == "failed" and "SMTP 554" in result.message
    grant_production(backend)
    send()
    assert check_results("09", aws)["sent-unverified"].outcome == "passed"


def test_one_destination_per_event_type_to_the_topic_passes(backend: Backend, aws: Aws) -> None:
    topic, _ = events_pipeline(backend, types=("BOUNCE",))
    make_client(backend, "sesv2").create_configuration_set_event_destination(
        ConfigurationSetName="course-events",
        EventDestinationName="complaints",
        EventDestination={
            "Enabled": True,
            "MatchingEventTypes": ["COMPLAINT"],
            "SnsDestination": {"TopicArn": topic},
        },
    )
    assert check_results("09", aws)["event-destination"].outcome == "passed"


def test_events_from_identity_notifications_are_captured(backend: Backend, aws: Aws) -> None:
    """Feedback notifications of the identity (v1 SetIdentityNotificationTopic) reach the queue
    as notificationType records, through the same topic: SES → SNS → SQS all the same."""
    verified_domain(backend)
    topic, url = events_pipeline(backend, config_set="other-set")
    ses = make_client(backend, "ses")
    for kind in ("Bounce", "Complaint"):
        ses.set_identity_notification_topic(
            Identity="example.com", NotificationType=kind, SnsTopic=topic
        )
    for address in ("bounce", "complaint"):
        _send(backend, f"{address}@simulator.amazonses.com")
    sqs = make_client(backend, "sqs")
    kinds: set[str] = set()
    deadline = time.monotonic() + 8
    while len(kinds) < 2 and time.monotonic() < deadline:
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []):
            kinds.add(json.loads(json.loads(m["Body"])["Message"])["notificationType"])
    assert kinds == {"Bounce", "Complaint"}
    assert check_results("09", aws)["events-captured"].outcome == "passed"


def test_sent_unverified_through_a_v1_bulk_send(backend: Backend, aws: Aws) -> None:
    """Only once out of the sandbox: in the sandbox a v1 bulk send to an unverified recipient
    gets MessageRejected for that destination, as on AWS."""
    verified_domain(backend)
    ses = make_client(backend, "ses")
    ses.create_template(
        Template={"TemplateName": "hello", "SubjectPart": "Hi {{name}}", "TextPart": "Hello"}
    )

    def bulk() -> list[str]:
        answer = ses.send_bulk_templated_email(
            Source=SENDER,
            Template="hello",
            DefaultTemplateData=json.dumps({"name": "you"}),
            Destinations=[{"Destination": {"ToAddresses": ["someone@example.org"]}}],
        )
        backend.advance_clock(1)
        return [s["Status"] for s in answer["Status"]]

    assert bulk() == ["MessageRejected"]
    assert check_results("09", aws)["sent-unverified"].outcome == "not_attempted"
    grant_production(backend)
    assert bulk() == ["Success"]
    assert check_results("09", aws)["sent-unverified"].outcome == "passed"


# -- a real account (issue 15): names with the learner's prefix, read-only checks
def test_on_an_account_the_learners_prefixed_resources_pass_and_flow_is_not_checkable(
    backend: Backend,
) -> None:
    """On a shared account the checks look for ``ana-course-events``, ``ana-ses-events`` and
    an alarm named with ``ana-``: another learner's (or unprefixed) ones do not count."""
    events_pipeline(backend)  # course-events -> ses-events: not the learner's names
    _alarm(backend, AlarmName="binh-ses-bounce-rate")
    found = on_account("09", backend, None, None)
    assert found["event-destination"].outcome == "not_attempted"
    assert "ana-course-events" in found["event-destination"].message
    assert found["bounce-alarm"].outcome == "not_attempted"
    assert "starts with ana-" in found["bounce-alarm"].message

    _destination_to(backend, "ana-course-events", "ana-ses-events")
    _alarm(backend, AlarmName="ana-ses-bounce-rate")
    grant_production(backend)
    found = on_account("09", backend, None, None)
    assert {k: r.outcome for k, r in found.items()} == {
        "request-complete": "not_checkable",
        "granted": "passed",
        "sent-unverified": "not_checkable",
        "event-destination": "passed",
        "events-captured": "not_checkable",
        "bounce-alarm": "passed",
    }
