"""SNS subscription filter policies: validation and matching, as AWS documents them.

A filter policy is a JSON object. With ``FilterPolicyScope`` ``MessageAttributes`` (the default)
its keys name message attributes; with ``MessageBody`` they name properties of the JSON message
body, and may nest. Each key holds an array of rules, any one of which must match (OR); every key
must match (AND); ``"$or"`` combines whole sub-policies. The rules are exact strings and numbers,
``prefix``, ``suffix``, ``equals-ignore-case``, ``anything-but``, ``numeric`` ranges, ``exists``
and ``cidr``.

References (the tests cite the exact sentences):
https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html,
.../string-value-matching.html, .../numeric-value-matching.html, .../attribute-key-matching.html,
.../and-or-logic.html and .../subscription-filter-policy-constraints.html.

``validate`` raises ``FilterPolicyError`` with AWS's own message (without the "Invalid
parameter: " prefix, which depends on the API call); ``matches`` decides delivery.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Iterator
from typing import Any

ATTRIBUTES = "MessageAttributes"
BODY = "MessageBody"
SCOPES = (ATTRIBUTES, BODY)
MAX_KEYS = 5
MAX_COMBINATIONS = 150
NUMERIC_OPERATORS = ("<", "<=", "=", ">", ">=")
STRING_OPERATORS = ("prefix", "suffix", "equals-ignore-case")
RESERVED = frozenset((*STRING_OPERATORS, "anything-but", "numeric", "exists", "cidr"))


class FilterPolicyError(ValueError):
    """A filter policy AWS would reject; ``str(error)`` is AWS's message after its prefix."""


# ------------------------------------------------------------------------------ validation


def parse(text: str) -> dict[str, Any]:
    """The policy as a dict; AWS's error when it is not JSON, or not an object."""
    try:
        policy = json.loads(text)
    except (TypeError, ValueError):
        raise FilterPolicyError("FilterPolicy: failed to parse JSON.") from None
    if not isinstance(policy, dict):
        raise FilterPolicyError("FilterPolicy: failed to parse JSON.")
    return policy


def validate_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise FilterPolicyError(
            f"FilterPolicyScope: Invalid value [{scope}]. "
            "Please use either MessageBody or MessageAttributes"
        )


def validate(text: str, scope: str = ATTRIBUTES) -> dict[str, Any]:
    """Parse and check a policy for ``scope``; returns it, or raises ``FilterPolicyError``."""
    validate_scope(scope)
    policy = parse(text)
    if not policy:
        return policy
    if len(policy) > MAX_KEYS:
        raise FilterPolicyError("FilterPolicy: Filter policy can not have more than 5 keys")
    rule_lists, combinations = _collect(policy, scope, depth=1)
    if combinations > MAX_COMBINATIONS:
        raise FilterPolicyError("FilterPolicy: Filter policy is too complex")
    for rules in rule_lists:
        for rule in rules:
            _check_rule(rule)
    return policy


def _is_or(key: str, value: Any) -> bool:
    """AWS treats ``$or`` as an operator only with an array of at least two objects none of
    whose field names is a reserved keyword (and-or-logic.html); else it is an ordinary key."""
    return (
        key == "$or"
        and isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(v, dict) and not RESERVED.intersection(v) for v in value)
    )


def _collect(policy: dict[str, Any], scope: str, depth: int) -> tuple[list[list[Any]], int]:
    """Every rule array in the policy, and its number of value combinations."""
    rule_lists: list[list[Any]] = []
    combinations = 1
    for key, value in policy.items():
        if _is_or(key, value):
            branch_total = 0
            for branch in value:
                branch_rules, branch_combinations = _collect(branch, scope, depth)
                rule_lists.extend(branch_rules)
                branch_total += branch_combinations
            combinations *= branch_total
        elif isinstance(value, dict):
            if scope == ATTRIBUTES:
                raise FilterPolicyError(
                    "Filter policy scope MessageAttributes does not support nested filter policy"
                )
            nested_rules, nested_combinations = _collect(value, scope, depth + 1)
            rule_lists.extend(nested_rules)
            combinations *= nested_combinations
        elif isinstance(value, list):
            if not value:
                raise FilterPolicyError("FilterPolicy: Empty arrays are not allowed")
            rule_lists.append(value)
            combinations *= len(value) * depth
        else:
            raise FilterPolicyError(f'FilterPolicy: "{key}" must be an object or an array')
    return rule_lists, combinations


def _check_rule(rule: Any) -> None:
    if rule is None or isinstance(rule, (str, bool, int, float)):
        return
    if not isinstance(rule, dict):
        raise FilterPolicyError(
            "FilterPolicy: Match value must be String, number, true, false, or null"
        )
    if len(rule) != 1:
        raise FilterPolicyError("FilterPolicy: Only one key allowed in match expression")
    ((operator, operand),) = rule.items()
    if operator in STRING_OPERATORS:
        if not isinstance(operand, str):
            raise FilterPolicyError(f"FilterPolicy: {operator} match pattern must be a string")
    elif operator == "anything-but":
        _check_anything_but(operand)
    elif operator == "exists":
        if not isinstance(operand, bool):
            raise FilterPolicyError(
                "FilterPolicy: exists match pattern must be either true or false."
            )
    elif operator == "numeric":
        _check_numeric(operand)
    elif operator == "cidr":
        _check_cidr(operand)
    else:
        raise FilterPolicyError(f"FilterPolicy: Unrecognized match type {operator}")


def _check_anything_but(operand: Any) -> None:
    if isinstance(operand, dict):
        for inner in operand:
            if inner != "prefix":
                raise FilterPolicyError(f"FilterPolicy: Unsupported anything-but pattern: {inner}")
        _check_rule(operand)
        return
    values = operand if isinstance(operand, list) else [operand]
    for value in values:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise FilterPolicyError(
                "FilterPolicy: Match value must be String, number, true, false, or null"
            )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_numeric(operand: Any) -> None:
    if not isinstance(operand, list) or not operand:
        raise FilterPolicyError("FilterPolicy: Invalid member in numeric match: ]")
    terms = list(operand)
    operator = terms.pop(0)
    if not isinstance(operator, str):
        raise FilterPolicyError(f"FilterPolicy: Invalid member in numeric match: {operator}")
    if operator not in NUMERIC_OPERATORS:
        raise FilterPolicyError(f"FilterPolicy: Unrecognized numeric range operator: {operator}")
    value = terms.pop(0) if terms else None
    if not _is_number(value):
        name = "equals" if operator == "=" else operator
        raise FilterPolicyError(f"FilterPolicy: Value of {name} must be numeric")
    if not terms:
        return
    if operator not in (">", ">="):
        raise FilterPolicyError("FilterPolicy: Too many elements in numeric expression")
    upper_operator = terms.pop(0)
    if not isinstance(upper_operator, str):
        raise FilterPolicyError(f"FilterPolicy: Bad value in numeric range: {upper_operator}")
    if upper_operator not in ("<", "<="):
        raise FilterPolicyError(f"FilterPolicy: Bad numeric range operator: {upper_operator}")
    upper = terms.pop(0) if terms else None
    if not _is_number(upper):
        raise FilterPolicyError(f"FilterPolicy: Value of {upper_operator} must be numeric")
    if upper <= value:  # type: ignore[operator]
        raise FilterPolicyError("FilterPolicy: Bottom must be less than top")
    if terms:
        raise FilterPolicyError("FilterPolicy: Too many terms in numeric range expression")


def _check_cidr(operand: Any) -> None:
    if not isinstance(operand, str):
        raise FilterPolicyError("FilterPolicy: prefix match pattern must be a string")
    address, slash, bits = operand.partition("/")
    if not slash or "/" in bits:
        raise FilterPolicyError("FilterPolicy: Malformed CIDR, one '/' required")
    if not bits.isdigit():
        raise FilterPolicyError("FilterPolicy: Malformed CIDR, mask bits must be an integer")
    try:
        ipaddress.ip_network(operand, strict=False)
    except ValueError:
        raise FilterPolicyError(f"FilterPolicy: Nonstandard IP address: {address}") from None


# -------------------------------------------------------------------------------- matching

_ABSENT: list[Any] = []


def alternatives(policy: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The policy with every ``$or`` expanded: one AND-only policy per combination of branches."""
    partial: list[dict[str, Any]] = [{}]
    for key, value in policy.items():
        if _is_or(key, value):
            partial = [
                {**done, **branch_alternative}
                for done in partial
                for branch in value
                for branch_alternative in alternatives(branch)
            ]
        elif isinstance(value, dict):
            partial = [{**done, key: nested} for done in partial for nested in alternatives(value)]
        else:
            partial = [{**done, key: value} for done in partial]
    yield from partial


def matches(
    policy: dict[str, Any] | None,
    scope: str,
    message: str,
    attributes: dict[str, dict[str, Any]] | None,
) -> bool:
    """Whether a subscription with this policy accepts the message.

    ``attributes`` are SNS's delivered message attributes: ``{name: {"Type", "Value"}}``.
    """
    if not policy:
        return True
    if scope == BODY:
        try:
            body = json.loads(message)
        except (TypeError, ValueError):
            return False
        if not isinstance(body, dict):
            return False
        return any(_match_body(alternative, body) for alternative in alternatives(policy))
    values = _attribute_values(attributes or {})
    if values is None:
        return False
    return any(
        all(
            _match_rules(rules, values.get(key, _ABSENT), bool(values))
            for key, rules in alt.items()
        )
        for alt in alternatives(policy)
    )


def _attribute_values(attributes: dict[str, dict[str, Any]]) -> dict[str, list[Any]] | None:
    """Each attribute as the list of values the policy compares; None if one is malformed.

    SNS compares String, String.Array and Number attributes and ignores Binary ones.
    """
    values: dict[str, list[Any]] = {}
    for name, attribute in attributes.items():
        kind = str(attribute.get("Type") or attribute.get("DataType") or "")
        raw = attribute.get("Value", attribute.get("StringValue"))
        if kind.startswith("Binary"):
            continue
        if kind == "String.Array":
            try:
                parsed = json.loads(raw)
            except (TypeError, ValueError):
                return None
            values[name] = parsed if isinstance(parsed, list) else [parsed]
        elif kind.startswith("Number"):
            try:
                values[name] = [float(raw)]
            except (TypeError, ValueError):
                return None
        else:
            values[name] = [raw]
    return values


def _match_body(policy: dict[str, Any], body: dict[str, Any]) -> bool:
    """An ``$or``-free policy against a JSON body: nested keys follow nested objects and arrays."""
    for key, rules in policy.items():
        if isinstance(rules, dict):
            children = [c for c in _children(body, key) if isinstance(c, dict)]
            if not any(_match_body(rules, child) for child in children):
                return False
        elif not _match_rules(rules, _children(body, key), True):
            return False
    return True


def _children(node: dict[str, Any], key: str) -> list[Any]:
    """The values under ``key`` in an object, arrays flattened (an array of objects gives each
    object, which ``_match_body`` then follows)."""
    return _flatten(node[key]) if key in node else []


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def _match_rules(rules: list[Any], values: list[Any], any_attribute: bool) -> bool:
    """At least one rule matches at least one of the property's values (OR)."""
    present = [v for v in values if v is not None and v != ""]
    for rule in rules:
        if isinstance(rule, dict) and "exists" in rule:
            # "exists": false only matches if at least one attribute is present.
            if rule["exists"] == bool(present) and (rule["exists"] or any_attribute):
                return True
            continue
        if any(_match_value(rule, value) for value in values):
            return True
    return False


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _same_number(a: float, b: float) -> bool:
    """Numbers compare with five digits after the decimal point, as AWS documents."""
    return math.isclose(round(a, 5), round(b, 5), rel_tol=0, abs_tol=1e-9)


def _match_value(rule: Any, value: Any) -> bool:
    if isinstance(rule, dict):
        ((operator, operand),) = rule.items()
        return _match_operator(operator, operand, value)
    if rule is None or isinstance(rule, bool):
        return value is rule
    if isinstance(rule, str):
        return isinstance(value, str) and value == rule
    number = _as_number(value)
    return number is not None and _same_number(number, float(rule))


def _match_operator(operator: str, operand: Any, value: Any) -> bool:
    if value is None:
        return False
    if operator == "prefix":
        return isinstance(value, str) and value.startswith(operand)
    if operator == "suffix":
        return isinstance(value, str) and value.endswith(operand)
    if operator == "equals-ignore-case":
        return isinstance(value, str) and value.casefold() == operand.casefold()
    if operator == "anything-but":
        if isinstance(operand, dict):
            return isinstance(value, str) and not value.startswith(operand["prefix"])
        excluded = operand if isinstance(operand, list) else [operand]
        return not any(_match_value(item, value) for item in excluded)
    if operator == "numeric":
        number = _as_number(value)
        return number is not None and _in_range(operand, number)
    if operator == "cidr":
        try:
            return ipaddress.ip_address(str(value)) in ipaddress.ip_network(operand, strict=False)
        except ValueError:
            return False
    return False


def _in_range(terms: list[Any], number: float) -> bool:
    for operator, bound in zip(terms[0::2], terms[1::2], strict=False):
        limit = float(bound)
        if operator == "=" and not _same_number(number, limit):
            return False
        if operator == "<" and not number < limit:
            return False
        if operator == "<=" and not (number < limit or _same_number(number, limit)):
            return False
        if operator == ">" and not number > limit:
            return False
        if operator == ">=" and not (number > limit or _same_number(number, limit)):
            return False
    return True
