"""SNS filter policies checked as AWS checks them when they are set.

``Subscribe`` (``Attributes``) and ``SetSubscriptionAttributes`` validate ``FilterPolicy``
against its ``FilterPolicyScope`` with ``course.rules.filter_policy``: malformed JSON, unknown
operators, bad numeric ranges, nesting under MessageAttributes, more than five keys or more than
150 combinations are ``InvalidParameter`` with AWS's message (moto answers HTTP 500 to malformed
JSON and rejects ``cidr``). Changing the scope re-checks the policy already set. moto's own
validation is switched off; matching is the kit's too (``course.backend.sns.delivery``).

https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html
"""

from __future__ import annotations

from typing import Any

from moto.sns.models import SNSBackend

from course.backend.core.registry import ApiRequest, Reply, before
from course.backend.sns import subscriptions as sns_subscriptions
from course.backend.sns.exceptions import InvalidParameter
from course.rules import filter_policy as sns_filter


def _no_validation(self: SNSBackend, value: Any, scope: str | None) -> None:
    """The kit validated the policy before moto saw it."""


SNSBackend._validate_filter_policy = _no_validation  # type: ignore[method-assign]


@before("sns", "Subscribe")
def check_subscribe(request: ApiRequest) -> Reply | None:
    """Refuse a FilterPolicy (or FilterPolicyScope) in Subscribe's Attributes that AWS refuses."""
    attributes = request.params.get("Attributes") or {}
    scope = attributes.get("FilterPolicyScope") or sns_filter.ATTRIBUTES
    try:
        sns_filter.validate_scope(scope)
        if attributes.get("FilterPolicy"):
            sns_filter.validate(attributes["FilterPolicy"], scope)
    except sns_filter.FilterPolicyError as exc:
        raise InvalidParameter(f"Invalid parameter: Attributes Reason: {exc}") from None
    return None


@before("sns", "SetSubscriptionAttributes")
def check_set(request: ApiRequest) -> Reply | None:
    """Refuse a FilterPolicy, or a FilterPolicyScope that the policy already set breaks."""
    name = request.params.get("AttributeName")
    value = request.params.get("AttributeValue") or ""
    if name not in ("FilterPolicy", "FilterPolicyScope"):
        return None
    subscription = sns_subscriptions.moto_subscription(str(request.params.get("SubscriptionArn")))
    current = subscription.attributes if subscription is not None else {}
    try:
        if name == "FilterPolicy" and value:
            sns_filter.validate(value, current.get("FilterPolicyScope") or sns_filter.ATTRIBUTES)
        elif name == "FilterPolicyScope":
            sns_filter.validate_scope(value)
            if current.get("FilterPolicy"):
                sns_filter.validate(current["FilterPolicy"], value)
    except sns_filter.FilterPolicyError as exc:
        raise InvalidParameter(f"Invalid parameter: {exc}") from None
    return None
