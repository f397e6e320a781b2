"""HTTP/HTTPS subscription endpoints: which ones the backend serves, and the POSTs they get.

AWS POSTs a ``SubscriptionConfirmation`` to a new http/https endpoint, and then each
``Notification``, as JSON with ``Content-Type: text/plain; charset=UTF-8`` and the headers
``x-amz-sns-message-type``, ``x-amz-sns-message-id``, ``x-amz-sns-topic-arn`` and (on
notifications) ``x-amz-sns-subscription-arn`` (http-header.html). The backend does the same,
to local endpoints only: a course backend must not send requests into the world, so an endpoint
whose host is not a loopback address (``localhost``, ``127.0.0.0/8``, ``::1``) is refused at
Subscribe (``course.backend.sns.http_subscriptions``). An https endpoint's certificate is not
verified (a local test server has a self-signed one).

Deliveries are made once, without the delivery policy's retries: a 2xx answer is delivered,
anything else (or no answer within ``TIMEOUT`` real seconds) failed.

https://docs.aws.amazon.com/sns/latest/dg/sns-http-https-endpoint-as-subscriber.html
https://docs.aws.amazon.com/sns/latest/dg/http-header.html
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

TIMEOUT = 5.0  # real seconds an endpoint has to answer
USER_AGENT = "Amazon Simple Notification Service Agent"
CONTENT_TYPE = "text/plain; charset=UTF-8"


def endpoint_problem(protocol: str, endpoint: str) -> str | None:
    """Why the backend refuses an http/https endpoint (AWS's "Invalid parameter: Endpoint"
    wording, with the reason), or None if it will POST to it."""
    try:
        parts = urlsplit(endpoint)
        host, _ = parts.hostname, parts.port  # a bad IPv6 literal or port raises ValueError
    except ValueError:
        host = None
    if not host or parts.scheme != protocol:
        return f"Invalid parameter: Endpoint Reason: an {protocol} endpoint is an {protocol}:// URL"
    if not is_loopback(host):
        return (
            "Invalid parameter: Endpoint Reason: the course backend delivers only to local "
            "endpoints (localhost, 127.0.0.0/8, ::1)"
        )
    return None


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine: ``localhost`` or a loopback address (no DNS)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def headers(
    kind: str, message_id: str, topic_arn: str, subscription_arn: str | None
) -> dict[str, str]:
    """The headers of a POST of ``kind`` (SubscriptionConfirmation, Notification)."""
    result = {
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
    }
    if subscription_arn:
        result["x-amz-sns-subscription-arn"] = subscription_arn
    return result


def post(url: str, body: str, header_values: dict[str, str]) -> tuple[int, str]:
    """POST ``body`` to a local endpoint; its HTTP status and the start of its answer (status 0
    and the error when it could not be reached)."""
    request = urllib.request.Request(url, body.encode(), header_values, method="POST")
    context = ssl._create_unverified_context() if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as answer:
            return answer.status, answer.read(1000).decode(errors="replace")
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read(1000).decode(errors="replace")
    except (OSError, ValueError) as failed:
        return 0, repr(failed)


def send_confirmation(subscription: Any, document: dict[str, Any]) -> threading.Thread:
    """POST the SubscriptionConfirmation ``document`` to the subscription's endpoint, in the
    background (SNS confirms asynchronously; the Subscribe call does not wait)."""
    header_values = headers(
        "SubscriptionConfirmation", document["MessageId"], document["TopicArn"], None
    )
    thread = threading.Thread(
        target=post,
        args=(subscription.endpoint, json.dumps(document), header_values),
        name="sns-http-confirmation",
        daemon=True,
    )
    thread.start()
    return thread
