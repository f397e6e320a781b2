"""The cost meter (``course.checks.readers.cost``) on hand-made flows: one test per price rule,
each checked against a hand-computed bill at the table's prices (``course.rules.pricing``)."""

from __future__ import annotations

import json
import math
from typing import Any

from course.checks.readers.cost import Bill, bill
from course.flow import ApiCall, Flow
from course.rules.pricing import CHUNK_BYTES, PRICE_SOURCES, PRICES

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"


def flow(*calls: tuple[str, str, dict[str, Any], dict[str, Any]] | ApiCall) -> Flow:
    """A flow of successful calls, each (service, action, request, response), a second apart."""
    made = []
    for seq, c in enumerate(calls, start=1):
        if isinstance(c, ApiCall):
            made.append(c)
            continue
        service, action, request, response = c
        made.append(
            ApiCall(seq, service, action, "us-east-1", seq, seq + 0.01, 200, request, response)
        )
    return Flow(made)


def quantity(found: Bill, service: str, item: str) -> float:
    return sum(i.quantity for i in found.items if i.service == service and i.item.startswith(item))


def send(body: str, queue: str = QUEUE) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    return ("sqs", "SendMessage", {"QueueUrl": queue, "MessageBody": body}, {"MessageId": "m"})


def test_a_message_one_byte_over_64_kb_is_two_requests() -> None:
    assert quantity(bill(flow(send("x" * CHUNK_BYTES))), "SQS", "requests (standard") == 1
    found = bill(flow(send("x" * (CHUNK_BYTES + 1))))
    assert quantity(found, "SQS", "requests (standard") == 2
    assert math.isclose(found.total, 2 * PRICES["sqs_standard_request"])


def test_message_attributes_count_toward_the_chunks() -> None:
    request = {
        "QueueUrl": QUEUE,
        "MessageBody": "x" * (CHUNK_BYTES - 4),
        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "big"}},
    }
    assert quantity(bill(flow(("sqs", "SendMessage", request, {}))), "SQS", "requests") == 2


def test_a_batch_of_ten_small_messages_is_one_request() -> None:
    entries = [{"Id": str(n), "MessageBody": "hello"} for n in range(10)]
    batch = ("sqs", "SendMessageBatch", {"QueueUrl": QUEUE, "Entries": entries}, {})
    assert quantity(bill(flow(batch)), "SQS", "requests") == 1
    big = [{"Id": str(n), "MessageBody": "x" * 20_000} for n in range(10)]  # 200,000 bytes
    batch = ("sqs", "SendMessageBatch", {"QueueUrl": QUEUE, "Entries": big}, {})
    assert quantity(bill(flow(batch)), "SQS", "requests") == 4


def test_an_empty_receive_is_a_request_and_a_full_one_is_billed_by_its_payload() -> None:
    empty = ("sqs", "ReceiveMessage", {"QueueUrl": QUEUE}, {})
    assert quantity(bill(flow(empty)), "SQS", "requests") == 1
    full = ("sqs", "ReceiveMessage", {"QueueUrl": QUEUE}, {"Messages": [{"Body": "x" * 70_000}]})
    assert quantity(bill(flow(empty, full)), "SQS", "requests") == 3


def test_fifo_queues_and_failed_calls() -> None:
    fifo = send("a", QUEUE + ".fifo")
    failed = ApiCall(9, "sqs", "SendMessage", "us-east-1", 0, 0, 400, {"QueueUrl": QUEUE}, {})
    found = bill(flow(fifo, send("b"), failed))
    assert quantity(found, "SQS", "requests (FIFO") == 1
    assert quantity(found, "SQS", "requests (standard") == 1
    assert math.isclose(found.total, PRICES["sqs_fifo_request"] + PRICES["sqs_standard_request"])


def subscribe(protocol: str, arn: str, **attributes: str) -> tuple[str, str, dict, dict]:
    request = {"TopicArn": TOPIC, "Protocol": protocol, "Endpoint": "e", "Attributes": attributes}
    return ("sns", "Subscribe", request, {"SubscriptionArn": arn})


def publish(message: str = "hi", **attributes: str) -> tuple[str, str, dict, dict]:
    values = {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}
    request = {"TopicArn": TOPIC, "Message": message, "MessageAttributes": values}
    return ("sns", "Publish", request, {"MessageId": "m"})


def test_sns_email_and_sqs_deliveries_are_priced_differently() -> None:
    """Email deliveries are charged, deliveries to SQS queues free
    (https://aws.amazon.com/sns/pricing/); a pending subscription receives nothing."""
    found = bill(
        flow(
            subscribe("sqs", TOPIC + ":s1"),
            subscribe("email", "pending confirmation"),
            (
                "sns",
                "ConfirmSubscription",
                {"TopicArn": TOPIC, "Token": "t"},
                {"SubscriptionArn": TOPIC + ":s2"},
            ),
            subscribe("email", "pending confirmation"),  # never confirmed: nothing delivered
            publish(),
            publish(),
        )
    )
    assert quantity(found, "SNS", "publish") == 2
    assert quantity(found, "SNS", "email deliveries") == 2
    assert quantity(found, "SNS", "deliveries to SQS") == 2
    expected = 2 * PRICES["sns_publish_request"] + 2 * PRICES["sns_email_delivery"]
    assert PRICES["sns_sqs_delivery"] == 0 and math.isclose(found.total, expected)


def test_filter_policies_and_unsubscribes_decide_the_deliveries() -> None:
    policy = json.dumps({"kind": ["order"]})
    found = bill(
        flow(
            subscribe("https", TOPIC + ":h", FilterPolicy=policy),
            subscribe("lambda", TOPIC + ":l"),
            publish(kind="order"),
            publish(kind="refund"),
            ("sns", "Unsubscribe", {"SubscriptionArn": TOPIC + ":l"}, {}),
            publish(kind="order"),
        )
    )
    assert quantity(found, "SNS", "HTTP/S") == 2
    assert quantity(found, "SNS", "deliveries to Lambda") == 2
    assert quantity(found, "Lambda", "requests") == 2  # each delivery invokes the function


def test_a_publish_over_64_kb_is_two_requests() -> None:
    assert quantity(bill(flow(publish("x" * (CHUNK_BYTES + 1)))), "SNS", "publish") == 2


def invoke(seconds: float, name: str = "worker", **request: str) -> ApiCall:
    return ApiCall(
        1,
        "lambda",
        "Invoke",
        "us-east-1",
        10.0,
        10.0 + seconds,
        200,
        {"FunctionName": name, **request},
        {},
    )


def test_lambda_gb_seconds_come_from_memory_and_duration() -> None:
    """ "Duration is calculated from the time your code begins executing until it returns or
    otherwise terminates, rounded up to the nearest 1 ms"; the price "depends on the amount of
    memory you allocate to your function" (https://aws.amazon.com/lambda/pricing/)."""
    create = ("lambda", "CreateFunction", {"FunctionName": "worker", "MemorySize": 512}, {})
    found = bill(flow(create, invoke(2.0), invoke(0.0004), invoke(5.0, InvocationType="Event")))
    assert quantity(found, "Lambda", "requests") == 3
    # 0.5 GB x 2 s, and 0.5 GB x 1 ms (durations round up to the millisecond); async not timed
    assert math.isclose(quantity(found, "Lambda", "compute"), 0.5 * 2.0 + 0.5 * 0.001)
    default = bill(flow(invoke(1.0, "arn:aws:lambda:us-east-1:1:function:other")))
    assert math.isclose(quantity(default, "Lambda", "compute"), 0.125)


def test_ses_messages_are_counted_per_recipient() -> None:
    destination = {"ToAddresses": ["a@x.com", "b@x.com"], "CcAddresses": ["c@x.com"]}
    request = {"Source": "me@x.com", "Destination": destination, "Message": {}}
    found = bill(flow(("ses", "SendEmail", request, {"MessageId": "m"})))
    assert quantity(found, "SES", "messages") == 3
    assert math.isclose(found.total, 3 * PRICES["ses_email"])


def test_route53_zones_kept_past_12_hours_and_cloudwatch_alarms_and_metrics() -> None:
    """ "We don't bill you if you delete a hosted zone within 12 hours after you create it"
    (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/troubleshooting-billed-twice.html);
    CloudWatch bills each unique namespace, name and dimensions as one custom metric
    (https://aws.amazon.com/cloudwatch/pricing/)."""
    zone = {"HostedZone": {"Id": "/hostedzone/Z1"}}
    kept = ApiCall(1, "route53", "CreateHostedZone", "", 0, 0, 201, {"Name": "a.com"}, zone)
    tried = ApiCall(
        2, "route53", "CreateHostedZone", "", 0, 0, 201, {}, {"HostedZone": {"Id": "Z2"}}
    )
    deleted = ApiCall(3, "route53", "DeleteHostedZone", "", 60, 60, 200, {"Id": "Z2"}, {})
    datum = {"MetricName": "Latency", "Dimensions": [{"Name": "Api", "Value": "a"}]}
    found = bill(
        flow(
            kept,
            tried,
            deleted,
            ("cloudwatch", "PutMetricAlarm", {"AlarmName": "high"}, {}),
            ("cloudwatch", "PutMetricAlarm", {"AlarmName": "high"}, {}),  # updated, one alarm
            ("cloudwatch", "PutMetricData", {"Namespace": "App", "MetricData": [datum, datum]}, {}),
        )
    )
    assert quantity(found, "Route 53", "hosted zones") == 1
    assert quantity(found, "CloudWatch", "alarms") == 1
    assert quantity(found, "CloudWatch", "custom metrics") == 1
    assert quantity(found, "CloudWatch", "API requests") == 3


def test_the_free_tier_is_shown_apart_from_the_list_price() -> None:
    """The list price is the cost; the free tier ("The free tier includes one million requests
    and 400,000 GB-seconds per month", https://aws.amazon.com/lambda/pricing/; 1 million SQS
    requests, https://aws.amazon.com/sqs/pricing/) is shown apart; Route 53 has none."""
    found = bill(flow(*(send("m") for _ in range(5)), publish()))
    assert math.isclose(
        found.total, 5 * PRICES["sqs_standard_request"] + PRICES["sns_publish_request"]
    )
    assert found.after_free_tier == 0.0
    assert all(i.free_tier for i in found.items)
    zones = bill(flow(("route53", "CreateHostedZone", {}, {"HostedZone": {"Id": "Z"}})))
    assert zones.after_free_tier == zones.total == PRICES["route53_hosted_zone_month"]
    assert zones.items[0].free_tier == ""


def test_every_price_names_its_page_and_date_and_an_empty_flow_costs_nothing() -> None:
    assert set(PRICE_SOURCES) == set(PRICES)
    assert all(
        url.startswith("https://aws.amazon.com/") and date for url, date in PRICE_SOURCES.values()
    )
    assert bill(Flow()).items == [] and bill(Flow()).total == 0


def test_the_json_gives_each_item_with_its_cost() -> None:
    found = bill(flow(send("m")))
    data = found.to_json()
    assert data["items"][0]["service"] == "SQS" and data["items"][0]["cost"] == found.total
    assert data["items"][0]["page"] == "https://aws.amazon.com/sqs/pricing/"
