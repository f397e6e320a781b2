"""What SNS delivers, in AWS's formats: JSON envelopes, Lambda events, emails, and signatures.

- the JSON notification (``Type: Notification``) that SQS (without raw delivery), HTTP and
  ``email-json`` endpoints receive, and the ``SubscriptionConfirmation`` message;
- the Lambda event (``Records[0].Sns``), whose keys are spelled ``SigningCertUrl`` and
  ``UnsubscribeUrl`` and whose ``Subject`` is null when none was given;
- the plain-text emails: the confirmation request and the notification with its footer.

Messages are signed as SNS signs them (``SignatureVersion`` 2: SHA256 with RSA over the
documented fields), with a key and certificate the backend makes for itself and serves at
``SigningCertURL``. Links (confirm, unsubscribe, certificate) point at the backend itself.

https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
import uuid
from functools import cache
from html import escape
from typing import Any
from urllib.parse import urlencode

from course.backend.core import clock

SENDER = "no-reply@sns.amazonaws.com"
DEFAULT_SUBJECT = "AWS Notification Message"
CONFIRMATION_SUBJECT = "AWS Notification - Subscription Confirmation"
CERT_NAME = f"SimpleNotificationService-{uuid.uuid4().hex}.pem"
EMAIL_FOOTER = (
    "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit "
    "the link below to unsubscribe:\n{unsubscribe}\n\nPlease do not reply directly to this email. "
    "If you have any questions or comments regarding this email, please contact us at "
    "https://aws.amazon.com/support"
)


def timestamp(moment: float | None = None) -> str:
    """An ISO 8601 UTC timestamp with milliseconds, as SNS writes them."""
    value = datetime.datetime.fromtimestamp(
        clock.now() if moment is None else moment, tz=datetime.UTC
    )
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


# ----------------------------------------------------------------------------------- links


def confirm_link(base_url: str, topic_arn: str, token: str, endpoint: str) -> str:
    """The link in a confirmation request that confirms the subscription (the backend's page)."""
    query = urlencode({"TopicArn": topic_arn, "Token": token, "Endpoint": endpoint})
    return f"{base_url}/_course/sns/confirm?{query}"


def unsubscribe_link(base_url: str, subscription_arn: str, endpoint: str | None = None) -> str:
    """The link in every notification that deletes the subscription (the backend's page)."""
    params = {"SubscriptionArn": subscription_arn}
    if endpoint:
        params["Endpoint"] = endpoint
    return f"{base_url}/_course/sns/unsubscribe?{urlencode(params)}"


def cert_link(base_url: str) -> str:
    """Where the backend serves the certificate of the key that signs messages."""
    return f"{base_url}/_course/sns/{CERT_NAME}"


# --------------------------------------------------------------------------------- signing

_KEY_LOCK = threading.Lock()


def _key_and_cert() -> tuple[Any, bytes]:
    """The signing key and its certificate, made on first use (once, even when two requests
    sign at the same time: ``cache`` alone would let both make a key, and sign with either)."""
    with _KEY_LOCK:
        return _make_key_and_cert()


@cache
def _make_key_and_cert() -> tuple[Any, bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from course.backend.core.certs import self_signed

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed(key, "sns.amazonaws.com")
    return key, cert.public_bytes(serialization.Encoding.PEM)


def certificate_pem() -> bytes:
    """The signing certificate, PEM-encoded (made with its key on first use)."""
    return _key_and_cert()[1]


def string_to_sign(message: dict[str, Any]) -> str:
    """The fields SNS signs, in order, each as ``name\\nvalue\\n``."""
    if message["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{n}\n{message[n]}\n" for n in names if message.get(n) is not None)


def signature_version(topic: Any) -> str:
    """The topic's ``SignatureVersion``: "1" (SHA1) when the topic was given it, else "2"
    (SHA256; AWS's default is 1, the kit signs with 2 unless asked, as moto does)."""
    return "1" if str(getattr(topic, "signature_version", "")) == "1" else "2"


def sign(message: dict[str, Any], base_url: str, version: str = "2") -> dict[str, Any]:
    """Add ``SignatureVersion`` (1: SHA1withRSA, 2: SHA256withRSA), ``Signature`` and
    ``SigningCertURL`` to a JSON message."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key, _ = _key_and_cert()
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(string_to_sign(message).encode(), padding.PKCS1v15(), algorithm)
    message["SignatureVersion"] = version
    message["Signature"] = base64.b64encode(signature).decode("ascii")
    message["SigningCertURL"] = cert_link(base_url)
    return message


# ------------------------------------------------------------------------------- documents


def notification(
    *,
    topic_arn: str,
    message_id: str,
    message: str,
    subject: str | None,
    sent_at: str,
    unsubscribe_url: str,
    attributes: dict[str, Any] | None,
    base_url: str,
    version: str = "2",
) -> dict[str, Any]:
    """The JSON notification document (SQS without raw delivery, HTTP, email-json), signed with
    SignatureVersion ``version``."""
    document: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic_arn,
    }
    if subject is not None:
        document["Subject"] = subject
    document.update({"Message": message, "Timestamp": sent_at})
    sign(document, base_url, version)
    document["UnsubscribeURL"] = unsubscribe_url
    if attributes:
        document["MessageAttributes"] = attributes
    return document


def confirmation(
    *, topic_arn: str, token: str, subscribe_url: str, base_url: str, version: str = "2"
) -> dict[str, Any]:
    """The JSON ``SubscriptionConfirmation`` message (email-json and HTTP endpoints)."""
    document: dict[str, Any] = {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": token,
        "TopicArn": topic_arn,
        "Message": f"You have chosen to subscribe to the topic {topic_arn}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": subscribe_url,
        "Timestamp": timestamp(),
    }
    return sign(document, base_url, version)


def lambda_event(
    *,
    subscription_arn: str,
    topic_arn: str,
    message_id: str,
    message: str,
    subject: str | None,
    sent_at: str,
    attributes: dict[str, Any] | None,
    base_url: str,
) -> dict[str, Any]:
    """The event a Lambda function subscribed to a topic receives."""
    signed = notification(
        topic_arn=topic_arn,
        message_id=message_id,
        message=message,
        subject=subject,
        sent_at=sent_at,
        unsubscribe_url=unsubscribe_link(base_url, subscription_arn),
        attributes=None,
        base_url=base_url,
    )
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": sent_at,
                    "SignatureVersion": signed["SignatureVersion"],
                    "Signature": signed["Signature"],
                    "SigningCertUrl": signed["SigningCertURL"],
                    "UnsubscribeUrl": signed["UnsubscribeURL"],
                    "MessageAttributes": attributes or {},
                },
            }
        ]
    }


def confirmation_email(topic_arn: str, link: str) -> tuple[str, str]:
    """Text and HTML of the email asking to confirm an ``email`` subscription."""
    text = (
        f"You have chosen to subscribe to the topic: \n{topic_arn}\n\n"
        "To confirm this subscription, click or visit the link below "
        "(If this was in error no action is necessary): \n"
        f"Confirm subscription: {link}\n\n"
        "Please do not reply directly to this email. If you wish to remove yourself from "
        "receiving all future SNS subscription confirmation requests please send an email to "
        "sns-opt-out"
    )
    html = (
        f"<p>You have chosen to subscribe to the topic:<br><b>{escape(topic_arn)}</b></p>"
        "<p>To confirm this subscription, click or visit the link below "
        "(If this was in error no action is necessary):<br>"
        f'<a href="{escape(link)}">Confirm subscription</a></p>'
    )
    return text, html


def notification_email(message: str, unsubscribe_url: str) -> str:
    """The text of an ``email`` notification: the message and SNS's unsubscribe footer."""
    return message + EMAIL_FOOTER.format(unsubscribe=unsubscribe_url)


def sender(display_name: str) -> str:
    """The From header: the topic's display name, or "AWS Notifications"."""
    return f"{display_name or 'AWS Notifications'} <{SENDER}>"


def as_json_text(document: dict[str, Any]) -> str:
    """A JSON message as SNS writes it into an SQS body or an email-json mail."""
    return json.dumps(document, indent=2)
