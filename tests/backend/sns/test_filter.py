"""SNS subscription filter policies match and validate as AWS's documentation shows.

Every row of ``CASES`` is an example from AWS's filter-policy pages: a policy, a message (its
attributes or its JSON body) and whether the doc says the policy matches it. The table runs twice:
against ``course.rules.filter_policy`` directly, and end to end through the backend (Subscribe with
the policy, Publish, see whether the queue got the message). ``ERRORS`` pins the validation
AWS applies when a policy is set (moto answers HTTP 500 to malformed JSON and rejects cidr).

Pages (https://docs.aws.amazon.com/sns/latest/dg/...):
- sns-subscription-filter-policies.html: "A subscription accepts a message under the following
  conditions: When the filter policy scope is set to MessageAttributes, each property name in the
  filter policy matches a message attribute name. For each matching property name in the filter
  policy, at least one property value matches the message attribute value." (and the same for
  MessageBody with message body properties);
- string-value-matching.html, numeric-value-matching.html, attribute-key-matching.html,
  and-or-logic.html, example-filter-policies.html (the examples below, cited per row);
- subscription-filter-policy-constraints.html: "A filter policy can have a maximum of 5 attribute
  names", "The total combination of values must not exceed 150", "Amazon SNS ignores message
  attributes with the Binary data type".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend
from course.rules import filter_policy as sns_filter

from tests.backend.sns.helpers import topic_may_send
from tests.conftest import make_client

DOCS = "https://docs.aws.amazon.com/sns/latest/dg/"


@dataclass(frozen=True)
class Case:
    """One documented example: does ``policy`` accept this message?"""

    source: str  # the doc page (and anchor) the example comes from
    policy: dict[str, Any]
    matches: bool
    attributes: dict[str, tuple[str, str]] | None = None  # name -> (DataType, value)
    body: dict[str, Any] | None = None  # a MessageBody-scope example

    @property
    def scope(self) -> str:
        return "MessageBody" if self.body is not None else "MessageAttributes"

    @property
    def message(self) -> str:
        return json.dumps(self.body) if self.body is not None else "message"

    def sns_attributes(self) -> dict[str, dict[str, str]]:
        """The attributes as SNS delivers them (``Type``/``Value``), as the matcher sees them."""
        return {k: {"Type": t, "Value": v} for k, (t, v) in (self.attributes or {}).items()}

    def publish_attributes(self) -> dict[str, dict[str, Any]]:
        return {
            k: {"DataType": t, "BinaryValue": v.encode()}
            if t == "Binary"
            else {"DataType": t, "StringValue": v}
            for k, (t, v) in (self.attributes or {}).items()
        }

    def __str__(self) -> str:
        message = self.body if self.body is not None else self.attributes
        return f"{self.source}: {json.dumps(self.policy)} vs {message}"


S, A, N = "String", "String.Array", "Number"
INTERESTS = {"customer_interests": ["rugby", "tennis"]}
ANYTHING_BUT = {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}
EXAMPLE_MESSAGE = {
    "customer_interests": (A, '["soccer", "rugby", "hockey"]'),
    "store": (S, "example_corp"),
    "event": (S, "order_placed"),
    "price_usd": (N, "210.75"),
}
EXAMPLE_BODY = {
    "customer_interests": ["soccer", "rugby", "hockey"],
    "store": "example_corp",
    "event": "order_placed",
    "price_usd": 210.75,
}
ACCEPTS = {
    "store": ["example_corp"],
    "event": [{"anything-but": "order_cancelled"}],
    "customer_interests": ["rugby", "football", "baseball"],
    "price_usd": [{"numeric": [">=", 100]}],
}
REJECTS = {
    "store": ["example_corp"],
    "event": ["order_cancelled"],
    "encrypted": [False],
    "customer_interests": ["basketball", "baseball"],
}
OR_POLICY = {
    "source": ["aws.cloudwatch"],
    "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
}


class Body(dict):  # type: ignore[type-arg]
    """A MessageBody-scope example: the JSON body itself."""


def examples(source: str, policy: dict[str, Any], *rows: tuple[bool, dict[str, Any]]) -> list[Case]:
    """The cases of one documented policy: (matches, attributes or ``Body(...)``) per example."""
    return [
        Case(source, policy, matches, body=dict(m))
        if isinstance(m, Body)
        else Case(source, policy, matches, attributes=m)
        for matches, m in rows
    ]


ARRAY = (A, '["baseball", "basketball"]')
CASES = [
    *examples(
        "string-value-matching.html#string-exact-matching",
        INTERESTS,
        (True, {"customer_interests": (S, "rugby")}),
        (True, {"customer_interests": (S, "tennis")}),
        (True, {"customer_interests": (A, '["rugby", "tennis"]')}),
        (False, {"customer_interests": (S, "baseball")}),
        (False, {"customer_interests": (A, '["baseball"]')}),
        (True, Body(customer_interests="rugby")),
        (False, Body(customer_interests="baseball")),
    ),
    *examples(
        "string-value-matching.html#string-anything-but-matching",
        ANYTHING_BUT,
        (True, {"customer_interests": (S, "baseball")}),
        (True, {"customer_interests": (S, "football")}),
        (True, {"customer_interests": (A, '["rugby", "baseball"]')}),
        (False, {"customer_interests": (S, "rugby")}),
        (True, Body(customer_interests="baseball")),
        (False, Body(customer_interests="rugby")),
    ),
    *examples(
        "string-value-matching.html#string-anything-but-matching-prefix",
        {"event": [{"anything-but": {"prefix": "order-"}}]},
        (True, {"event": (S, "data-entry")}),
        (True, {"event": (S, "order_number")}),
        (False, {"event": (S, "order-cancelled")}),
    ),
    *examples(
        "string-value-matching.html#string-equals-ignore-case",
        {"customer_interests": [{"equals-ignore-case": "tennis"}]},
        (True, {"customer_interests": (S, "TENNIS")}),
        (True, {"customer_interests": (S, "Tennis")}),
        (False, {"customer_interests": (S, "baseball")}),
    ),
    *examples(
        "string-value-matching.html#ip-address-matching",
        {"source_ip": [{"cidr": "10.0.0.0/24"}]},
        (True, {"source_ip": (S, "10.0.0.0")}),
        (True, {"source_ip": (S, "10.0.0.255")}),
        (False, {"source_ip": (S, "10.1.1.0")}),
    ),
    *examples(
        "string-value-matching.html#string-prefix-matching",
        {"customer_interests": [{"prefix": "bas"}]},
        (True, {"customer_interests": (S, "baseball")}),
        (True, {"customer_interests": (S, "basketball")}),
        (False, {"customer_interests": (S, "rugby")}),
    ),
    *examples(
        "string-value-matching.html#string-suffix-matching",
        {"customer_interests": [{"suffix": "ball"}]},
        (True, {"customer_interests": (S, "baseball")}),
        (True, {"customer_interests": (S, "basketball")}),
        (False, {"customer_interests": (S, "rugby")}),
    ),
    *examples(
        "numeric-value-matching.html#numeric-exact-matching",
        {"price_usd": [{"numeric": ["=", 301.5]}]},
        (True, {"price_usd": (N, "301.5")}),
        (True, {"price_usd": (N, "3.015e2")}),
        (True, Body(price_usd=301.5)),
    ),
    *examples(
        "numeric-value-matching.html#numeric-anything-but-matching",
        {"price": [{"anything-but": [100, 500]}]},
        (True, {"price": (N, "101")}),
        (True, {"price": (N, "100.1")}),
        (False, {"price": (N, "100")}),
        (True, Body(price=[100, 50])),
        (False, Body(price=100)),
    ),
    *examples(
        "numeric-value-matching.html#numeric-value-range-matching",
        {"price_usd": [{"numeric": ["<", 0]}]},
        (True, {"price_usd": (N, "-3")}),
        (False, {"price_usd": (N, "3")}),
    ),
    *examples(
        "numeric-value-matching.html#numeric-value-range-matching",
        {"price_usd": [{"numeric": [">", 0, "<=", 150]}]},
        (True, {"price_usd": (N, "150")}),
        (False, {"price_usd": (N, "150.5")}),
        (False, {"price_usd": (N, "0")}),
    ),
    *examples(
        "attribute-key-matching.html",
        {"store": [{"exists": True}]},
        (True, {"store": (S, "fans"), "customer_interests": ARRAY}),
        (False, {"customer_interests": ARRAY}),
        (True, Body(store="fans", customer_interests=["baseball", "basketball"])),
        (False, Body(customer_interests=["baseball", "basketball"])),
    ),
    *examples(
        "attribute-key-matching.html",
        {"store": [{"exists": False}]},
        (False, {"store": (S, "fans"), "customer_interests": ARRAY}),
        (True, {"customer_interests": ARRAY}),
        (True, Body(customer_interests=["baseball", "basketball"])),
    ),
    *examples(
        "and-or-logic.html#and-logic",
        {"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]},
        (True, {"customer_interests": (S, "rugby"), "price_usd": (N, "101")}),
        (False, {"customer_interests": (S, "rugby"), "price_usd": (N, "99")}),
    ),
    *examples(
        "and-or-logic.html#or-logic",
        {"customer_interests": ["rugby", "football", "baseball"]},
        (True, {"customer_interests": (S, "football")}),
        (False, {"customer_interests": (S, "tennis")}),
    ),
    *examples(
        "and-or-logic.html#or-operator",
        OR_POLICY,
        (True, {"source": (S, "aws.cloudwatch"), "metricName": (S, "CPUUtilization")}),
        (True, {"source": (S, "aws.cloudwatch"), "namespace": (S, "AWS/EC2")}),
        (False, {"source": (S, "aws.ec2"), "namespace": (S, "AWS/EC2")}),
        (False, {"source": (S, "aws.cloudwatch"), "metricName": (S, "DiskReads")}),
        (True, Body(source="aws.cloudwatch", metricName="CPUUtilization")),
    ),
    *examples(
        "example-filter-policies.html#policy-accepts-messages",
        ACCEPTS,
        (True, EXAMPLE_MESSAGE),
        (True, Body(EXAMPLE_BODY)),
    ),
    *examples(
        "example-filter-policies.html#policy-rejects-messages",
        REJECTS,
        (False, EXAMPLE_MESSAGE),
        (False, Body(EXAMPLE_BODY)),
    ),
    *examples(  # "payload-based policies support property nesting"
        "sns-message-filtering.html",
        {"order": {"event": ["order_placed"]}},
        (True, Body(order={"event": "order_placed", "id": 7})),
        (False, Body(order={"event": "order_cancelled"})),
    ),
    *examples(  # "Amazon SNS ignores message attributes with the Binary data type"
        "subscription-filter-policy-constraints.html",
        {"photo": [{"exists": True}]},
        (False, {"photo": ("Binary", "aGVsbG8=")}),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_documented_examples_match_as_documented(case: Case) -> None:
    """Each row quotes AWS's own example (see ``Case.source``); the matcher must agree."""
    policy = sns_filter.validate(json.dumps(case.policy), case.scope)
    got = sns_filter.matches(policy, case.scope, case.message, case.sns_attributes())
    assert got is case.matches


@pytest.fixture(scope="module")
def channel(backend_process: Backend) -> Any:
    """A topic with a queue allowed to receive from it; one fresh subscription per case."""
    backend_process.reset()
    sns, sqs = make_client(backend_process, "sns"), make_client(backend_process, "sqs")
    topic = sns.create_topic(Name="filter-doc-topic")["TopicArn"]
    url = sqs.create_queue(QueueName="filter-doc-queue")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": topic_may_send(arn, topic)})
    return sns, sqs, topic, url, arn


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_backend_delivers_as_the_examples_say(channel: Any, case: Case) -> None:
    """End to end: a queue subscribed with the example's policy gets the example's message
    exactly when the documentation says the policy matches it."""
    sns, sqs, topic, url, arn = channel
    subscription = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={
            "FilterPolicy": json.dumps(case.policy),
            "FilterPolicyScope": case.scope,
            "RawMessageDelivery": "true",
        },
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    try:
        sns.publish(
            TopicArn=topic, Message=case.message, MessageAttributes=case.publish_attributes()
        )
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for message in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        assert [m["Body"] for m in got] == ([case.message] if case.matches else [])
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)


ERRORS = [
    ("{not json", "MessageAttributes", "FilterPolicy: failed to parse JSON."),
    (
        json.dumps({f"k{i}": ["v"] for i in range(6)}),
        "MessageAttributes",
        "FilterPolicy: Filter policy can not have more than 5 keys",
    ),
    (
        json.dumps({"a": [str(i) for i in range(11)], "b": [str(i) for i in range(14)]}),
        "MessageAttributes",
        "FilterPolicy: Filter policy is too complex",
    ),
    (
        json.dumps({"order": {"event": ["order_placed"]}}),
        "MessageAttributes",
        "Filter policy scope MessageAttributes does not support nested filter policy",
    ),
    (
        json.dumps({"a": "b"}),
        "MessageAttributes",
        'FilterPolicy: "a" must be an object or an array',
    ),
    (json.dumps({"a": []}), "MessageAttributes", "FilterPolicy: Empty arrays are not allowed"),
    (
        json.dumps({"a": [{"wildcard": "x*"}]}),
        "MessageAttributes",
        "FilterPolicy: Unrecognized match type wildcard",
    ),
    (
        json.dumps({"a": [{"numeric": [">", "ten"]}]}),
        "MessageAttributes",
        "FilterPolicy: Value of > must be numeric",
    ),
    (
        json.dumps({"a": [{"numeric": [">", 10, "<", 5]}]}),
        "MessageAttributes",
        "FilterPolicy: Bottom must be less than top",
    ),
    (
        json.dumps({"a": [{"exists": "yes"}]}),
        "MessageAttributes",
        "FilterPolicy: exists match pattern must be either true or false.",
    ),
    (
        json.dumps({"a": [{"prefix": 1}]}),
        "MessageAttributes",
        "FilterPolicy: prefix match pattern must be a string",
    ),
    (
        json.dumps({"a": ["x"]}),
        "Everything",
        "FilterPolicyScope: Invalid value [Everything]. Please use either MessageBody or "
        "MessageAttributes",
    ),
]


@pytest.mark.parametrize(("policy", "scope", "message"), ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_an_invalid_policy_is_rejected_with_aws_message(
    backend: Backend, policy: str, scope: str, message: str
) -> None:
    """subscription-filter-policy-constraints.html: "A filter policy can have a maximum of 5
    attribute names", "The total combination of values must not exceed 150. Calculate the total
    combination by multiplying the number of values in each array"; attribute-based filtering
    does not accept nested policies. Subscribe reports "Invalid parameter: Attributes Reason: ..."
    and SetSubscriptionAttributes "Invalid parameter: ..." (InvalidParameter, HTTP 400), where
    moto answered HTTP 500 to malformed JSON."""
    sns = make_client(backend, "sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    with pytest.raises(ClientError) as raised:
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint="arn:aws:sqs:us-east-1:123456789012:q",
            Attributes={"FilterPolicy": policy, "FilterPolicyScope": scope},
        )
    assert raised.value.response["Error"]["Code"] == "InvalidParameter"
    assert raised.value.response["Error"]["Message"] == (
        f"Invalid parameter: Attributes Reason: {message}"
    )
    assert sns.list_subscriptions()["Subscriptions"] == []

    arn = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:123456789012:q"
    )["SubscriptionArn"]
    name, value = (
        ("FilterPolicy", policy)
        if scope == "MessageAttributes"
        else (
            "FilterPolicyScope",
            scope,
        )
    )
    with pytest.raises(ClientError) as raised:
        sns.set_subscription_attributes(
            SubscriptionArn=arn, AttributeName=name, AttributeValue=value
        )
    assert raised.value.response["Error"]["Message"] == f"Invalid parameter: {message}"


def test_cidr_and_nested_body_policies_are_accepted(backend: Backend) -> None:
    """string-value-matching.html#ip-address-matching documents the ``cidr`` operator, and
    payload-based policies "support property nesting" (sns-message-filtering.html): both are
    valid policies (moto rejected cidr as an unrecognized match type)."""
    sns = make_client(backend, "sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    arn = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint="arn:aws:sqs:us-east-1:123456789012:q",
        Attributes={
            "FilterPolicy": json.dumps({"order": {"ip": [{"cidr": "10.0.0.0/24"}]}}),
            "FilterPolicyScope": "MessageBody",
        },
    )["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["FilterPolicyScope"] == "MessageBody"


def test_changing_the_scope_rechecks_the_policy(backend: Backend) -> None:
    """A nested policy is valid only for MessageBody: switching its subscription back to
    MessageAttributes is rejected, as attribute-based filtering does not accept nesting."""
    sns = make_client(backend, "sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    arn = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint="arn:aws:sqs:us-east-1:123456789012:q",
        Attributes={
            "FilterPolicy": json.dumps({"order": {"event": ["x"]}}),
            "FilterPolicyScope": "MessageBody",
        },
    )["SubscriptionArn"]
    with pytest.raises(ClientError, match="does not support nested filter policy"):
        sns.set_subscription_attributes(
            SubscriptionArn=arn,
            AttributeName="FilterPolicyScope",
            AttributeValue="MessageAttributes",
        )
