"""Does a resource-based policy let an AWS service act on a resource? (SQS queue and Lambda.)

SNS delivers to a queue only when the queue's policy allows ``sqs:SendMessage`` from the topic,
and invokes a function only when the function's policy allows ``lambda:InvokeFunction`` to
``sns.amazonaws.com``. This module evaluates such a policy for one request the way IAM does for
resource policies: an explicit Deny wins, otherwise an Allow whose principal, action, resource
and conditions all match grants access, otherwise access is denied.

Only what resource policies for service principals use is supported: principals ``*``,
``{"AWS": "*"}`` and ``{"Service": ...}``; actions and resources with ``*``/``?`` wildcards;
``NotAction``/``NotResource``; the condition operators ``ArnEquals``, ``ArnLike``,
``StringEquals``, ``StringLike`` (and their ``Not`` and ``IfExists`` forms) on the context keys
given. A statement using anything else is treated as not matching, so it never grants access.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    """Who asks to do what to which resource, with the request's context keys."""

    service_principal: str  # e.g. "sns.amazonaws.com"
    action: str  # e.g. "sqs:SendMessage"
    resource: str  # ARN
    context: dict[str, str] = field(default_factory=dict)  # e.g. {"aws:SourceArn": topic ARN}


def allows(policy: str | dict[str, Any] | None, request: Request) -> bool:
    """True when ``policy`` grants the request and does not deny it."""
    document = _load(policy)
    if document is None:
        return False
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict) or not _applies(statement, request):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def _load(policy: str | dict[str, Any] | None) -> dict[str, Any] | None:
    if not policy:
        return None
    if isinstance(policy, dict):
        return policy
    try:
        document = json.loads(policy)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM's wildcards: ``*`` any run of characters, ``?`` any one; nothing else is special."""
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _arn_matches(pattern: str, value: str) -> bool:
    """IAM's ARN operators: "Case-sensitive matching of the ARN. Each of the six
    colon-delimited components of the ARN is checked separately and each can include
    multi-character match wildcards (*) or single-character match wildcards (?)" (the same for
    ``ArnEquals`` and ``ArnLike``: IAM User Guide, "Amazon Resource Name (ARN) condition
    operators", reference_policies_elements_condition_operators.html)."""
    patterns, values = pattern.split(":", 5), value.split(":", 5)
    return len(patterns) == len(values) == 6 and all(
        _wildcard(p, v) for p, v in zip(patterns, values, strict=True)
    )


def _applies(statement: dict[str, Any], request: Request) -> bool:
    return (
        _principal_matches(statement, request)
        and _action_matches(statement, request)
        and _resource_matches(statement, request)
        and _conditions_hold(statement.get("Condition", {}), request)
    )


def _principal_matches(statement: dict[str, Any], request: Request) -> bool:
    if "NotPrincipal" in statement:
        return False
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in _as_list(principal.get("AWS", [])):
        return True
    return request.service_principal in _as_list(principal.get("Service", []))


def _action_matches(statement: dict[str, Any], request: Request) -> bool:
    if "Action" in statement:
        return any(
            _wildcard(a, request.action, case_sensitive=False)
            for a in _as_list(statement["Action"])
        )
    if "NotAction" in statement:
        return not any(
            _wildcard(a, request.action, case_sensitive=False)
            for a in _as_list(statement["NotAction"])
        )
    return False


def _resource_matches(statement: dict[str, Any], request: Request) -> bool:
    if "Resource" in statement:
        return any(_wildcard(r, request.resource) for r in _as_list(statement["Resource"]))
    if "NotResource" in statement:
        return not any(_wildcard(r, request.resource) for r in _as_list(statement["NotResource"]))
    return True  # resource policies may omit Resource: it is the resource itself


_OPERATORS = {
    "ArnEquals": _arn_matches,
    "ArnLike": _arn_matches,
    "StringEquals": lambda pattern, value: pattern == value,
    "StringLike": lambda pattern, value: _wildcard(pattern, value),
    "StringEqualsIgnoreCase": lambda pattern, value: pattern.lower() == value.lower(),
}


def _conditions_hold(conditions: dict[str, Any], request: Request) -> bool:
    if not isinstance(conditions, dict):
        return False
    context = {k.lower(): v for k, v in request.context.items()}
    for operator, tests in conditions.items():
        if not isinstance(tests, dict):
            return False
        if_exists = operator.endswith("IfExists")
        name = operator.removesuffix("IfExists")
        negate = name.startswith(("ArnNot", "StringNot"))
        base = name.replace("ArnNot", "Arn").replace("StringNot", "String")
        compare = _OPERATORS.get(base)
        if compare is None:
            return False
        for key, expected in tests.items():
            actual = context.get(key.lower())
            if actual is None:
                if if_exists or negate:
                    continue
                return False
            matched = any(compare(str(pattern), actual) for pattern in _as_list(expected))
            if matched == negate:
                return False
    return True
