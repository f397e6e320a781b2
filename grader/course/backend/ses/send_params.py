"""What the parameters of SES's send calls mean, for the single and the bulk sends alike:
recipients, message tags, a v2 template, the unsubscribe link of a list-managed send, and the
error each API answers a refused send with (by the ``Rejection`` or ``SendingRefused`` kind)."""

from __future__ import annotations

from typing import Any

from course.backend.core.errors import ServiceError
from course.backend.core.registry import ApiRequest, base_url
from course.backend.ses.contacts import LINKS, URL_VARIABLE, ListOptions
from course.backend.ses.exceptions import (
    AccountSendingPausedException,
    BadRequestException,
    ConfigurationSetDoesNotExist,
    InvalidParameterValue,
    MailFromDomainNotVerifiedException,
    MessageRejected,
    NotFoundException,
    SendingPausedException,
    TemplateDoesNotExist,
    Throttling,
    TooManyRequestsException,
)
from course.backend.ses.sending import Submission, compose, stored_template

#: The error each API answers a refused send with, by the refusal's kind.
V1_ERRORS: dict[str, type[ServiceError]] = {
    "unverified": MessageRejected,
    "invalid": InvalidParameterValue,
    "config-set": ConfigurationSetDoesNotExist,
    "mail-from": MailFromDomainNotVerifiedException,
    "template": TemplateDoesNotExist,
    "contact-list": InvalidParameterValue,
    "paused": AccountSendingPausedException,
    "daily": Throttling,
    "rate": Throttling,
}
V2_ERRORS: dict[str, type[ServiceError]] = {
    "unverified": MessageRejected,
    "invalid": BadRequestException,
    "config-set": NotFoundException,
    "mail-from": MailFromDomainNotVerifiedException,
    "template": NotFoundException,
    "contact-list": NotFoundException,
    "paused": SendingPausedException,
    "daily": TooManyRequestsException,
    "rate": TooManyRequestsException,
}


def tags(*lists: list[dict[str, str]] | None) -> dict[str, list[str]]:
    """Message tags by name from ``Name``/``Value`` pairs; a name in a later list (a bulk
    entry's ReplacementTags) replaces that name's values of the lists before it."""
    found: dict[str, list[str]] = {}
    for pairs in lists:
        for name in {pair.get("Name", "") for pair in pairs or []}:
            found.pop(name, None)
        for pair in pairs or []:
            found.setdefault(pair.get("Name", ""), []).append(pair.get("Value", ""))
    return found


def formatted(
    request: ApiRequest,
    source: str,
    destination: dict[str, Any] | None,
    parts: tuple[str, str | None, str | None],
    *,
    headers: list[tuple[str, str]] | None = None,
    tags: dict[str, list[str]] | None = None,
    feedback_address: str | None = None,
    list_options: ListOptions | None = None,
) -> Submission:
    """The message SES composes from a formatted (or templated) email's (subject, text, html)
    ``parts`` for one ``Destination``, with the call's ReplyToAddresses and configuration set."""
    p = request.params
    to, cc, bcc = recipients(destination)
    subject, text, html = parts
    raw = compose(
        source=source,
        to=to,
        cc=cc,
        reply_to=p.get("ReplyToAddresses", []),
        subject=subject,
        text=text,
        html=html,
        headers=headers,
    )
    return Submission(
        request.account_id,
        request.call.region,
        raw,
        envelope_from=source,
        recipients=to + cc + bcc,
        configuration_set=p.get("ConfigurationSetName"),
        tags=tags or {},
        feedback_address=feedback_address,
        list_options=list_options,
    )


def recipients(destination: dict[str, Any] | None) -> tuple[list[str], list[str], list[str]]:
    """A ``Destination``'s To, Cc and Bcc addresses."""
    destination = destination or {}
    return (
        list(destination.get("ToAddresses", [])),
        list(destination.get("CcAddresses", [])),
        list(destination.get("BccAddresses", [])),
    )


def unsubscribe_link(
    request: ApiRequest, options: ListOptions | None, recipients: list[str]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """For a list-managed send: the template data (``amazonSESUnsubscribeUrl``) and the
    ``List-Unsubscribe`` headers of the link that unsubscribes the first recipient; nothing
    without ``ListManagementOptions`` or recipients."""
    if options is None or not recipients:
        return {}, []
    url = LINKS.url(base_url(request.environ), options, recipients[0])
    headers = [
        ("List-Unsubscribe", f"<{url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]
    return {URL_VARIABLE: url}, headers


def v2_template(request: ApiRequest, spec: dict[str, Any]) -> dict[str, Any]:
    """The template a v2 ``Template`` content names (by name or ARN) or carries inline."""
    if "TemplateContent" in spec:
        inline = spec["TemplateContent"]
        return {
            "subject_part": inline.get("Subject", ""),
            "text_part": inline.get("Text", ""),
            "html_part": inline.get("Html", ""),
        }
    name = spec.get("TemplateName") or str(spec.get("TemplateArn", "")).rsplit("/", 1)[-1]
    return stored_template(request.account_id, request.call.region, name)
