"""SES's send calls, v1 and v2, answered through the one sending path (``ses.sending``).

v1 SendEmail, SendRawEmail and SendTemplatedEmail and v2 SendEmail (simple, raw or template
content) each become a ``course.backend.ses.sending.Submission``.

moto accepts any recipient from any known sender and delivers nowhere. Here every send takes
the path AWS's does (sandbox, verified senders, quotas, MAIL FROM, DKIM, mailbox, events), and
failures come back with the error code of the API that was called: v1 ``MessageRejected``,
``Throttling`` ("Maximum sending rate exceeded." / "Daily message quota exceeded.",
https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html),
``ConfigurationSetDoesNotExist``, ``MailFromDomainNotVerifiedException``,
``AccountSendingPausedException``; v2 the same with ``TooManyRequestsException`` (HTTP 429),
``NotFoundException`` and ``SendingPausedException``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl

from course.backend.core.errors import ServiceError
from course.backend.core.registry import ApiRequest, Reply, before, success
from course.backend.ses.account import SendingRefused
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
from course.backend.ses.sending import (
    Rejection,
    Submission,
    compose,
    render,
    stored_template,
    submit,
)

#: The error each API answers a refused send with, by the refusal's kind.
V1_ERRORS: dict[str, type[ServiceError]] = {
    "unverified": MessageRejected,
    "invalid": InvalidParameterValue,
    "config-set": ConfigurationSetDoesNotExist,
    "mail-from": MailFromDomainNotVerifiedException,
    "template": TemplateDoesNotExist,
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
    "paused": SendingPausedException,
    "daily": TooManyRequestsException,
    "rate": TooManyRequestsException,
}


def _refused(request: ApiRequest, exc: Rejection | SendingRefused) -> ServiceError:
    """SES's error for a refused send, in the code of the API that was called."""
    errors = V2_ERRORS if request.call.service == "sesv2" else V1_ERRORS
    return errors[exc.kind](exc.message)


def _send(request: ApiRequest, submission: Submission) -> Reply:
    try:
        message_id = submit(submission)
    except (Rejection, SendingRefused) as exc:
        raise _refused(request, exc) from None
    return success(request.call, {"MessageId": message_id})


def _send_v1(
    request: ApiRequest, raw: bytes, recipients: list[str] | None, *, feedback: bool = True
) -> Reply:
    """Send an SES v1 message: the envelope comes from the call's Source, set and tags."""
    p = request.params
    return _send(
        request,
        Submission(
            request.account_id,
            request.call.region,
            raw,
            envelope_from=p.get("Source"),
            recipients=recipients,
            configuration_set=p.get("ConfigurationSetName"),
            tags=_tags(p.get("Tags")),
            feedback_address=p.get("ReturnPath") if feedback else None,
        ),
    )


def _send_formatted_v1(
    request: ApiRequest, subject: str, text: str | None, html: str | None
) -> Reply:
    """Send the message SES v1 composes from a formatted (or templated) email's parts."""
    p = request.params
    to, cc, bcc = _recipients(p.get("Destination"))
    raw = compose(
        source=p.get("Source", ""),
        to=to,
        cc=cc,
        reply_to=p.get("ReplyToAddresses", []),
        subject=subject,
        text=text,
        html=html,
    )
    return _send_v1(request, raw, to + cc + bcc)


def _tags(pairs: list[dict[str, str]] | None) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for pair in pairs or []:
        tags.setdefault(pair.get("Name", ""), []).append(pair.get("Value", ""))
    return tags


def _recipients(destination: dict[str, Any] | None) -> tuple[list[str], list[str], list[str]]:
    destination = destination or {}
    return (
        list(destination.get("ToAddresses", [])),
        list(destination.get("CcAddresses", [])),
        list(destination.get("BccAddresses", [])),
    )


def _stored_template(request: ApiRequest, name: str) -> dict[str, str]:
    return stored_template(request.account_id, request.call.region, name)


# ------------------------------------------------------------------ SES v1


@before("ses", "SendEmail")
def send_email_v1(request: ApiRequest) -> Reply:
    """Send the message SES composes from the call's subject and text or HTML body."""
    message = request.params.get("Message", {})
    body = message.get("Body", {})
    return _send_formatted_v1(
        request,
        message.get("Subject", {}).get("Data", ""),
        body.get("Text", {}).get("Data") if "Text" in body else None,
        body.get("Html", {}).get("Data") if "Html" in body else None,
    )


@before("ses", "SendRawEmail")
def send_raw_email_v1(request: ApiRequest) -> Reply:
    """Send a raw MIME message as it is (envelope from Source and Destinations, or its headers)."""
    p = request.params
    form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        raw = base64.b64decode(form.get("RawMessage.Data", ""), validate=False)
    except (binascii.Error, ValueError):
        raise InvalidParameterValue("RawMessage.Data is not base64.") from None
    return _send_v1(request, raw, p.get("Destinations") or None, feedback=False)


@before("ses", "SendTemplatedEmail")
def send_templated_email_v1(request: ApiRequest) -> Reply:
    """Send a stored template filled with the call's TemplateData."""
    p = request.params
    try:
        subject, text, html = render(
            _stored_template(request, p.get("Template", "")), p.get("TemplateData", "{}")
        )
    except Rejection as exc:
        raise _refused(request, exc) from None
    return _send_formatted_v1(request, subject, text, html)


# ------------------------------------------------------------------ SES v2


def _v2_content(request: ApiRequest) -> tuple[bytes, bool]:
    """The message bytes of a v2 SendEmail, and whether they came raw."""
    p = request.params
    content = p.get("Content") or {}
    to, cc, _ = _recipients(p.get("Destination"))
    if "Raw" in content:
        return base64.b64decode(content["Raw"].get("Data", "")), True
    if "Template" in content:
        spec = content["Template"]
        if "TemplateContent" in spec:
            inline = spec["TemplateContent"]
            template = {
                "subject_part": inline.get("Subject", ""),
                "text_part": inline.get("Text", ""),
                "html_part": inline.get("Html", ""),
            }
        else:
            name = spec.get("TemplateName") or str(spec.get("TemplateArn", "")).rsplit("/", 1)[-1]
            template = _stored_template(request, name)
        subject, text, html = render(template, spec.get("TemplateData", "{}"))
        headers = [(h["Name"], h["Value"]) for h in spec.get("Headers", [])]
    else:
        simple = content.get("Simple") or {}
        body = simple.get("Body", {})
        subject = simple.get("Subject", {}).get("Data", "")
        text = body["Text"].get("Data") if "Text" in body else None
        html = body["Html"].get("Data") if "Html" in body else None
        headers = [(h["Name"], h["Value"]) for h in simple.get("Headers", [])]
    raw = compose(
        source=p.get("FromEmailAddress", ""),
        to=to,
        cc=cc,
        reply_to=p.get("ReplyToAddresses", []),
        subject=subject,
        text=text,
        html=html,
        headers=headers,
    )
    return raw, False


@before("sesv2", "SendEmail")
def send_email_v2(request: ApiRequest) -> Reply:
    """Send simple, raw or template content (v2)."""
    p = request.params
    try:
        raw, was_raw = _v2_content(request)
    except Rejection as exc:
        raise _refused(request, exc) from None
    except (binascii.Error, ValueError):
        raise BadRequestException("Content.Raw.Data is not base64.") from None
    to, cc, bcc = _recipients(p.get("Destination"))
    return _send(
        request,
        Submission(
            request.account_id,
            request.call.region,
            raw,
            envelope_from=p.get("FromEmailAddress"),
            recipients=(to + cc + bcc) or (None if was_raw else []),
            configuration_set=p.get("ConfigurationSetName"),
            tags=_tags(p.get("EmailTags")),
            feedback_address=p.get("FeedbackForwardingEmailAddress"),
        ),
    )
