"""SQS and SES publish their metrics to CloudWatch, per minute, on the backend's clock
(``course/backend/cloudwatch/``). Each test cites the AWS documentation it pins.

The clock is moved to just after a minute boundary first, so each test knows which minute its
calls fall in; ``advance_clock`` then ends minutes without sleeping.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from course.backend.process import Backend

from tests.backend.ses.helpers import events_pipeline, verified_address
from tests.conftest import make_client


def backend_now(backend: Backend) -> float:
    """The backend clock's time, read from the flow record of a harmless call."""
    make_client(backend, "sqs").list_queues()
    calls = backend.flow()["calls"]
    return float(calls[-1]["ended"])


def start_of_minute(backend: Backend) -> float:
    """Move the clock to one second after the next minute boundary; returns that boundary."""
    now = backend_now(backend)
    boundary = (now // 60 + 1) * 60
    backend.advance_clock(boundary + 1 - now)
    return boundary


def stats(cw: Any, queue: str, metric: str, since: float, until: float) -> list[dict[str, Any]]:
    """One-minute datapoints of a queue's metric, oldest first."""
    points = cw.get_metric_statistics(
        Namespace="AWS/SQS",
        MetricName=metric,
        Dimensions=[{"Name": "QueueName", "Value": queue}],
        StartTime=datetime.datetime.fromtimestamp(since, tz=datetime.UTC),
        EndTime=datetime.datetime.fromtimestamp(until, tz=datetime.UTC),
        Period=60,
        Statistics=["Sum", "Maximum", "SampleCount"],
    )["Datapoints"]
    return sorted(points, key=lambda p: p["Timestamp"])


@pytest.fixture
def clients(backend: Backend) -> tuple[Any, Any]:
    return make_client(backend, "sqs"), make_client(backend, "cloudwatch")


def test_a_minute_s_counts_and_gauges_are_published_once_it_ends(
    backend: Backend, clients: tuple[Any, Any]
) -> None:
    """AWS/SQS, dimension QueueName, one-minute periods: NumberOfMessagesSent/Received/Deleted,
    NumberOfEmptyReceives summed over the minute; ApproximateNumberOfMessagesVisible and
    NotVisible sampled; SentMessageSize in bytes, one sample per message (AWS: "Amazon SQS
    automatically publishes operational metrics to Amazon CloudWatch under the AWS/SQS
    namespace"; SentMessageSize "Units: Bytes"),
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html."""
    sqs, cw = clients
    minute = start_of_minute(backend)
    url = sqs.create_queue(QueueName="metrics-queue")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x" * 10} for i in range(2)]
    )
    for _ in range(3):
        sqs.send_message(QueueUrl=url, MessageBody="y" * 20)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=600)
    assert len(got["Messages"]) == 2
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got["Messages"][0]["ReceiptHandle"])
    empty_url = sqs.create_queue(QueueName="metrics-empty")["QueueUrl"]
    sqs.receive_message(QueueUrl=empty_url, WaitTimeSeconds=0)

    assert stats(cw, "metrics-queue", "NumberOfMessagesSent", minute - 60, minute + 120) == []
    backend.advance_clock(60)

    def one(metric: str, queue: str = "metrics-queue") -> dict[str, Any]:
        points = stats(cw, queue, metric, minute - 60, minute + 120)
        assert len(points) == 1, (metric, points)
        assert points[0]["Timestamp"].timestamp() == minute
        return points[0]

    assert one("NumberOfMessagesSent")["Sum"] == 5
    assert one("NumberOfMessagesReceived")["Sum"] == 2
    assert one("NumberOfMessagesDeleted")["Sum"] == 1
    assert one("NumberOfEmptyReceives")["Sum"] == 0
    assert one("NumberOfEmptyReceives", "metrics-empty")["Sum"] == 1
    assert one("ApproximateNumberOfMessagesVisible")["Maximum"] == 3
    assert one("ApproximateNumberOfMessagesNotVisible")["Maximum"] == 1
    size = one("SentMessageSize")
    assert (size["SampleCount"], size["Sum"], size["Maximum"], size["Unit"]) == (
        5,
        80,
        20,
        "Bytes",
    )
    age = one("ApproximateAgeOfOldestMessage")
    assert 58 <= age["Maximum"] <= 60 and age["Unit"] == "Seconds"


def test_metrics_are_listed_per_queue_and_read_with_get_metric_data(
    backend: Backend, clients: tuple[Any, Any]
) -> None:
    """ListMetrics lists each queue's metrics under AWS/SQS with its QueueName; GetMetricData
    rounds StartTime down to the minute ("Start time less than 15 days ago - Round down to the
    nearest whole minute", https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html)
    and answers newest first by default (ScanBy "TimestampDescending")."""
    sqs, cw = clients
    minute = start_of_minute(backend)
    url = sqs.create_queue(QueueName="listed-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="one")
    backend.advance_clock(60)
    sqs.send_message(QueueUrl=url, MessageBody="two")
    sqs.send_message(QueueUrl=url, MessageBody="three")
    backend.advance_clock(60)

    listed = cw.list_metrics(
        Namespace="AWS/SQS", Dimensions=[{"Name": "QueueName", "Value": "listed-queue"}]
    )["Metrics"]
    names = {m["MetricName"] for m in listed}
    assert {
        "NumberOfMessagesSent",
        "NumberOfMessagesReceived",
        "NumberOfMessagesDeleted",
        "NumberOfEmptyReceives",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "SentMessageSize",
    } <= names

    result = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "sent",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/SQS",
                        "MetricName": "NumberOfMessagesSent",
                        "Dimensions": [{"Name": "QueueName", "Value": "listed-queue"}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=datetime.datetime.fromtimestamp(minute - 37, tz=datetime.UTC),
        EndTime=datetime.datetime.fromtimestamp(minute + 180, tz=datetime.UTC),
    )["MetricDataResults"][0]
    assert [t.timestamp() for t in result["Timestamps"]] == [minute + 60, minute]
    assert result["Values"] == [2.0, 1.0]
    assert result["Label"] == "NumberOfMessagesSent"


def test_a_queue_without_messages_or_calls_for_six_hours_is_no_longer_active(
    backend: Backend, clients: tuple[Any, Any]
) -> None:
    """ "CloudWatch considers a queue to be active for up to six hours if it contains any
    messages, or if any action accesses it"; only active queues emit metrics
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/monitoring-using-cloudwatch.html)."""
    sqs, cw = clients
    minute = start_of_minute(backend)
    sqs.create_queue(QueueName="idle-queue")
    backend.advance_clock(8 * 3600)
    points = stats(cw, "idle-queue", "NumberOfMessagesSent", minute, minute + 8 * 3600)
    assert 355 <= len(points) <= 361
    assert all(p["Sum"] == 0 for p in points)
    assert max(p["Timestamp"].timestamp() for p in points) <= minute + 6 * 3600


def _age_alarm(cw: Any, name: str, treat: str = "missing", **extra: Any) -> None:
    settings: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateAgeOfOldestMessage",
        "Dimensions": [{"Name": "QueueName", "Value": "aging-queue"}],
        "Statistic": "Maximum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 30,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": treat,
    }
    cw.put_metric_alarm(**{**settings, **extra})


def _alarm(cw: Any, name: str) -> dict[str, Any]:
    return cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def test_an_age_alarm_fires_when_a_message_waits_and_clears_when_it_is_gone(
    backend: Backend, clients: tuple[Any, Any]
) -> None:
    """A new alarm is INSUFFICIENT_DATA ("When this operation creates an alarm, the alarm state
    is immediately set to INSUFFICIENT_DATA",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html);
    it goes to ALARM when its datapoints breach the threshold, and with no datapoint at all
    TreatMissingData decides: "missing – If all data points in the alarm evaluation range are
    missing, the alarm transitions to INSUFFICIENT_DATA", notBreaching treats them as "good",
    breaching as "bad", and "ignore – The current alarm state is maintained"
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html)."""
    sqs, cw = clients
    minute = start_of_minute(backend)
    url = sqs.create_queue(QueueName="aging-queue")["QueueUrl"]
    for treat in ("missing", "notBreaching", "breaching", "ignore"):
        _age_alarm(cw, f"age-{treat}", treat=treat)
    assert _alarm(cw, "age-missing")["StateValue"] == "INSUFFICIENT_DATA"
    sqs.send_message(QueueUrl=url, MessageBody="waiting")
    backend.advance_clock(60)
    # the first minute's sample: 59 s old
    assert _alarm(cw, "age-missing")["StateValue"] == "ALARM"
    alarm = _alarm(cw, "age-notBreaching")
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints")
    assert alarm["StateUpdatedTimestamp"].timestamp() == minute + 60

    message = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    backend.advance_clock(120)
    # no datapoint any more: the age is reported only while the queue holds a message
    states = {t: _alarm(cw, f"age-{t}")["StateValue"] for t in ("missing", "notBreaching")}
    states |= {t: _alarm(cw, f"age-{t}")["StateValue"] for t in ("breaching", "ignore")}
    assert states == {
        "missing": "INSUFFICIENT_DATA",
        "notBreaching": "OK",
        "breaching": "ALARM",
        "ignore": "ALARM",
    }
    history = cw.describe_alarm_history(AlarmName="age-notBreaching")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
    ]


def test_an_alarm_needs_datapoints_to_alarm_of_its_evaluation_periods(
    backend: Backend, clients: tuple[Any, Any]
) -> None:
    """ "DatapointsToAlarm ... the number of data points within the evaluation period that must be
    breaching to cause the alarm to go to ALARM state" (M out of N,
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html)."""
    sqs, cw = clients
    start_of_minute(backend)
    url = sqs.create_queue(QueueName="aging-queue")["QueueUrl"]
    for name, needed in (("three-of-three", 3), ("two-of-three", 2)):
        _age_alarm(cw, name, "notBreaching", EvaluationPeriods=3, DatapointsToAlarm=needed)
    sqs.send_message(QueueUrl=url, MessageBody="waiting")
    backend.advance_clock(60)  # one breaching datapoint, two missing (not breaching)
    assert _alarm(cw, "two-of-three")["StateValue"] == "OK"
    backend.advance_clock(60)
    assert _alarm(cw, "two-of-three")["StateValue"] == "ALARM"
    assert _alarm(cw, "three-of-three")["StateValue"] == "OK"
    backend.advance_clock(60)
    assert _alarm(cw, "three-of-three")["StateValue"] == "ALARM"


def test_an_alarm_action_publishes_cloudwatch_s_notification_to_the_topic(
    backend: Backend, clients: tuple[Any, Any]
) -> None:
    """An alarm's SNS action receives the alarm's state change as JSON (AlarmName,
    NewStateValue, OldStateValue, NewStateReason, Trigger) with the subject 'ALARM: "name" in
    <region>' (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html)."""

    sqs, cw = clients
    start_of_minute(backend)
    url = sqs.create_queue(QueueName="aging-queue")["QueueUrl"]
    topic, inbox = events_pipeline(backend)  # a topic with a queue subscribed, policy included
    _age_alarm(cw, "age-to-topic", AlarmActions=[topic])
    sqs.send_message(QueueUrl=url, MessageBody="waiting")
    backend.advance_clock(60)
    assert _alarm(cw, "age-to-topic")["StateValue"] == "ALARM"
    got = sqs.receive_message(QueueUrl=inbox, WaitTimeSeconds=5).get("Messages", [])
    assert len(got) == 1
    envelope = json.loads(got[0]["Body"])
    assert envelope["Subject"] == 'ALARM: "age-to-topic" in US East (N. Virginia)'
    note = json.loads(envelope["Message"])
    assert (note["AlarmName"], note["OldStateValue"], note["NewStateValue"]) == (
        "age-to-topic",
        "INSUFFICIENT_DATA",
        "ALARM",
    )
    assert note["Trigger"]["MetricName"] == "ApproximateAgeOfOldestMessage"


def test_a_lab_09_bounce_alarm_fires_after_bounces(backend: Backend) -> None:
    """SES publishes Send, Delivery, Bounce and Reputation.BounceRate (a fraction) to AWS/SES;
    lab 09's alarm (Average over an hour >= 0.05) leaves INSUFFICIENT_DATA for ALARM once mail
    bounces (https://docs.aws.amazon.com/ses/latest/dg/reputationdashboard-cloudwatch-alarm.html)."""
    ses, cw = make_client(backend, "ses"), make_client(backend, "cloudwatch")
    minute = start_of_minute(backend)
    verified_address(backend, "learner@example.net")
    cw.put_metric_alarm(
        AlarmName="ses-bounce-rate",
        Namespace="AWS/SES",
        MetricName="Reputation.BounceRate",
        Statistic="Average",
        Period=3600,
        EvaluationPeriods=1,
        Threshold=0.05,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    assert _alarm(cw, "ses-bounce-rate")["StateValue"] == "INSUFFICIENT_DATA"
    for to in ("success@simulator.amazonses.com", "bounce@simulator.amazonses.com"):
        ses.send_email(
            Source="learner@example.net",
            Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hi"}}},
        )
        backend.advance_clock(1)  # the sandbox sends one message a second
    backend.advance_clock(58)
    assert _alarm(cw, "ses-bounce-rate")["StateValue"] == "ALARM"

    def total(metric: str) -> float:
        points = cw.get_metric_statistics(
            Namespace="AWS/SES",
            MetricName=metric,
            StartTime=datetime.datetime.fromtimestamp(minute, tz=datetime.UTC),
            EndTime=datetime.datetime.fromtimestamp(minute + 60, tz=datetime.UTC),
            Period=60,
            Statistics=["Sum", "Average"],
        )["Datapoints"]
        return points[0]["Sum"] if metric != "Reputation.BounceRate" else points[0]["Average"]

    assert (total("Send"), total("Delivery"), total("Bounce")) == (2, 1, 1)
    assert total("Reputation.BounceRate") == 0.5


def test_sent_counts_what_sns_delivers_but_not_what_a_redrive_moves(
    backend: Backend, clients: tuple[Any, Any]
) -> None:
    """NumberOfMessagesSent is "the number of messages added to a queue", SNS deliveries
    included; a message moved to a dead-letter queue after maxReceiveCount is not a send to it
    (its receives are counted where it was received), though the DLQ holds it:
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html."""
    sqs, cw = clients
    minute = start_of_minute(backend)
    topic, _ = events_pipeline(backend)  # topic "ses-events" → queue "ses-events-queue"
    make_client(backend, "sns").publish(TopicArn=topic, Message="fan-out")
    dlq = sqs.create_queue(QueueName="metrics-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})
    source = sqs.create_queue(QueueName="metrics-source", Attributes={"RedrivePolicy": redrive})
    url = source["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
    sqs.receive_message(QueueUrl=url)  # the second receive moves it to the DLQ
    backend.advance_clock(60)

    def value(queue: str, metric: str) -> float:
        points = stats(cw, queue, metric, minute, minute + 60)
        return points[0]["Sum"] if points else 0.0

    assert value("ses-events-queue", "NumberOfMessagesSent") == 1
    assert value("metrics-source", "NumberOfMessagesSent") == 1
    assert value("metrics-source", "NumberOfMessagesReceived") == 1
    assert value("metrics-dlq", "NumberOfMessagesSent") == 0
    assert value("metrics-dlq", "ApproximateNumberOfMessagesVisible") == 1


def test_an_updated_alarm_keeps_its_state_and_a_state_set_by_hand_is_in_its_history(
    backend: Backend, clients: tuple[Any, Any]
) -> None:
    """ "When you update an existing alarm, its state is left unchanged, but the update completely
    overwrites the previous configuration of the alarm"
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html);
    SetAlarmState's change lasts until the next evaluation
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html)."""
    sqs, cw = clients
    start_of_minute(backend)
    url = sqs.create_queue(QueueName="aging-queue")["QueueUrl"]
    _age_alarm(cw, "updated")
    sqs.send_message(QueueUrl=url, MessageBody="waiting")
    backend.advance_clock(60)
    assert _alarm(cw, "updated")["StateValue"] == "ALARM"
    _age_alarm(cw, "updated", Threshold=3600)
    assert _alarm(cw, "updated")["StateValue"] == "ALARM"
    assert _alarm(cw, "updated")["Threshold"] == 3600
    backend.advance_clock(60)
    assert _alarm(cw, "updated")["StateValue"] == "OK"
    cw.set_alarm_state(AlarmName="updated", StateValue="ALARM", StateReason="testing")
    assert _alarm(cw, "updated")["StateValue"] == "ALARM"
    backend.advance_clock(60)
    assert _alarm(cw, "updated")["StateValue"] == "OK"
    history = cw.describe_alarm_history(AlarmName="updated")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
    ]
