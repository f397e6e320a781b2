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
from course.backend.ses.contacts import list_options
from course.backend.ses.exceptions import BadRequestException, InvalidParameterValue
from course.backend.ses.send_params import (
    V1_ERRORS,
    V2_ERRORS,
    formatted,
    recipients,
    tags,
    unsubscribe_link,
    v2_template,
)
from course.backend.ses.sending import (
    Rejection,
    Submission,
    merged_data,
    render,
    stored_template,
    submit,
)


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
            tags=tags(p.get("Tags")),
            feedback_address=p.get("ReturnPath") if feedback else None,
        ),
    )


def _send_formatted_v1(
    request: ApiRequest, subject: str, text: str | None, html: str | None
) -> Reply:
    """Send the message SES v1 composes from a formatted (or templated) email's parts."""
    p = request.params
    return _send(
        request,
        formatted(
            request,
            p.get("Source", ""),
            p.get("Destination"),
            (subject, text, html),
            tags=tags(p.get("Tags")),
            feedback_address=p.get("ReturnPath"),
        ),
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


def _v2_parts(
    request: ApiRequest, content: dict[str, Any], link_data: dict[str, str]
) -> tuple[tuple[str, str | None, str | None], list[tuple[str, str]]]:
    """The (subject, text, html) and headers of v2 template or simple content; ``link_data``
    is the unsubscribe link's template data (empty without list management)."""
    if "Template" in content:
        spec = content["Template"]
        data = merged_data(spec.get("TemplateData", "{}"), extra=link_data)
        headers = [(h["Name"], h["Value"]) for h in spec.get("Headers", [])]
        return render(v2_template(request, spec), data), headers
    simple = content.get("Simple") or {}
    body = simple.get("Body", {})
    text = body["Text"].get("Data") if "Text" in body else None
    html = body["Html"].get("Data") if "Html" in body else None
    for name, value in link_data.items():
        placeholder = "{{" + name + "}}"
        text = text.replace(placeholder, value) if text is not None else None
        html = html.replace(placeholder, value) if html is not None else None
    headers = [(h["Name"], h["Value"]) for h in simple.get("Headers", [])]
    return (simple.get("Subject", {}).get("Data", ""), text, html), headers


@before("sesv2", "SendEmail")
def send_email_v2(request: ApiRequest) -> Reply:
    """Send simple, raw or template content (v2); with ``ListManagementOptions``, with the
    unsubscribe link and not to contacts who unsubscribed."""
    p = request.params
    options = list_options(request.account_id, request.call.region, p.get("ListManagementOptions"))
    to, cc, bcc = recipients(p.get("Destination"))
    link_data, link_headers = unsubscribe_link(request, options, to + cc + bcc)
    content = p.get("Content") or {}
    feedback = p.get("FeedbackForwardingEmailAddress")
    try:
        if "Raw" in content:
            submission = Submission(
                request.account_id,
                request.call.region,
                base64.b64decode(content["Raw"].get("Data", "")),
                envelope_from=p.get("FromEmailAddress"),
                recipients=(to + cc + bcc) or None,
                configuration_set=p.get("ConfigurationSetName"),
                tags=tags(p.get("EmailTags")),
                feedback_address=feedback,
                list_options=options,
            )
        else:
            parts, headers = _v2_parts(request, content, link_data)
            submission = formatted(
                request,
                p.get("FromEmailAddress", ""),
                p.get("Destination"),
                parts,
                headers=headers + link_headers,
                tags=tags(p.get("EmailTags")),
                feedback_address=feedback,
                list_options=options,
            )
    except Rejection as exc:
        raise _refused(request, exc) from None
    except (binascii.Error, ValueError):
        raise BadRequestException("Content.Raw.Data is not base64.") from None
    return _send(request, submission)
