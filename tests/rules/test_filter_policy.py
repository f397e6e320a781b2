"""SNS filter policies: validation and matching, each rule at and just past its bounds.

Pure unit tests of ``course.rules.filter_policy`` (no backend): ``tests/backend/sns/test_filter.py``
runs AWS's documented examples end to end; these pin the edges the examples leave open, so that
``tests/benchmarks/mutation.py`` kills a wrong rule. Pages (https://docs.aws.amazon.com/sns/latest/
dg/...): subscription-filter-policy-constraints.html ("Filter policy constraints"),
numeric-value-matching.html ("Numeric value matching"), string-value-matching.html ("String value
matching", "IP address matching"), attribute-key-matching.html ("Key matching"), and-or-logic.html
("AND/OR logic", "OR operator").
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from course.rules.filter_policy import (
    ATTRIBUTES,
    BODY,
    FilterPolicyError,
    alternatives,
    matches,
    validate,
)


def attrs(**values: Any) -> dict[str, dict[str, str]]:
    """Message attributes as SNS delivers them: str -> String, list -> String.Array,
    int/float -> Number, bytes -> Binary."""
    out = {}
    for name, value in values.items():
        if isinstance(value, bytes):
            out[name] = {"Type": "Binary", "Value": value.decode()}
        elif isinstance(value, list):
            out[name] = {"Type": "String.Array", "Value": json.dumps(value)}
        elif isinstance(value, (int, float)):
            out[name] = {"Type": "Number", "Value": str(value)}
        else:
            out[name] = {"Type": "String", "Value": value}
    return out


def by_attributes(policy: dict[str, Any], **values: Any) -> bool:
    return matches(policy, ATTRIBUTES, "message", attrs(**values))


def by_body(policy: dict[str, Any], body: Any) -> bool:
    return matches(policy, BODY, json.dumps(body), None)


def rejected(policy: Any, scope: str = ATTRIBUTES) -> str:
    """AWS's message for a policy it rejects (``policy`` as JSON text, or an object)."""
    text = policy if isinstance(policy, str) else json.dumps(policy)
    with pytest.raises(FilterPolicyError) as raised:
        validate(text, scope)
    return str(raised.value)


# ------------------------------------------------------------------------ numeric matching


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (["=", 301.5], 301.5, True),
        (["=", 301.5], 301.6, False),
        (["=", 301.5], 301.500001, True),  # five digits of accuracy after the point
        (["=", 301.5], 301.50001, False),
        (["=", 301.500001], 301.5, True),  # the policy's number too
        (["=", 999999999], 999999999.5, False),  # five digits, not a relative tolerance
        (["=", -999999999.25], -999999999.25, True),
        (["<", 0], -3, True),
        (["<", 0], 0, False),
        (["<", 0], 3, False),
        ([">", 0], 0, False),
        ([">", 0], 0.1, True),
        ([">", 0], -0.1, False),
        (["<=", 150], 150, True),
        (["<=", 150], 150.5, False),
        (["<=", 150], 149, True),
        ([">=", 100], 100, True),
        ([">=", 100], 99.99, False),
        ([">=", 100], 100.5, True),
        ([">", 0, "<=", 150], 150, True),
        ([">", 0, "<=", 150], 150.5, False),
        ([">", 0, "<=", 150], 0, False),
        ([">=", 10, "<", 20], 10, True),
        ([">=", 10, "<", 20], 19.99, True),
        ([">=", 10, "<", 20], 20, False),
        ([">=", 10, "<", 20], 9.99, False),
    ],
)
def test_numeric_operators_at_and_just_past_their_bounds(
    rule: list[Any], value: float, expected: bool
) -> None:
    """Numeric value matching: "=" matches "an equal numeric value"; "price_usd": [{"numeric":
    [">", 0, "<=", 150]}] matches 150 and not 150.5 or 0 (the documented range example), and
    {"numeric": ["<", 0]} matches negative numbers. Filter policy constraints: "with five digits
    of accuracy after the decimal point". Both message attributes and message bodies."""
    policy = {"price": [{"numeric": rule}]}
    assert validate(json.dumps(policy)) == policy
    assert by_attributes(policy, price=value) is expected
    assert by_body(policy, {"price": value}) is expected


def test_a_number_rule_matches_numbers_only() -> None:
    """Numeric value matching: numbers are matched against Number attributes and numeric body
    values ("3.015e2" equals 301.5); a String attribute "301.5", a string in the body or a
    boolean is not a number."""
    policy = {"price": [301.5]}
    assert by_attributes(policy, price=3.015e2)
    assert not by_attributes(policy, price=301.6)
    assert not by_attributes(policy, price="301.5")
    assert by_body(policy, {"price": 301.5})
    assert not by_body(policy, {"price": "301.5"})
    assert not by_body({"flag": [1]}, {"flag": True})
    numeric = {"price": [{"numeric": [">", 0]}]}
    assert not by_attributes(numeric, price="5")
    assert not by_body(numeric, {"price": True})


# ------------------------------------------------------------------ true, false and null


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (None, None, True),
        (None, False, False),
        (None, "null", False),
        (True, True, True),
        (True, 1, False),
        (True, "true", False),
        (False, False, True),
        (False, 0, False),
        (False, None, False),
    ],
)
def test_true_false_and_null_rules_decide_a_match(rule: Any, value: Any, expected: bool) -> None:
    """Filter policy constraints: the policy's JSON may hold "The keywords true, false, and
    null, without quotation marks"; each matches that JSON value only, not a number or string
    that looks like it (example-filter-policies.html rejects the message for "encrypted":
    [false] when the message has no such value)."""
    policy = {"flag": [rule]}
    assert validate(json.dumps(policy)) == policy
    assert by_body(policy, {"flag": value}) is expected


# -------------------------------------------------------------------- string operators


@pytest.mark.parametrize(
    ("rule", "yes", "no"),
    [
        ("rugby", "rugby", "Rugby"),  # "the comparison is case-sensitive"
        ({"prefix": "bas"}, "baseball", "ebas"),
        ({"suffix": "ball"}, "baseball", "balls"),
        ({"equals-ignore-case": "tennis"}, "TeNNis", "tennis!"),
        ({"anything-but": "rugby"}, "tennis", "rugby"),
        ({"anything-but": ["rugby", "tennis"]}, "golf", "tennis"),
        ({"anything-but": {"prefix": "order-"}}, "order_number", "order-cancelled"),
        ({"anything-but": [100, 500]}, 101, 500),
    ],
)
def test_string_operators(rule: Any, yes: Any, no: Any) -> None:
    """String value matching (exact, prefix, suffix, equals-ignore-case, anything-but and its
    prefix form) and Numeric value matching (anything-but [100, 500] matches 101, not 500);
    Filter policy constraints: "For string matching ... the comparison is case-sensitive"."""
    policy = {"key": [rule]}
    assert validate(json.dumps(policy)) == policy
    assert by_body(policy, {"key": yes})
    assert not by_body(policy, {"key": no})
    assert by_attributes(policy, key=yes)
    assert not by_attributes(policy, key=no)


@pytest.mark.parametrize(
    "rule",
    [
        {"prefix": "a"},
        {"suffix": "a"},
        {"equals-ignore-case": "a"},
        {"anything-but": {"prefix": "a"}},
        {"numeric": [">", 0]},
        {"cidr": "10.0.0.0/8"},
        "a",
    ],
)
def test_operators_do_not_match_what_is_not_a_string_or_is_null(rule: Any) -> None:
    """String operators compare strings: a number, an object or a null property does not match
    them (String value matching), and a null is no number (Numeric value matching)."""
    policy = {"key": [rule]}
    assert not by_body(policy, {"key": None})
    if "numeric" not in rule:
        assert not by_body(policy, {"key": 7})


# ---------------------------------------------------------------------- IP address matching


@pytest.mark.parametrize(
    ("cidr", "yes", "no"),
    [
        ("10.0.0.0/24", "10.0.0.255", "10.0.1.0"),
        ("10.0.0.7/24", "10.0.0.1", "10.0.1.7"),  # host bits are ignored
        ("2001:db8::/32", "2001:db8::1", "2001:db9::1"),
    ],
)
def test_cidr_matches_the_block(cidr: str, yes: str, no: str) -> None:
    """IP address matching: "You can use the cidr operator to check whether an incoming message
    originates from a specific IP address or subnet" ({"cidr": "10.0.0.0/24"} matches 10.0.0.0
    and 10.0.0.255, not 10.1.1.0); a value that is no address matches nothing."""
    policy = {"source_ip": [{"cidr": cidr}]}
    assert validate(json.dumps(policy)) == policy
    assert by_attributes(policy, source_ip=yes)
    assert not by_attributes(policy, source_ip=no)
    assert not by_attributes(policy, source_ip="not-an-address")


@pytest.mark.parametrize(
    ("cidr", "message"),
    [
        ("10.0.0.0", "Malformed CIDR, one '/' required"),
        ("10.0.0.0/24/8", "Malformed CIDR, one '/' required"),
        ("10.0.0.0/x", "Malformed CIDR, mask bits must be an integer"),
        ("10.0.0.0/-1", "Malformed CIDR, mask bits must be an integer"),
        ("10.0.0.300/24", "Nonstandard IP address: 10.0.0.300"),
        ("10.0.0.0/33", "Nonstandard IP address: 10.0.0.0"),
        ("bad/8", "Nonstandard IP address: bad"),
        (24, "prefix match pattern must be a string"),
    ],
)
def test_invalid_cidrs_are_rejected(cidr: Any, message: str) -> None:
    """IP address matching takes a CIDR block ("10.0.0.0/24"); SNS rejects anything else with
    InvalidParameter and these messages."""
    assert rejected({"source_ip": [{"cidr": cidr}]}) == f"FilterPolicy: {message}"


# --------------------------------------------------------------------------- key matching


def test_exists_true_and_false() -> None:
    """Key matching: "store": [{"exists": true}] matches attributes or a body that contain
    store, and "exists": false those that do not."""
    present, absent = {"store": [{"exists": True}]}, {"store": [{"exists": False}]}
    assert by_attributes(present, store="fans", other="x")
    assert not by_attributes(present, other="x")
    assert not by_attributes(absent, store="fans", other="x")
    assert by_attributes(absent, other="x")
    assert by_body(present, {"store": "fans"})
    assert not by_body(present, {"other": 1})
    assert by_body(absent, {"other": 1})
    assert not by_body(absent, {"store": "fans"})


def test_exists_false_needs_some_attribute() -> None:
    """Key matching, attribute scope: AWS delivers a message that has no message attributes at
    all to no subscription whose policy asks ``"exists": false`` (the rule's note); a message
    with any other attribute matches."""
    absent = {"store": [{"exists": False}]}
    assert not matches(absent, ATTRIBUTES, "message", None)
    assert not matches(absent, ATTRIBUTES, "message", {})
    assert by_attributes(absent, colour="red")


def test_other_rules_for_the_key_still_count_after_an_exists_rule() -> None:
    """OR logic: "You can apply OR logic by assigning multiple values to a property name": an
    exists rule that does not match leaves the key's other values to decide."""
    policy = {"store": [{"exists": False}, "fans"]}
    assert by_attributes(policy, store="fans")
    assert not by_attributes(policy, store="shop")


# ------------------------------------------------------------------- AND, OR and $or logic


def test_and_across_keys_or_within_a_key() -> None:
    """AND/OR logic: several keys must all match (AND); several values of a key, any one
    (OR); an attribute the policy does not name is ignored."""
    policy = {"sport": ["rugby", "tennis"], "price": [{"numeric": [">", 100]}]}
    assert by_attributes(policy, sport="tennis", price=101, extra="x")
    assert not by_attributes(policy, sport="tennis", price=99)
    assert not by_attributes(policy, sport="golf", price=101)
    assert not by_attributes(policy, sport="tennis")
    assert by_attributes({"sport": ["rugby"]}, sport=["golf", "rugby"])  # String.Array


OR_POLICY = {
    "source": ["aws.cloudwatch"],
    "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
}


def test_the_or_operator() -> None:
    """OR operator: the policy's logic is "source" && ("metricName" || "namespace")."""
    assert validate(json.dumps(OR_POLICY)) == OR_POLICY
    assert by_attributes(OR_POLICY, source="aws.cloudwatch", metricName="CPUUtilization")
    assert by_attributes(OR_POLICY, source="aws.cloudwatch", namespace="AWS/EC2")
    assert not by_attributes(OR_POLICY, source="aws.cloudwatch", namespace="AWS/S3")
    assert not by_attributes(OR_POLICY, source="aws.ec2", namespace="AWS/EC2")
    assert by_body(OR_POLICY, {"source": "aws.cloudwatch", "namespace": "AWS/EC2"})
    assert not by_body(OR_POLICY, {"source": "aws.cloudwatch", "metricName": "Other"})


def test_nested_or_and_nested_keys() -> None:
    """OR operator examples: "$or" may nest inside "$or" and inside a nested body key (the
    documented "nested OR" policies); every combination of branches is tried."""
    policy = {
        "source": ["aws.cloudwatch"],
        "$or": [
            {"metricName": ["CPUUtilization", "ReadLatency"]},
            {
                "metricType": ["MetricType"],
                "$or": [{"metricId": [1234, 4321]}, {"spaceId": [1000, 2000, 3000]}],
            },
        ],
    }
    validate(json.dumps(policy), BODY)
    base = {"source": "aws.cloudwatch"}
    assert by_body(policy, {**base, "metricName": "ReadLatency"})
    assert by_body(policy, {**base, "metricType": "MetricType", "spaceId": 2000})
    assert by_body(policy, {**base, "metricType": "MetricType", "metricId": 4321})
    assert not by_body(policy, {**base, "metricType": "MetricType", "spaceId": 4000})
    assert not by_body(policy, {**base, "spaceId": 2000})
    assert list(alternatives(policy)) == [
        {"source": ["aws.cloudwatch"], "metricName": ["CPUUtilization", "ReadLatency"]},
        {"source": ["aws.cloudwatch"], "metricType": ["MetricType"], "metricId": [1234, 4321]},
        {"source": ["aws.cloudwatch"], "metricType": ["MetricType"], "spaceId": [1000, 2000, 3000]},
    ]
    in_nested = {"order": {"$or": [{"state": ["paid"]}, {"total": [{"numeric": [">", 10]}]}]}}
    validate(json.dumps(in_nested), BODY)
    assert by_body(in_nested, {"order": {"state": "paid"}})
    assert by_body(in_nested, {"order": {"total": 11}})
    assert not by_body(in_nested, {"order": {"state": "new", "total": 10}})
    assert list(alternatives(in_nested)) == [
        {"order": {"state": ["paid"]}},
        {"order": {"total": [{"numeric": [">", 10]}]}},
    ]


def test_or_with_fewer_than_two_objects_is_an_ordinary_key() -> None:
    """OR operator: "Amazon SNS only recognizes an "$or" relationship when ... There are at
    least 2 objects in the "$or" array ... Otherwise "$or" is treated as a normal attribute
    name": with one object it is a key whose rule (an object) is an unknown match type; an
    array of strings under "$or" is a key matched like any other."""
    assert rejected({"$or": [{"a": ["x"]}]}) == "FilterPolicy: Unrecognized match type a"
    plain = {"$or": ["x", "y"]}
    assert validate(json.dumps(plain)) == plain
    assert by_attributes(plain, **{"$or": "y"})
    assert not by_attributes(plain, a="x")
    mixed = {"$or": [{"a": ["x"]}, "b"]}
    assert rejected(mixed) == "FilterPolicy: Unrecognized match type a"
    assert list(alternatives(mixed)) == [mixed]


def test_or_of_reserved_keywords_is_an_ordinary_key() -> None:
    """OR operator: "None of the objects in the "$or" array have field names that are reserved
    keywords ... The following policy isn't parsed as an OR relationship because numeric and
    prefix are reserved keywords": such an "$or" is a key whose array holds match rules."""
    policy = {"$or": [{"prefix": "abc"}, {"suffix": "xyz"}]}
    assert validate(json.dumps(policy)) == policy
    assert list(alternatives(policy)) == [policy]
    assert by_attributes(policy, **{"$or": "abcd"})
    assert by_attributes(policy, **{"$or": "wxyz"})
    assert not by_attributes(policy, **{"$or": "none"})
    assert not by_attributes(policy, prefix="abc")


# ----------------------------------------------------------------------- message bodies


def test_nested_body_properties_follow_objects_and_arrays() -> None:
    """Filter policy scope MessageBody: "payload-based policies support property nesting"; a
    property inside an array of objects, or a value inside nested arrays, is matched too."""
    policy = {"order": {"item": {"sku": [{"prefix": "A-"}]}}}
    assert validate(json.dumps(policy), BODY) == policy
    assert by_body(policy, {"order": {"item": {"sku": "A-1"}}})
    assert by_body(policy, {"order": [{"item": {"sku": "B-1"}}, {"item": [{"sku": "A-2"}]}]})
    assert by_body(policy, {"order": {"item": {"sku": [["B-1"], ["A-3"]]}}})
    assert not by_body(policy, {"order": {"item": {"sku": "B-1"}}})
    assert not by_body(policy, {"order": {"item": "A-1"}})
    assert not by_body(policy, {"order": "A-1"})
    assert not by_body(policy, {"other": {"item": {"sku": "A-1"}}})
    assert not by_body({"sku": ["A-1"]}, {"order": {"sku": "A-1"}})


@pytest.mark.parametrize("message", ["not json", "[1, 2]", '"text"', "5"])
def test_a_body_policy_needs_a_json_object(message: str) -> None:
    """Message filtering: "Filter policies for the message body assume that the message payload
    is a well-formed JSON object"; any other body matches no body policy."""
    assert not matches({"a": [{"exists": False}]}, BODY, message, None)


def test_a_rule_the_validator_rejects_matches_nothing() -> None:
    """Filter policy constraints: SNS never stores a policy with an unknown match type (it is
    rejected, test_invalid_policies_get_aws_messages); should one reach the matcher, it matches
    no message rather than every message."""
    policy = {"a": [{"wildcard": "x*"}]}
    assert not by_attributes(policy, a="xyz")
    assert not by_body(policy, {"a": "xyz"})


def test_an_empty_policy_accepts_everything() -> None:
    """Message filtering: "If a subscription doesn't have a filter policy, the subscriber
    receives every message published to its topic"; "{}" is a valid policy."""
    assert validate("{}") == {}
    assert validate("{}", BODY) == {}
    assert matches({}, ATTRIBUTES, "message", None)
    assert matches(None, BODY, "not json", None)


# -------------------------------------------------------------------- message attributes


def test_attribute_types() -> None:
    """Filter policy constraints: "Amazon SNS compares policy attributes only to message
    attributes that have the following data types: String, String.Array, Number" and "ignores
    message attributes with the Binary data type"; a malformed array or number matches nothing.
    Attributes may come as Publish sends them (DataType, StringValue) or as delivered."""
    assert not by_attributes({"photo": [{"exists": True}]}, photo=b"aGVsbG8=")
    assert by_attributes({"photo": [{"exists": False}]}, photo=b"aGVsbG8=", other="x")
    assert by_attributes({"n": [5]}, n=5)
    assert matches({"n": [5]}, ATTRIBUTES, "m", {"n": {"DataType": "Number", "StringValue": "5"}})
    assert matches({"s": ["5"]}, ATTRIBUTES, "m", {"s": {"DataType": "String", "StringValue": "5"}})
    assert matches({"a": [5]}, ATTRIBUTES, "m", {"a": {"Type": "String.Array", "Value": "5"}})
    broken_array = {"a": {"Type": "String.Array", "Value": "[not json"}, "b": {"Type": "String"}}
    assert not matches({"b": [{"exists": True}]}, ATTRIBUTES, "m", broken_array)
    broken_number = {"n": {"Type": "Number", "Value": "many"}, "b": {"Type": "String"}}
    assert not matches({"b": [{"exists": True}]}, ATTRIBUTES, "m", broken_number)


# --------------------------------------------------------------------------- validation


def test_five_keys_at_most() -> None:
    """Filter policy constraints: "A filter policy can have a maximum of five keys"."""
    five = {f"k{i}": ["v"] for i in range(5)}
    assert validate(json.dumps(five)) == five
    six = {f"k{i}": ["v"] for i in range(6)}
    assert rejected(six) == "FilterPolicy: Filter policy can not have more than 5 keys"


def values(n: int) -> list[str]:
    return [f"v{i}" for i in range(n)]


def test_150_combinations_at_most() -> None:
    """Filter policy constraints: "The total combination of values in a filter policy must not
    exceed 150. To calculate the total combination, multiply the number of values in each array
    in the filter policy" (3 x 1 x 2 = 6 in the documented example)."""
    too_complex = "FilterPolicy: Filter policy is too complex"
    assert validate(json.dumps({"a": values(3), "b": values(1), "c": values(2)}))
    validate(json.dumps({"a": values(150)}))
    assert rejected({"a": values(151)}) == too_complex
    validate(json.dumps({"a": values(10), "b": values(15)}))
    assert rejected({"a": values(10), "b": values(16)}) == too_complex
    validate(json.dumps({"a": values(5), "b": values(5), "c": values(6)}))
    assert rejected({"a": values(5), "b": values(5), "c": values(7)}) == too_complex


def test_or_complexity_is_the_sum_of_its_branches() -> None:
    """Filter policy constraints with the OR operator: each branch of "$or" is a policy of its
    own, so the combinations are the sum over the branches, times the keys beside "$or"
    ("source" x ("metricName" + "namespace"))."""
    too_complex = "FilterPolicy: Filter policy is too complex"
    ok = {"s": values(2), "$or": [{"a": values(40)}, {"b": values(35)}]}  # 2 x 75 = 150
    validate(json.dumps(ok))
    over = {"s": values(2), "$or": [{"a": values(40)}, {"b": values(36)}]}  # 2 x 76
    assert rejected(over) == too_complex
    nested = {"$or": [{"a": values(100)}, {"$or": [{"b": values(25)}, {"c": values(25)}]}]}
    validate(json.dumps(nested))  # 100 + 25 + 25 = 150
    nested["$or"][1]["$or"][1]["c"] = values(26)
    assert rejected(nested) == too_complex


def test_nested_keys_count_their_depth() -> None:
    """Filter policy constraints, payload-based: "The first array has four values in a
    three-level nested key, and the second has three values in a two-level nested key.
    3 x 4 x 2 x 3 = 72": an array's values count once per level of nesting."""
    documented = {
        "key_a": {"key_b": {"key_c": values(4)}},
        "key_d": {"key_e": values(3)},
    }
    assert validate(json.dumps(documented), BODY) == documented
    validate(json.dumps({"a": {"b": values(75)}}), BODY)  # 75 x 2 = 150
    assert rejected({"a": {"b": values(76)}}, BODY) == "FilterPolicy: Filter policy is too complex"
    validate(json.dumps({"a": {"b": {"c": values(50)}}}), BODY)  # 50 x 3
    assert rejected({"a": {"b": {"c": values(51)}}}, BODY).endswith("too complex")
    assert rejected({"a": {"b": values(1)}, "c": values(76)}, BODY).endswith("too complex")
    # keys beside a nested key multiply with it: 2 x (38 x 2) = 152
    assert rejected({"a": values(2), "b": {"c": values(38)}}, BODY).endswith("too complex")
    validate(json.dumps({"a": values(2), "b": {"c": values(37)}}), BODY)  # 2 x 74 = 148


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("not json", "FilterPolicy: failed to parse JSON."),
        ("[]", "FilterPolicy: failed to parse JSON."),
        ('"text"', "FilterPolicy: failed to parse JSON."),
        ('{"a": "x"}', 'FilterPolicy: "a" must be an object or an array'),
        ('{"a": 5}', 'FilterPolicy: "a" must be an object or an array'),
        ('{"a": []}', "FilterPolicy: Empty arrays are not allowed"),
        (
            '{"a": [["x"]]}',
            "FilterPolicy: Match value must be String, number, true, false, or null",
        ),
        ('{"a": [{}]}', "FilterPolicy: Only one key allowed in match expression"),
        (
            '{"a": [{"prefix": "x", "suffix": "y"}]}',
            "FilterPolicy: Only one key allowed in match expression",
        ),
        ('{"a": [{"wildcard": "x*"}]}', "FilterPolicy: Unrecognized match type wildcard"),
        ('{"a": [{"prefix": 1}]}', "FilterPolicy: prefix match pattern must be a string"),
        ('{"a": [{"suffix": null}]}', "FilterPolicy: suffix match pattern must be a string"),
        (
            '{"a": [{"equals-ignore-case": ["x"]}]}',
            "FilterPolicy: equals-ignore-case match pattern must be a string",
        ),
        (
            '{"a": [{"exists": "yes"}]}',
            "FilterPolicy: exists match pattern must be either true or false.",
        ),
        (
            '{"a": [{"exists": 1}]}',
            "FilterPolicy: exists match pattern must be either true or false.",
        ),
        (
            '{"a": [{"anything-but": {"suffix": "x"}}]}',
            "FilterPolicy: Unsupported anything-but pattern: suffix",
        ),
        (
            '{"a": [{"anything-but": {"prefix": 5}}]}',
            "FilterPolicy: prefix match pattern must be a string",
        ),
        (
            '{"a": [{"anything-but": [true]}]}',
            "FilterPolicy: Match value must be String, number, true, false, or null",
        ),
        (
            '{"a": [{"anything-but": null}]}',
            "FilterPolicy: Match value must be String, number, true, false, or null",
        ),
        (
            '{"a": [{"anything-but": ["x", {"prefix": "y"}]}]}',
            "FilterPolicy: Match value must be String, number, true, false, or null",
        ),
    ],
)
def test_invalid_policies_get_aws_messages(policy: str, message: str) -> None:
    """Filter policy constraints: the JSON may contain "Strings enclosed in quotation marks",
    "Numbers" and "The keywords true, false, and null"; each key holds an array of such values
    or of one-operator match objects; SNS rejects anything else with InvalidParameter."""
    assert rejected(policy) == message


@pytest.mark.parametrize(
    ("numeric", "message"),
    [
        ("5", "Invalid member in numeric match: ]"),
        ("[]", "Invalid member in numeric match: ]"),
        ("[5, 1]", "Invalid member in numeric match: 5"),
        ('["!=", 1]', "Unrecognized numeric range operator: !="),
        ('["="]', "Value of equals must be numeric"),
        ('["=", "1"]', "Value of equals must be numeric"),
        ('["<", true]', "Value of < must be numeric"),
        ('["<", 1, ">", 0]', "Too many elements in numeric expression"),
        ('["=", 1, "<", 2]', "Too many elements in numeric expression"),
        ('[">", 0, 5, 1]', "Bad value in numeric range: 5"),
        ('[">", 0, ">", 1]', "Bad numeric range operator: >"),
        ('[">", 0, "<="]', "Value of <= must be numeric"),
        ('[">=", 0, "<", null]', "Value of < must be numeric"),
        ('[">", 5, "<", 5]', "Bottom must be less than top"),
        ('[">=", 5, "<=", 4]', "Bottom must be less than top"),
        ('[">", 0, "<", 5, 6]', "Too many terms in numeric range expression"),
    ],
)
def test_invalid_numeric_rules(numeric: str, message: str) -> None:
    """Numeric value matching: {"numeric": [op, number]} with op one of =, <, <=, >, >=, or a
    range [">" or ">=", low, "<" or "<=", high] with low below high; AWS's messages for the rest."""
    assert rejected(f'{{"a": [{{"numeric": {numeric}}}]}}') == f"FilterPolicy: {message}"


def test_valid_rule_forms() -> None:
    """Every form the pages document validates: literal values, each operator, numeric ranges
    with either bound inclusive, anything-but with one value, a list, numbers or a prefix."""
    rules = [
        "x", 5, 2.5, True, False, None,
        {"numeric": ["=", 5]}, {"numeric": [">=", 0, "<=", 1]}, {"numeric": [">", -1.5, "<", 0]},
        {"anything-but": "x"}, {"anything-but": 5}, {"anything-but": ["x", 5]},
        {"anything-but": {"prefix": "x"}}, {"exists": True}, {"cidr": "10.0.0.0/8"},
        {"equals-ignore-case": "x"}, {"prefix": ""}, {"suffix": "x"},
    ]  # fmt: skip
    for rule in rules:
        policy = {"a": [rule]}
        assert validate(json.dumps(policy)) == policy


def test_nesting_and_scope() -> None:
    """Filter policy constraints, attribute-based: "Amazon SNS doesn't accept a nested filter
    policy for attribute-based filtering"; FilterPolicyScope is MessageAttributes or
    MessageBody. An invalid nested rule is found at any depth."""
    nested = {"order": {"state": ["paid"]}}
    assert rejected(nested) == (
        "Filter policy scope MessageAttributes does not support nested filter policy"
    )
    assert validate(json.dumps(nested), BODY) == nested
    assert rejected({"order": {"state": [{"prefix": 1}]}}, BODY) == (
        "FilterPolicy: prefix match pattern must be a string"
    )
    assert rejected({"$or": [{"a": ["x"]}, {"b": [{"exists": 1}]}]}).startswith(
        "FilterPolicy: exists"
    )
    assert rejected({"$or": [{"a": {"b": ["x"]}}, {"c": ["y"]}]}) == (
        "Filter policy scope MessageAttributes does not support nested filter policy"
    )
    with pytest.raises(FilterPolicyError) as raised:
        validate("{}", "Everything")
    assert str(raised.value) == (
        "FilterPolicyScope: Invalid value [Everything]. "
        "Please use either MessageBody or MessageAttributes"
    )
