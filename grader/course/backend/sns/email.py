"""SNS subscriptions that need confirmation (email, email-json, http, https) as on AWS: pending
until confirmed, a confirmation email (or a SubscriptionConfirmation POST to a local http/https
endpoint, ``course.backend.sns.http_endpoints``), real links.

- ``Subscribe`` with protocol ``email`` or ``email-json`` answers "pending confirmation" (unless
  ``ReturnSubscriptionArn``) and mails a confirmation request with a token and a confirm link to
  the backend's mailbox; subscribing again while pending mails a new token.
- ``ConfirmSubscription`` with that token, or opening the link (``/_course/sns/confirm``),
  confirms it; an unknown token is ``InvalidParameter``.
- ``ListSubscriptions`` and ``ListSubscriptionsByTopic`` show "PendingConfirmation" instead of
  the ARN of a pending subscription; ``GetSubscriptionAttributes`` says PendingConfirmation.
- ``Unsubscribe`` rejects what is not a subscription ARN (for example "pending confirmation")
  with AWS's message; the unsubscribe link in every email (``/_course/sns/unsubscribe``) works.
- ``Subscribe`` rejects an email endpoint that is not an address, and a lambda endpoint that
  is not a function ARN.

https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html
https://docs.aws.amazon.com/sns/latest/api/API_ConfirmSubscription.html
https://docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs

from course.backend.core.registry import ApiRequest, Reply, after, base_url, before, page, success
from course.backend.mail.mailbox import MAILBOX
from course.backend.sns import http_endpoints
from course.backend.sns import messages as sns_messages
from course.backend.sns import subscriptions as sns_subscriptions
from course.backend.sns.exceptions import InvalidParameter, NotFound

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LAMBDA_ARN = re.compile(r"^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$")
PENDING = "pending confirmation"
_UNSUBSCRIBING = "course.sns.unsubscribing"


@before("sns", "Subscribe")
def check_endpoint(request: ApiRequest) -> Reply | None:
    """Refuse an email endpoint that is not an address, a lambda one that is not a function ARN."""
    protocol = str(request.params.get("Protocol", "")).lower()
    endpoint = str(request.params.get("Endpoint", ""))
    if protocol in ("email", "email-json") and not EMAIL.match(endpoint):
        raise InvalidParameter("Invalid parameter: Email address")
    if protocol == "lambda" and not LAMBDA_ARN.match(endpoint):
        raise InvalidParameter("Invalid parameter: Lambda endpoint ARN")
    return None


@after("sns", "Subscribe")
def subscribed(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply | None:
    """A new email or http/https subscription is pending: mail (or POST) it a confirmation
    request (a new token each time it is subscribed again while pending) and answer "pending
    confirmation"."""
    if reply.status >= 400:
        return None
    arn = parsed.get("SubscriptionArn", "")
    subscription = sns_subscriptions.moto_subscription(arn)
    if subscription is None:
        return None
    backend_url = base_url(request.environ)
    sns_subscriptions.remember_base_url(arn, backend_url)
    if subscription.protocol not in sns_subscriptions.CONFIRMED_PROTOCOLS:
        return None
    is_new = not getattr(subscription, "_course_seen", False)
    subscription._course_seen = True
    if is_new or sns_subscriptions.is_pending(arn):
        token = sns_subscriptions.start_pending(subscription)
        if subscription.protocol in ("http", "https"):
            _post_confirmation(subscription, token, backend_url)
        else:
            _mail_confirmation(subscription, token, backend_url)
    if sns_subscriptions.is_pending(arn) and not request.params.get("ReturnSubscriptionArn"):
        return success(request.call, {"SubscriptionArn": PENDING})
    return None


def _confirmation(subscription: Any, token: str, base_url: str) -> dict[str, Any]:
    """The signed JSON SubscriptionConfirmation (email-json, http, https); its SubscribeURL is
    the backend's confirm page."""
    topic = subscription.topic
    return sns_messages.confirmation(
        topic_arn=topic.arn,
        token=token,
        subscribe_url=sns_messages.confirm_link(base_url, topic.arn, token, subscription.endpoint),
        base_url=base_url,
        version=sns_messages.signature_version(topic),
    )


def _post_confirmation(subscription: Any, token: str, base_url: str) -> None:
    """POST the SubscriptionConfirmation to an http/https endpoint (in the background)."""
    http_endpoints.send_confirmation(subscription, _confirmation(subscription, token, base_url))


def _mail_confirmation(subscription: Any, token: str, base_url: str) -> None:
    topic = subscription.topic
    if subscription.protocol == "email":
        link = sns_messages.confirm_link(base_url, topic.arn, token, subscription.endpoint)
        text, html_body = sns_messages.confirmation_email(topic.arn, link)
    else:
        document = _confirmation(subscription, token, base_url)
        text, html_body = sns_messages.as_json_text(document), ""
    MAILBOX.deliver(
        source="sns",
        sender=sns_messages.sender(topic.display_name),
        recipients=[subscription.endpoint],
        subject=sns_messages.CONFIRMATION_SUBJECT,
        text=text,
        html_body=html_body,
    )


@before("sns", "ConfirmSubscription")
def confirm_subscription(request: ApiRequest) -> Reply:
    """Confirm the subscription the token was mailed for; an unknown token is refused."""
    topic_arn = str(request.params.get("TopicArn", ""))
    if sns_subscriptions.moto_topic(topic_arn) is None:
        raise NotFound("Topic does not exist")
    arn = sns_subscriptions.confirm(topic_arn, str(request.params.get("Token", "")), True)
    if arn is None:
        raise InvalidParameter("Invalid parameter: Token")
    return success(request.call, {"SubscriptionArn": arn})


@before("sns", "Subscribe")
@before("sns", "ListSubscriptions")
@before("sns", "ListSubscriptionsByTopic")
@before("sns", "GetSubscriptionAttributes")
@before("sns", "GetTopicAttributes")
@before("sns", "Publish")
@before("sns", "PublishBatch")
def expire_unconfirmed(request: ApiRequest) -> None:
    """Subscriptions left unconfirmed for 48 hours are gone before SNS answers (so subscribing
    the address again starts a new subscription)."""
    sns_subscriptions.expire()


@after("sns", "ListSubscriptions")
@after("sns", "ListSubscriptionsByTopic")
def hide_pending(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply | None:
    """A pending subscription is listed with SubscriptionArn "PendingConfirmation"."""
    if reply.status >= 400:
        return None
    pending = [
        entry
        for entry in parsed.get("Subscriptions", [])
        if sns_subscriptions.is_pending(entry.get("SubscriptionArn", ""))
    ]
    if not pending:
        return None
    for entry in pending:
        entry["SubscriptionArn"] = "PendingConfirmation"
    return success(request.call, parsed)


@before("sns", "Unsubscribe")
def check_unsubscribe(request: ApiRequest) -> Reply | None:
    """Refuse what is not a subscription ARN ("pending confirmation", say), with AWS's text."""
    arn = str(request.params.get("SubscriptionArn", ""))
    elements = len(arn.split(":"))
    if elements < 6:
        raise InvalidParameter(
            f"Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, "
            f"not {elements}"
        )
    if elements == 6:
        raise InvalidParameter("Invalid parameter: SubscriptionId")
    request.environ[_UNSUBSCRIBING] = sns_subscriptions.moto_subscription(arn) is not None
    return None


@after("sns", "Unsubscribe")
def count_unsubscribe(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> None:
    """Count a deleted subscription for its topic's SubscriptionsDeleted."""
    if reply.status < 400 and request.environ.get(_UNSUBSCRIBING):
        arn = str(request.params.get("SubscriptionArn", ""))
        sns_subscriptions.unsubscribed(arn, arn.rsplit(":", 1)[0])


# ----------------------------------------------------------------------- the links in emails


def _html(status: int, title: str, body: str) -> Reply:
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:system-ui,sans-serif;"
        "max-width:40rem;margin:3rem auto}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}"
        "<p><a href='/_course/mailbox'>Back to the mailbox</a></p></body></html>"
    )
    return Reply(status, document.encode(), [("Content-Type", "text/html; charset=utf-8")])


@page("/_course/sns/confirm")
def confirm_page(environ: dict[str, Any], body: bytes) -> Reply:
    """The confirm link of a confirmation email: confirms, as SNS's confirmation page does."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    topic_arn = query.get("TopicArn", [""])[0]
    arn = sns_subscriptions.confirm(topic_arn, query.get("Token", [""])[0], False)
    if arn is None:
        return _html(
            400,
            "Invalid token",
            "<p>This confirmation link is not valid: the token is unknown, or the subscription "
            "expired (SNS deletes subscriptions left unconfirmed for 48 hours).</p>",
        )
    return _html(
        200,
        "Subscription confirmed!",
        f"<p>You have successfully subscribed.</p><p>Your subscription's id is:<br>"
        f"<code>{html.escape(arn)}</code></p>",
    )


@page("/_course/sns/unsubscribe")
def unsubscribe_page(environ: dict[str, Any], body: bytes) -> Reply:
    """The unsubscribe link at the foot of every notification email."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    arn = query.get("SubscriptionArn", [""])[0]
    if not sns_subscriptions.unsubscribe(arn):
        return _html(404, "Subscription not found", "<p>There is no such subscription.</p>")
    endpoint = query.get("Endpoint", [""])[0]
    return _html(
        200,
        "Subscription removed!",
        f"<p>Your subscription to the topic below has been deactivated"
        f"{' for ' + html.escape(endpoint) if endpoint else ''}:</p>"
        f"<p><code>{html.escape(arn.rsplit(':', 1)[0])}</code></p>",
    )
