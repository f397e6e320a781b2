"""What SES does after accepting mail: the mailbox simulator's outcomes, event publishing to SNS,
identity notifications, feedback emails and sending statistics. moto keeps one event destination
per configuration set, has no v2 calls for them, and publishes nothing."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend

from tests.backend.ses.helpers import (
    events_pipeline,
    mails,
    make_client,
    read_events,
    simple,
    verified_domain,
)

SENDER = "no-reply@example.com"
SIM = "@simulator.amazonses.com"


def _send(backend: Backend, to: str, config_set: str | None = "course-events") -> str:
    extra = {"ConfigurationSetName": config_set} if config_set else {}
    message_id = make_client(backend, "sesv2").send_email(
        FromEmailAddress=SENDER, Destination={"ToAddresses": [to]}, Content=simple(), **extra
    )["MessageId"]
    backend.advance_clock(1)  # the sandbox sends one message per second
    return message_id


def test_bounce_record_as_aws_documents_it(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html: bounce@ — "The
    recipient's email provider rejects your email with an SMTP 550 5.1.1 ("Unknown User")
    response code". The record has the fields of the documented Bounce record
    (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html)."""
    verified_domain(backend)
    _, queue = events_pipeline(backend)
    message_id = _send(backend, f"bounce{SIM}")
    events = read_events(backend, queue, want=2)
    assert sorted(e["eventType"] for e in events) == ["Bounce", "Send"]
    bounce = next(e for e in events if e["eventType"] == "Bounce")
    assert bounce["bounce"]["bounceType"] == "Permanent"
    assert bounce["bounce"]["bounceSubType"] == "General"
    assert bounce["bounce"]["bouncedRecipients"] == [
        {
            "emailAddress": f"bounce{SIM}",
            "action": "failed",
            "status": "5.1.1",
            "diagnosticCode": "smtp; 550 5.1.1 user unknown",
        }
    ]
    mail = bounce["mail"]
    assert mail["messageId"] == message_id
    assert mail["source"] == SENDER
    assert mail["sourceArn"] == "arn:aws:ses:us-east-1:123456789012:identity/example.com"
    assert mail["destination"] == [f"bounce{SIM}"]
    assert mail["commonHeaders"]["subject"] == "Hello"
    assert mail["tags"]["ses:configuration-set"] == ["course-events"]
    assert mail["tags"]["ses:from-domain"] == ["example.com"]
    assert not mails(backend, f"bounce{SIM}")  # the simulator is not a mailbox


def test_complaint_success_and_suppression_list(backend: Backend) -> None:
    """send-an-email-from-console.html: complaint@ "accepts your email and delivers it ... The
    recipient ... clicks "Mark as Spam""; success@ is a "Successful delivery"; suppressionlist@:
    "Amazon SES generates a hard bounce as if the recipient's address is on the Amazon SES
    suppression list"."""
    verified_domain(backend)
    _, queue = events_pipeline(backend, types=("DELIVERY", "BOUNCE", "COMPLAINT"))
    for local in ("complaint", "success", "suppressionlist"):
        _send(backend, f"{local}{SIM}")
    events = read_events(backend, queue, want=4)
    kinds = sorted((e["eventType"], e["mail"]["destination"][0].split("@")[0]) for e in events)
    assert kinds == [
        ("Bounce", "suppressionlist"),
        ("Complaint", "complaint"),
        ("Delivery", "complaint"),
        ("Delivery", "success"),
    ]
    complaint = next(e for e in events if e["eventType"] == "Complaint")["complaint"]
    assert complaint["complainedRecipients"] == [{"emailAddress": f"complaint{SIM}"}]
    assert complaint["complaintFeedbackType"] == "abuse"
    suppressed = next(e for e in events if e["eventType"] == "Bounce")["bounce"]
    assert (suppressed["bounceType"], suppressed["bounceSubType"]) == ("Permanent", "Suppressed")
    delivery = next(e for e in events if e["eventType"] == "Delivery")["delivery"]
    assert delivery["smtpResponse"].startswith("250")


def test_matching_types_filter_and_a_disabled_destination_sends_nothing(
    backend: Backend,
) -> None:
    """https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_EventDestination.html:
    MatchingEventTypes — "The types of events that Amazon SES sends to the specified event
    destinations"; Enabled — "If true, the event destination is enabled"."""
    verified_domain(backend)
    _, queue = events_pipeline(backend, types=("BOUNCE",))
    _send(backend, f"success{SIM}")
    _send(backend, f"bounce{SIM}")
    assert [e["eventType"] for e in read_events(backend, queue, want=2, wait=3)] == ["Bounce"]
    backend.reset()
    verified_domain(backend)
    _, queue = events_pipeline(backend, enabled=False)
    _send(backend, f"bounce{SIM}")
    assert read_events(backend, queue, want=1, wait=2) == []


def test_without_the_queue_policy_sns_does_not_deliver(backend: Backend) -> None:
    """https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html: the
    queue needs a policy that "allows Amazon SNS to send messages to the queue". SES's events go
    through SNS like any other message, so without it nothing arrives."""
    verified_domain(backend)
    _, queue = events_pipeline(backend, policy=False)
    _send(backend, f"bounce{SIM}")
    assert read_events(backend, queue, want=1, wait=2) == []


def test_v1_and_v2_event_destinations_are_one_list(backend: Backend) -> None:
    """API_CreateConfigurationSetEventDestination (v1 and v2) add destinations to one set; v1
    DescribeConfigurationSet lists them all (moto keeps only the last one) and v2
    GetConfigurationSetEventDestinations (missing in moto) sees v1's."""
    ses, sesv2 = make_client(backend, "ses"), make_client(backend, "sesv2")
    topic = make_client(backend, "sns").create_topic(Name="ses-events")["TopicArn"]
    ses.create_configuration_set(ConfigurationSet={"Name": "cs"})
    ses.create_configuration_set_event_destination(
        ConfigurationSetName="cs",
        EventDestination={
            "Name": "v1-dest",
            "Enabled": True,
            "MatchingEventTypes": ["bounce", "complaint"],
            "SNSDestination": {"TopicARN": topic},
        },
    )
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName="cs",
        EventDestinationName="v2-dest",
        EventDestination={
            "MatchingEventTypes": ["DELIVERY"],
            "SnsDestination": {"TopicArn": topic},
        },
    )
    v2 = sesv2.get_configuration_set_event_destinations(ConfigurationSetName="cs")
    assert [
        (d["Name"], d["MatchingEventTypes"], d["Enabled"]) for d in v2["EventDestinations"]
    ] == [
        ("v1-dest", ["BOUNCE", "COMPLAINT"], True),
        ("v2-dest", ["DELIVERY"], False),
    ]
    v1 = ses.describe_configuration_set(
        ConfigurationSetName="cs", ConfigurationSetAttributeNames=["eventDestinations"]
    )
    assert [d["Name"] for d in v1["EventDestinations"]] == ["v1-dest", "v2-dest"]
    assert v1["EventDestinations"][0]["SNSDestination"] == {"TopicARN": topic}
    with pytest.raises(ClientError) as raised:
        sesv2.create_configuration_set_event_destination(
            ConfigurationSetName="cs",
            EventDestinationName="v2-dest",
            EventDestination={"MatchingEventTypes": ["SEND"]},
        )
    assert raised.value.response["Error"]["Code"] == "AlreadyExistsException"
    with pytest.raises(ClientError) as raised:
        sesv2.get_configuration_set_event_destinations(ConfigurationSetName="missing")
    assert raised.value.response["Error"]["Code"] == "NotFoundException"
    sesv2.delete_configuration_set_event_destination(
        ConfigurationSetName="cs", EventDestinationName="v1-dest"
    )
    left = sesv2.get_configuration_set_event_destinations(ConfigurationSetName="cs")
    assert [d["Name"] for d in left["EventDestinations"]] == ["v2-dest"]
    # each API spells a destination's target in its own way: v1 IAMRoleARN, v2 IamRoleArn
    role = "arn:aws:iam::123456789012:role/firehose"
    stream = "arn:aws:firehose:us-east-1:123456789012:deliverystream/ses"
    dimensions = [
        {
            "DimensionName": "source",
            "DimensionValueSource": "MESSAGE_TAG",
            "DefaultDimensionValue": "none",
        }
    ]
    ses.create_configuration_set_event_destination(
        ConfigurationSetName="cs",
        EventDestination={
            "Name": "v1-firehose",
            "MatchingEventTypes": ["send"],
            "KinesisFirehoseDestination": {"IAMRoleARN": role, "DeliveryStreamARN": stream},
        },
    )
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName="cs",
        EventDestinationName="v2-cloudwatch",
        EventDestination={
            "MatchingEventTypes": ["SEND"],
            "CloudWatchDestination": {"DimensionConfigurations": dimensions},
        },
    )
    v2 = sesv2.get_configuration_set_event_destinations(ConfigurationSetName="cs")
    firehose = next(d for d in v2["EventDestinations"] if d["Name"] == "v1-firehose")
    assert firehose["KinesisFirehoseDestination"] == {
        "IamRoleArn": role,
        "DeliveryStreamArn": stream,
    }
    v1 = ses.describe_configuration_set(
        ConfigurationSetName="cs", ConfigurationSetAttributeNames=["eventDestinations"]
    )
    by_name = {d["Name"]: d for d in v1["EventDestinations"]}
    assert by_name["v1-firehose"]["KinesisFirehoseDestination"] == {
        "IAMRoleARN": role,
        "DeliveryStreamARN": stream,
    }
    assert by_name["v2-cloudwatch"]["CloudWatchDestination"] == {
        "DimensionConfigurations": dimensions
    }


def test_sending_with_an_unknown_configuration_set_fails(backend: Backend) -> None:
    """API_SendEmail (v1) errors: "ConfigurationSetDoesNotExist — Indicates that the
    configuration set does not exist"; v2 answers NotFoundException."""
    verified_domain(backend)
    with pytest.raises(ClientError) as raised:
        _send(backend, f"success{SIM}", config_set="nope")
    assert raised.value.response["Error"]["Code"] == "NotFoundException"
    with pytest.raises(ClientError) as raised:
        make_client(backend, "ses").send_email(
            Source=SENDER,
            Destination={"ToAddresses": [f"success{SIM}"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
            ConfigurationSetName="nope",
        )
    assert raised.value.response["Error"]["Code"] == "ConfigurationSetDoesNotExist"


def test_a_second_configuration_set_of_a_name_is_already_exists_in_v2(backend: Backend) -> None:
    """SES v2 API_CreateConfigurationSet, Errors: "AlreadyExistsException — The resource
    specified in your request already exists. HTTP Status Code: 400"
    (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateConfigurationSet.html);
    so a notebook run twice can catch ``sesv2.exceptions.AlreadyExistsException``."""
    sesv2 = make_client(backend, "sesv2")
    sesv2.create_configuration_set(ConfigurationSetName="twice")
    with pytest.raises(sesv2.exceptions.AlreadyExistsException) as raised:
        sesv2.create_configuration_set(ConfigurationSetName="twice")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert sesv2.list_configuration_sets()["ConfigurationSets"] == ["twice"]


def test_identity_notification_topics_get_notification_records(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html: notifications carry
    "notificationType" (Bounce, Complaint, Delivery), set per identity with
    SetIdentityNotificationTopic; moto publishes a fixed sample message instead."""
    verified_domain(backend)
    topic, queue = events_pipeline(backend, config_set="unused")
    make_client(backend, "ses").set_identity_notification_topic(
        Identity="example.com", NotificationType="Bounce", SnsTopic=topic
    )
    _send(backend, f"bounce{SIM}", config_set=None)
    records = read_events(backend, queue, want=1)
    assert [r.get("notificationType") for r in records] == ["Bounce"]
    assert records[0]["bounce"]["bouncedRecipients"][0]["emailAddress"] == f"bounce{SIM}"


def test_feedback_by_email_and_the_out_of_office_reply(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/monitor-sending-activity-using-notifications-email.html:
    "Amazon SES can send you email when you receive bounces and complaints"; ooto@ — "The email
    provider sends an automatic response ... to the address in the Return-Path header"
    (send-an-email-from-console.html). Turning forwarding off stops the bounce emails."""
    verified_domain(backend)
    _send(backend, f"bounce{SIM}", config_set=None)
    _send(backend, f"ooto{SIM}", config_set=None)
    subjects = [m["subject"] for m in mails(backend, SENDER)]
    assert "Delivery Status Notification (Failure)" in subjects
    assert "Automatic reply: Hello" in subjects
    make_client(backend, "sesv2").put_email_identity_feedback_attributes(
        EmailIdentity="example.com", EmailForwardingEnabled=False
    )
    _send(backend, f"bounce{SIM}", config_set=None)
    assert [m["subject"] for m in mails(backend, SENDER)].count(
        "Delivery Status Notification (Failure)"
    ) == 1


def test_send_statistics_count_attempts_bounces_and_complaints(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/APIReference/API_GetSendStatistics.html: "Each data
    point in the list contains statistics for a 15-minute period of time"."""
    verified_domain(backend)
    for local in ("success", "bounce", "complaint"):
        _send(backend, f"{local}{SIM}", config_set=None)
    points = make_client(backend, "ses").get_send_statistics()["SendDataPoints"]
    totals = {k: sum(p[k] for p in points) for k in ("DeliveryAttempts", "Bounces", "Complaints")}
    assert totals == {"DeliveryAttempts": 3, "Bounces": 1, "Complaints": 1}
