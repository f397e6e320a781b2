"""The one path every SES message takes, from the v1 API, the v2 API or SMTP.

Before it, a message is built: ``compose`` makes the MIME message of a formatted email, and
``render`` fills an email template (``stored_template`` finds one in moto's store).

In order, as AWS applies them:

1. the sender (Source/MAIL FROM, the From, Sender and Return-Path addresses) must be a verified
   identity, always; in the sandbox every recipient must be verified too, or be the mailbox
   simulator. A failure is ``MessageRejected``: "Email address is not verified. The following
   identities failed the check in region US-EAST-1: ..."
   (https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html);
2. a configuration set named by the call, the ``X-SES-CONFIGURATION-SET`` header or the
   identity's default must exist;
3. a custom MAIL FROM domain that is not set up rejects the message when its behaviour on MX
   failure is REJECT_MESSAGE (``MailFromDomainNotVerified``,
   https://docs.aws.amazon.com/ses/latest/dg/mail-from.html); otherwise the bounce address is
   on ``amazonses.com``;
4. a contact list named by the call's ``ListManagementOptions`` must exist;
5. the account's sending rate and daily quota (``course.backend.ses.account.ACCOUNTS.admit``).

An accepted message gets an SES message id, ``Message-ID``/``Date`` headers if it has none, loses
its ``Bcc`` and ``X-SES-*`` headers, is DKIM-signed with the domain's Easy DKIM key when the
domain signs (a real RFC 6376 signature made with dkimpy, selector = the first DKIM token), and
lands in the kit's mailbox for every recipient that is not the mailbox simulator nor a contact
who unsubscribed from the list or topic (``course.backend.ses.contacts``; a bounce). Then
``course.backend.ses.events.record`` publishes what happened.
"""

from __future__ import annotations

import email
import email.policy
import json
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from typing import Any

from course.backend.core import clock, moto_state
from course.backend.mail.mailbox import MAILBOX
from course.backend.ses.account import ACCOUNTS
from course.backend.ses.contacts import ListOptions, exists, subscribed
from course.backend.ses.destinations import config_set_exists
from course.backend.ses.events import SentMessage, record
from course.backend.ses.identities import (
    STORE,
    SUCCESS,
    Identity,
    address_of,
    is_simulator,
    signing_identity,
    verifying_identity,
)

MAX_RECIPIENTS = 50
SIGNED_HEADERS = (
    "from",
    "to",
    "cc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
)


class Rejection(Exception):
    """SES refuses the message: ``kind`` is unverified, config-set, mail-from, template,
    contact-list or invalid (each API answers it with its own error code)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class Submission:
    """A message handed to SES, with the envelope the call (or SMTP session) gave."""

    account_id: str
    region: str
    raw: bytes
    channel: str = "ses"  # the mailbox source: "ses" (API) or "smtp"
    envelope_from: str | None = None  # Source / FromEmailAddress / MAIL FROM
    recipients: list[str] | None = None  # Destination(s) / RCPT TO; None: from the headers
    configuration_set: str | None = None
    tags: dict[str, list[str]] = field(default_factory=dict)
    caller: str = "course-learner"
    feedback_address: str | None = None
    list_options: ListOptions | None = None  # ListManagementOptions (SES v2)


def compose(
    *,
    source: str,
    to: list[str],
    cc: list[str],
    reply_to: list[str],
    subject: str,
    text: str | None,
    html: str | None,
    headers: list[tuple[str, str]] | None = None,
) -> bytes:
    """The MIME message SES builds from a "simple" (formatted) email."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = source
    if to:
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if reply_to:
        message["Reply-To"] = ", ".join(reply_to)
    message["Subject"] = subject
    for name, value in headers or []:
        message[name] = value
    if text is not None and html is not None:
        message.set_content(text)
        message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(text or "")
    return message.as_bytes()


def stored_template(account_id: str, region: str, name: str) -> dict[str, Any]:
    """The email template ``name`` in moto's store (v1's shape); ``Rejection`` if none."""
    template = moto_state.ses_templates(account_id, region).get(name)
    if template is None:
        raise Rejection("template", f"Template {name} does not exist.")
    return template


def render(template: dict[str, str], data: str) -> tuple[str, str | None, str | None]:
    """(subject, text, html) of a template filled with JSON ``data`` (moto's renderer); a
    ``Rejection`` ("invalid") when the data is not JSON or does not fill the template."""
    from moto.ses.template import parse_template

    try:
        values = json.loads(data or "{}")
    except ValueError:
        raise Rejection("invalid", "Template rendering data is invalid.") from None
    try:
        parts = [
            parse_template(str(template[key]), values) if template.get(key) else None
            for key in ("subject_part", "text_part", "html_part")
        ]
    except Exception as exc:
        raise Rejection("invalid", f"Template rendering failed: {exc}") from None
    return parts[0] or "", parts[1], parts[2]


def merged_data(*documents: str | None, extra: dict[str, str] | None = None) -> str:
    """One JSON template data from several (later keys win), plus ``extra``: a bulk entry's
    replacement data over the call's default data, and the unsubscribe link; a ``Rejection``
    ("invalid") when one is not a JSON object."""
    merged: dict[str, Any] = {}
    for document in documents:
        try:
            values = json.loads(document or "{}")
        except ValueError:
            raise Rejection("invalid", "Template rendering data is invalid.") from None
        if not isinstance(values, dict):
            raise Rejection("invalid", "Template rendering data is not a JSON object.")
        merged.update(values)
    merged.update(extra or {})
    return json.dumps(merged)


def _addresses(message: email.message.Message, *names: str) -> list[str]:
    values = [str(v) for name in names for v in (message.get_all(name) or [])]
    return [addr for _, addr in getaddresses(values) if addr]


def _not_verified(account_id: str, region: str, addresses: list[str]) -> list[str]:
    """The addresses no verified identity covers, each once (usually Source is the From too)."""
    unique = dict.fromkeys(addresses)
    return [a for a in unique if verifying_identity(account_id, region, a) is None]


def unverified(region: str, missing: list[str]) -> Rejection:
    """SES's rejection of a message whose ``missing`` addresses no verified identity covers."""
    return Rejection(
        "unverified",
        "Email address is not verified. The following identities failed the check in "
        f"region {region.upper()}: {', '.join(missing)}",
    )


def check_sender(account_id: str, region: str, source: str) -> None:
    """Raise the ``unverified`` ``Rejection`` unless a verified identity covers ``source``
    (a bulk send checks its one sender before its entries)."""
    if verifying_identity(account_id, region, address_of(source)) is None:
        raise unverified(region, [address_of(source)])


def new_message_id(now: float) -> str:
    """An id shaped like SES's (``0100018c...-<uuid>-000000``)."""
    return f"0100{int(now * 1000):012x}-{uuid.uuid4()}-000000"


def submit(sub: Submission) -> str:
    """Check, sign, deliver and record one message; returns its SES message id.

    Raises ``Rejection`` or ``course.backend.ses.account.SendingRefused``.
    """
    message = email.message_from_bytes(sub.raw, policy=email.policy.default)
    from_addresses = _addresses(message, "From")
    source = address_of(sub.envelope_from) if sub.envelope_from else ""
    source = source or (from_addresses[0] if from_addresses else "")
    if not source:
        raise Rejection("invalid", "Missing required header 'From'.")
    recipients = list(sub.recipients or []) or _addresses(message, "To", "Cc", "Bcc")
    recipients = [address_of(r) for r in recipients]
    if not recipients:
        raise Rejection("invalid", "Missing final '@domain' in the recipients: none were given.")
    if len(recipients) > MAX_RECIPIENTS:
        raise Rejection("invalid", f"Recipient count exceeds {MAX_RECIPIENTS}.")

    where = (sub.account_id, sub.region)
    account = ACCOUNTS.get(*where)
    senders = [source, *from_addresses, *_addresses(message, "Sender", "Return-Path")]
    missing = _not_verified(*where, senders)
    if not account.production:
        missing += [
            r
            for r in _not_verified(*where, [r for r in recipients if not is_simulator(r)])
            if r not in missing
        ]
    if missing:
        raise unverified(sub.region, missing)
    identity = verifying_identity(*where, source)
    assert identity is not None

    config_set = (
        sub.configuration_set
        or str(message["X-SES-CONFIGURATION-SET"] or "")
        or _default_configuration_set(sub, identity)
    )
    if config_set and not config_set_exists(*where, config_set):
        raise Rejection("config-set", f"Configuration set <{config_set}> does not exist.")

    bounce_domain = f"{sub.region}.amazonses.com"
    if identity.mail_from_domain:
        if identity.mail_from_status == SUCCESS:
            bounce_domain = identity.mail_from_domain
        elif identity.mail_from_behavior == "REJECT_MESSAGE":
            raise Rejection(
                "mail-from",
                f"The MAIL FROM domain {identity.mail_from_domain} of {identity.name} is not "
                "verified: its MX record was not found.",
            )

    if sub.list_options is not None and not exists(sub.list_options):
        raise Rejection(
            "contact-list", f"List with name: {sub.list_options.contact_list} doesn't exist."
        )

    counted = sum(1 for r in recipients if not is_simulator(r))
    ACCOUNTS.admit(*where, recipients=len(recipients), counted=counted)

    now = clock.now()
    message_id = new_message_id(now)
    tags = {k: list(v) for k, v in sub.tags.items()}
    for part in str(message["X-SES-MESSAGE-TAGS"] or "").split(","):
        if "=" in part:
            key, value = part.split("=", 1)
            tags.setdefault(key.strip(), []).append(value.strip())
    for name in ("Bcc", "X-SES-CONFIGURATION-SET", "X-SES-MESSAGE-TAGS", "Return-Path"):
        del message[name]
    if message["Message-ID"] is None:
        message["Message-ID"] = f"<{message_id}@email.amazonses.com>"
    if message["Date"] is None:
        message["Date"] = formatdate(now)
    message["Feedback-ID"] = f"1.{sub.region}.{uuid.uuid4().hex[:20]}=:AmazonSES"
    headers = [(k, str(v)) for k, v in message.items()]
    data = message.as_bytes(policy=email.policy.SMTP)
    data = _dkim_sign(sub, source, message, data) + data
    data = f"Return-Path: <{message_id}@{bounce_domain}>\r\n".encode() + data

    options = sub.list_options
    unsubscribed = [r for r in recipients if options is not None and not subscribed(options, r)]
    delivered = [r for r in recipients if not is_simulator(r) and r not in unsubscribed]
    if delivered:
        MAILBOX.deliver_raw(data, source, delivered, sub.channel)
    record(
        SentMessage(
            account_id=sub.account_id,
            region=sub.region,
            message_id=message_id,
            timestamp=now,
            source=source,
            identity=identity.name,
            recipients=recipients,
            headers=headers,
            configuration_set=config_set or None,
            tags=tags,
            caller=sub.caller,
            feedback_address=sub.feedback_address or source,
            unsubscribed=unsubscribed,
        )
    )
    return message_id


def _default_configuration_set(sub: Submission, identity: Identity) -> str | None:
    """The identity's default configuration set (an address falls back to its domain's)."""
    if identity.configuration_set or identity.is_domain:
        return identity.configuration_set
    domain = STORE.get(sub.account_id, sub.region, identity.domain)
    return domain.configuration_set if domain is not None else None


def _dkim_sign(sub: Submission, source: str, message: email.message.Message, data: bytes) -> bytes:
    """The DKIM-Signature header SES adds for a domain with Easy DKIM, or nothing.

    ``data`` is ``message`` serialized, so the headers to sign are read off ``message``.
    """
    identity = signing_identity(sub.account_id, sub.region, source)
    if identity is None:
        return b""
    import dkim

    include = [h.encode() for h in SIGNED_HEADERS if h in message]
    return dkim.sign(
        data,
        selector=identity.dkim_tokens[0].encode(),
        domain=identity.name.encode(),
        privkey=identity.private_key(),
        include_headers=include,
        linesep=b"\r\n",
    )
