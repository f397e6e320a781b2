"""Lab 09's checks: none passes on an empty backend, each passes on the right work and fails, with
an actionable reason, on wrong work."""

from __future__ import annotations

import contextlib
import json

from botocore.exceptions import ClientError
from course.backend.process import Backend
from course.checks.context import Aws

from tests.conftest import check_results
from tests.backend.ses.helpers import (
    events_pipeline,
    grant_production,
    make_client,
    read_events,
    request_production,
    simple,
    verified_domain,
)

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
    sesv2 = make_client(backend, "sesv2")
    sesv2.create_configuration_set(ConfigurationSetName="course-events")
    topic = make_client(backend, "sns").create_topic(Name="other-topic")["TopicArn"]
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName="course-events",
        EventDestinationName="x",
        EventDestination={
            "Enabled": True,
            "MatchingEventTypes": ["BOUNCE", "COMPLAINT"],
            "SnsDestination": {"TopicArn": topic},
        },
    )
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
