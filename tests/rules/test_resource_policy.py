"""Resource policies as IAM evaluates them, for the requests SNS makes of SQS and Lambda."""

from __future__ import annotations

import pytest
from course.rules.resource_policy import Request, allows

TOPIC = "arn:aws:sns:us-east-1:123456789012:filter-topic"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:filtered-queue"


def policy(operator: str, source: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": QUEUE,
                "Condition": {operator: {"aws:SourceArn": source}},
            }
        ],
    }


def request(topic: str = TOPIC) -> Request:
    return Request("sns.amazonaws.com", "sqs:SendMessage", QUEUE, {"aws:SourceArn": topic})


@pytest.mark.parametrize("operator", ["ArnEquals", "ArnLike"])
@pytest.mark.parametrize(
    ("source", "allowed"),
    [
        (TOPIC, True),
        ("arn:aws:sns:us-east-1:123456789012:*", True),
        ("arn:aws:sns:*:123456789012:filter-?opic", True),
        ("arn:aws:sns:us-east-1:123456789012:other-topic", False),
        ("arn:aws:sns:us-east-1:*", False),  # a wildcard does not span the ARN's components
        ("arn:aws:sns:us-east-1:123456789012:FILTER-TOPIC", False),  # case-sensitive
        ("arn:aws:sns:us-east-1:123456789012:[f]ilter-topic", False),  # [ is not special
    ],
)
def test_arn_operators_match_each_component_with_iam_wildcards(
    operator: str, source: str, allowed: bool
) -> None:
    """IAM User Guide, ARN condition operators: ArnEquals and ArnLike alike are "Case-sensitive
    matching of the ARN. Each of the six colon-delimited components of the ARN is checked
    separately and each can include multi-character match wildcards (*) or single-character
    match wildcards (?)"."""
    assert allows(policy(operator, source), request()) is allowed


@pytest.mark.parametrize("operator", ["ArnNotEquals", "ArnNotLike"])
def test_negated_arn_operators(operator: str) -> None:
    assert not allows(policy(operator, "arn:aws:sns:us-east-1:123456789012:*"), request())
    assert allows(policy(operator, "arn:aws:sns:eu-west-1:123456789012:*"), request())


IAM = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:notify"


def statement(**fields: object) -> dict:
    """An Allow statement for SNS sending to QUEUE, with ``fields`` replacing or adding keys
    (a value of None removes the key)."""
    base: dict = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": QUEUE,
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def grants(*statements: dict, req: Request | None = None) -> bool:
    return allows({"Version": "2012-10-17", "Statement": list(statements)}, req or request())


@pytest.mark.parametrize(
    "policy",
    [None, "", "not json", "[]", '"text"', {}, {"Statement": []}, {"Version": "2012-10-17"}],
)
def test_no_policy_grants_nothing(policy: object) -> None:
    """Policy evaluation logic: "By default, all requests are implicitly denied"; a missing,
    empty or unreadable policy allows nothing."""
    assert allows(policy, request()) is False  # type: ignore[arg-type]


def test_a_policy_may_be_json_text_and_statement_one_object() -> None:
    """IAM JSON policy reference, Statement: "The Statement element can contain a single
    statement or an array of individual statements"; SQS and Lambda keep policies as JSON text."""
    import json

    one = {"Version": "2012-10-17", "Statement": statement()}
    assert allows(one, request())
    assert allows(json.dumps(one), request())
    assert not allows(json.dumps({"Version": "2012-10-17", "Statement": "x"}), request())


def test_an_explicit_deny_wins_whatever_the_order() -> None:
    """Policy evaluation logic: "An explicit deny in any policy overrides any allows"."""
    deny = statement(Effect="Deny")
    assert grants(statement())
    assert not grants(statement(), deny)
    assert not grants(deny, statement())
    assert not grants(deny)
    assert grants("not a statement", statement())  # type: ignore[arg-type]
    assert grants(statement(), statement(Effect="Deny", Action="sqs:DeleteMessage"))
    assert not grants(statement(Effect="deny"))  # Effect is "Allow" or "Deny", exactly


@pytest.mark.parametrize(
    ("principal", "allowed"),
    [
        ("*", True),
        ({"AWS": "*"}, True),
        ({"AWS": ["*"]}, True),
        ({"AWS": "arn:aws:iam::123456789012:root"}, False),
        ({"Service": "sns.amazonaws.com"}, True),
        ({"Service": ["lambda.amazonaws.com", "sns.amazonaws.com"]}, True),
        ({"Service": "sqs.amazonaws.com"}, False),
        (["*"], False),
        (None, False),
    ],
)
def test_principals(principal: object, allowed: bool) -> None:
    """IAM JSON policy elements, Principal: "Principal": "*" and {"AWS": "*"} mean everyone;
    {"Service": ...} names service principals, one or a list; a service is not an account."""
    assert grants(statement(Principal=principal)) is allowed


def test_not_principal_never_grants_a_service() -> None:
    """IAM JSON policy elements, NotPrincipal: AWS recommends against it for Allow; the kit
    treats a statement using it as not matching, so it grants nothing."""
    assert not grants(statement(Principal=None, NotPrincipal={"AWS": "arn:aws:iam::1:root"}))
    assert not grants(statement(Principal="*", NotPrincipal={"AWS": "arn:aws:iam::1:root"}))


@pytest.mark.parametrize(
    ("fields", "allowed"),
    [
        ({"Action": "sqs:SendMessage"}, True),
        ({"Action": "SQS:sendmessage"}, True),  # action names are case-insensitive
        ({"Action": "sqs:Send*"}, True),
        ({"Action": "sqs:*"}, True),
        ({"Action": "*"}, True),
        ({"Action": "sqs:SendMessag?"}, True),
        ({"Action": ["sqs:ReceiveMessage", "sqs:SendMessage"]}, True),
        ({"Action": "sqs:ReceiveMessage"}, False),
        ({"Action": "sqs:SendMessageBatch"}, False),
        ({"Action": ["sqs:ReceiveMessage", "sqs:Delete*"]}, False),
        ({"Action": None, "NotAction": "sqs:ReceiveMessage"}, True),
        ({"Action": None, "NotAction": ["sqs:ReceiveMessage", "sns:*"]}, True),
        ({"Action": None, "NotAction": "SQS:Send*"}, False),
        ({"Action": None, "NotAction": ["sns:*", "sqs:*"]}, False),
        ({"Action": None}, False),
    ],
)
def test_actions(fields: dict, allowed: bool) -> None:
    """IAM JSON policy elements, Action: "The prefix and the action name are case insensitive",
    wildcards * and ? match any characters or one; NotAction "matches everything except the
    specified list of actions"; a statement with neither matches no action."""
    assert grants(statement(**fields)) is allowed


@pytest.mark.parametrize(
    ("fields", "allowed"),
    [
        ({"Resource": QUEUE}, True),
        ({"Resource": "arn:aws:sqs:*:123456789012:*"}, True),
        ({"Resource": "arn:aws:sqs:us-east-1:123456789012:filtered-queu?"}, True),
        ({"Resource": ["arn:aws:sqs:us-east-1:123456789012:other", QUEUE]}, True),
        ({"Resource": "*"}, True),
        ({"Resource": "arn:aws:sqs:us-east-1:123456789012:other"}, False),
        ({"Resource": QUEUE.upper()}, False),  # resources are case-sensitive
        ({"Resource": "arn:aws:sqs:us-east-1:123456789012:filtered"}, False),
        ({"Resource": None}, True),  # a resource policy's statement applies to its resource
        ({"Resource": None, "NotResource": "arn:aws:sqs:*:*:other"}, True),
        ({"Resource": None, "NotResource": ["arn:aws:sqs:*:*:other", QUEUE]}, False),
        ({"Resource": None, "NotResource": "*"}, False),
    ],
)
def test_resources(fields: dict, allowed: bool) -> None:
    """IAM JSON policy elements, Resource and NotResource: ARNs with * and ? wildcards;
    "NotResource ... matches every resource except those specified"."""
    assert grants(statement(**fields)) is allowed


def test_wildcards_are_whole_value_and_span_newlines() -> None:
    """IAM wildcards match the whole value: "*" is any run of characters (any at all, so a
    value with a line break too), "?" exactly one."""
    req = Request("sns.amazonaws.com", "sqs:SendMessage", QUEUE, {"aws:SourceArn": "a\nb"})
    assert grants(statement(Condition={"StringLike": {"aws:SourceArn": "a*b"}}), req=req)
    assert not grants(statement(Condition={"StringLike": {"aws:SourceArn": "a?"}}), req=req)
    assert not grants(statement(Resource="filtered-queue"))


def test_an_arn_resource_part_may_hold_colons() -> None:
    """ARN format: "arn:partition:service:region:account-id:resource-type:resource-id" — the
    resource part may itself contain colons (a Lambda alias: function:notify:prod), and is
    the sixth component the ARN operators compare, wildcards spanning its colons."""
    alias = f"{FUNCTION}:prod"
    req = Request("sns.amazonaws.com", "lambda:InvokeFunction", alias, {"aws:SourceArn": alias})
    for operator in ("ArnLike", "ArnEquals"):
        allow = {
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Condition": {operator: {"aws:SourceArn": "arn:aws:lambda:us-east-1:*:function:*"}},
        }
        assert allows({"Statement": [allow]}, req)
        allow["Condition"] = {operator: {"aws:SourceArn": alias}}
        assert allows({"Statement": [allow]}, req)
        allow["Condition"] = {operator: {"aws:SourceArn": f"{FUNCTION}:dev"}}
        assert not allows({"Statement": [allow]}, req)
        allow["Condition"] = {operator: {"aws:SourceArn": "arn:aws:lambda:us-east-1:*:*:notify"}}
        assert not allows({"Statement": [allow]}, req)
        allow["Condition"] = {operator: {"aws:SourceArn": "arn:aws:lambda:us-east-1:123456789012"}}
        assert not allows({"Statement": [allow]}, req)


ACCOUNT = {"aws:SourceArn": TOPIC, "aws:SourceAccount": "123456789012"}


@pytest.mark.parametrize(
    ("condition", "allowed"),
    [
        ({"StringEquals": {"aws:SourceAccount": "123456789012"}}, True),
        ({"StringEquals": {"aws:SourceAccount": 123456789012}}, True),  # JSON number
        ({"StringEquals": {"AWS:SOURCEACCOUNT": "123456789012"}}, True),  # key names: any case
        ({"StringEquals": {"aws:SourceAccount": "999999999999"}}, False),
        ({"StringEquals": {"aws:SourceAccount": ["999999999999", "123456789012"]}}, True),
        ({"StringEquals": {"aws:SourceArn": TOPIC.upper()}}, False),
        ({"StringEqualsIgnoreCase": {"aws:SourceArn": TOPIC.upper()}}, True),
        ({"StringEqualsIgnoreCase": {"aws:SourceArn": QUEUE}}, False),
        ({"StringNotEqualsIgnoreCase": {"aws:SourceArn": TOPIC.upper()}}, False),
        ({"StringLike": {"aws:SourceArn": "arn:aws:sns:*"}}, True),
        ({"StringLike": {"aws:SourceArn": "arn:aws:sqs:*"}}, False),
        ({"StringNotLike": {"aws:SourceArn": "arn:aws:sqs:*"}}, True),
        ({"StringNotEquals": {"aws:SourceAccount": "123456789012"}}, False),
        ({"StringNotEquals": {"aws:SourceAccount": "999999999999"}}, True),
        ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, False),  # key absent: false
        ({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}, True),  # negated, absent: true
        ({"ArnNotLike": {"aws:SourceVpc": "arn:*"}}, True),
        ({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, True),  # absent: true
        ({"StringEqualsIfExists": {"aws:SourceAccount": "999999999999"}}, False),
        (
            {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1", "aws:SourceAccount": "9"}},
            False,
        ),  # an absent key does not excuse the next one
        (
            {"StringNotEquals": {"aws:SourceVpc": "vpc-1", "aws:SourceAccount": "123456789012"}},
            False,
        ),
        ({"ArnLikeIfExists": {"aws:SourceArn": TOPIC}}, True),
        (
            {
                "ArnEquals": {"aws:SourceArn": TOPIC},
                "StringEquals": {"aws:SourceAccount": "999999999999"},
            },
            False,
        ),  # several operators: AND
        (
            {"StringEquals": {"aws:SourceAccount": "123456789012", "aws:SourceArn": QUEUE}},
            False,
        ),  # several keys: AND
        ({"NumericLessThan": {"aws:SourceAccount": "1"}}, False),  # not supported: no grant
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, False),
        ({"StringEquals": "123456789012"}, False),  # malformed
        ({}, True),
    ],
)
def test_conditions(condition: dict, allowed: bool) -> None:
    """IAM condition operators: "If the key that you specify in a policy condition is not present
    in the request context, the values do not match and the condition is false. If the policy
    condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and
    the right key is not present, the condition is true. This logic applies to all condition
    operators except ...IfExists and Null check"; StringEquals is case-sensitive,
    StringEqualsIgnoreCase not; Condition element: several values for a key are ORed, several
    keys and operators ANDed, and "Condition key names are not case-sensitive"."""
    req = Request("sns.amazonaws.com", "sqs:SendMessage", QUEUE, ACCOUNT)
    assert grants(statement(Condition=condition), req=req) is allowed


def test_a_condition_that_is_not_an_object_grants_nothing() -> None:
    """IAM JSON policy elements, Condition: a block of operator -> {key: values}; anything else
    makes the statement match nothing."""
    assert not grants(statement(Condition=["StringEquals"]))
    assert grants(statement(Condition=None))
