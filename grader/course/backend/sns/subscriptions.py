"""Subscriptions that need confirmation: their tokens, their state and the backend's address.

SNS subscriptions to ``email``, ``email-json``, ``http`` and ``https`` endpoints start as
"PendingConfirmation": SNS sends a token to the endpoint, and only ``ConfirmSubscription``
with that token (or a visit to the link carrying it) makes the subscription deliver. Unconfirmed
subscriptions are deleted after 48 hours. moto confirms every subscription at once; this
module keeps what it lacks, keyed by subscription ARN, and acts on moto's subscription objects.

https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html
https://docs.aws.amazon.com/sns/latest/api/API_ConfirmSubscription.html
https://docs.aws.amazon.com/sns/latest/dg/sns-delete-subscription-topic.html
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from course.backend.core import clock, moto_state
from course.backend.core.registry import base_url as backend_url
from course.backend.core.registry import on_reset

CONFIRMED_PROTOCOLS = ("email", "email-json", "http", "https")  # mailed, or POSTed to
PENDING_LIFETIME = 48 * 3600.0


@dataclass
class Pending:
    """One subscription awaiting confirmation, and every token sent for it."""

    subscription_arn: str
    topic_arn: str
    endpoint: str
    created: float
    tokens: list[str] = field(default_factory=list)


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: dict[str, Pending] = field(default_factory=dict)  # by subscription ARN
    base_urls: dict[str, str] = field(default_factory=dict)  # by subscription ARN
    deleted: dict[str, int] = field(default_factory=dict)  # unsubscribed count by topic ARN
    confirmed: dict[str, tuple[str, str]] = field(default_factory=dict)  # token -> topic, sub


_STATE = _State()


def remember_base_url(subscription_arn: str, base_url: str) -> None:
    """Keep the address a subscription's client reached the backend at, for its links."""
    with _STATE.lock:
        _STATE.base_urls[subscription_arn] = base_url


def base_url(subscription_arn: str) -> str:
    """The backend's address for a subscription's links: as its client reached it, else the
    server's own."""
    with _STATE.lock:
        return _STATE.base_urls.get(subscription_arn) or backend_url()


def _sns_backend(arn: str) -> Any:
    """moto's SNS backend of the account and region an SNS ARN names."""
    parts = arn.split(":")
    return moto_state.sns(parts[4], parts[3])


def moto_topic(arn: str) -> Any | None:
    """moto's topic object for a topic ARN, or None if there is no such topic."""
    return _sns_backend(arn).topics.get(arn) if len(arn.split(":")) == 6 else None


def moto_subscription(arn: str) -> Any | None:
    """moto's subscription object for an ARN, in whatever account and region it lives."""
    return _sns_backend(arn).subscriptions.get(arn) if len(arn.split(":")) >= 7 else None


def of_topic(topic: Any) -> list[Any]:
    """Every subscription (moto's objects) of a topic, pending ones included."""
    return [s for s in topic.sns_backend.subscriptions.values() if s.topic is topic]


def start_pending(subscription: Any) -> str:
    """Mark a subscription pending (if new) and issue a confirmation token for it."""
    token = secrets.token_hex(64)
    with _STATE.lock:
        entry = _STATE.pending.get(subscription.arn)
        if entry is None:
            entry = Pending(
                subscription.arn, subscription.topic.arn, subscription.endpoint, clock.now()
            )
            _STATE.pending[subscription.arn] = entry
        entry.tokens.append(token)
    subscription.confirmed = False
    subscription.attributes["PendingConfirmation"] = True
    subscription.attributes["ConfirmationWasAuthenticated"] = False
    return token


def is_pending(subscription_arn: str) -> bool:
    """Whether the subscription awaits confirmation (one past 48 hours, not yet swept, still
    does, so it gets nothing). The API calls that show or use subscriptions run ``expire``
    first (``course.backend.sns.email``); this stays a look-up, as Publish asks it per
    subscription."""
    with _STATE.lock:
        return subscription_arn in _STATE.pending


def confirm(topic_arn: str, token: str, authenticated: bool) -> str | None:
    """Confirm the subscription a token was issued for; its ARN, or None if the token is unknown.

    A token of a subscription already confirmed confirms it again (the call is idempotent).
    """
    expire()
    with _STATE.lock:
        entry = next(
            (p for p in _STATE.pending.values() if token in p.tokens and p.topic_arn == topic_arn),
            None,
        )
        if entry is not None:
            del _STATE.pending[entry.subscription_arn]
    if entry is None:
        return _already_confirmed(topic_arn, token)
    subscription = moto_subscription(entry.subscription_arn)
    if subscription is None:
        return None
    subscription.confirmed = True
    subscription.attributes["PendingConfirmation"] = False
    subscription.attributes["ConfirmationWasAuthenticated"] = authenticated
    with _STATE.lock:
        for issued in entry.tokens:
            _STATE.confirmed[issued] = (topic_arn, entry.subscription_arn)
    return entry.subscription_arn


def _already_confirmed(topic_arn: str, token: str) -> str | None:
    with _STATE.lock:
        found = _STATE.confirmed.get(token)
    if found and found[0] == topic_arn and moto_subscription(found[1]) is not None:
        return found[1]
    return None


def expire() -> None:
    """Delete subscriptions left unconfirmed for 48 hours, as SNS does."""
    now = clock.now()
    with _STATE.lock:
        old = [p for p in _STATE.pending.values() if now - p.created >= PENDING_LIFETIME]
        for entry in old:
            del _STATE.pending[entry.subscription_arn]
    for entry in old:
        _delete(entry.subscription_arn)


def _delete(subscription_arn: str) -> None:
    if len(subscription_arn.split(":")) >= 7:
        _sns_backend(subscription_arn).subscriptions.pop(subscription_arn, None)


def unsubscribed(subscription_arn: str, topic_arn: str) -> None:
    """Record a deletion (for the topic's SubscriptionsDeleted count)."""
    with _STATE.lock:
        _STATE.pending.pop(subscription_arn, None)
        _STATE.deleted[topic_arn] = _STATE.deleted.get(topic_arn, 0) + 1


def deleted_count(topic_arn: str) -> int:
    """How many subscriptions of the topic were deleted (GetTopicAttributes'
    SubscriptionsDeleted)."""
    with _STATE.lock:
        return _STATE.deleted.get(topic_arn, 0)


def unsubscribe(subscription_arn: str) -> bool:
    """Delete a subscription (the unsubscribe link); False if there is no such subscription."""
    subscription = moto_subscription(subscription_arn)
    if subscription is None:
        return False
    topic_arn = subscription.topic.arn
    _delete(subscription_arn)
    unsubscribed(subscription_arn, topic_arn)
    return True


@on_reset
def clear() -> None:
    """Forget every pending subscription, token, address and count (backend reset)."""
    with _STATE.lock:
        _STATE.pending.clear()
        _STATE.base_urls.clear()
        _STATE.deleted.clear()
        _STATE.confirmed.clear()
