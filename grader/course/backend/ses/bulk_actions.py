"""SES's bulk sends, v1 ``SendBulkTemplatedEmail`` and v2 ``SendBulkEmail``, through the one
sending path (``course.backend.ses.sending``), one message per destination.

moto answers v1 bulk sends without any of SES's rules (any recipient in the sandbox, no quota,
no mailbox, no events) and has no v2 ``SendBulkEmail`` (HTTP 404). Here each destination
(``Destinations`` / ``BulkEmailEntries``, at most 50) becomes one ``Submission``: the template
filled with the entry's replacement data over the call's default data, the entry's tags over
the default tags (SendBulkEmail takes no ``ListManagementOptions``: that is SendEmail's). What
concerns the whole call is checked first and refuses it with the API's
error: the sender must be verified (``MessageRejected``), the template must exist (v1
``TemplateDoesNotExist``, v2 ``NotFoundException``), the entries must be 1 to 50. Then each
entry's outcome is its own status (v1 ``Status``: ``Success``, ``MessageRejected``, ...;
v2 ``BulkEmailEntryResults``: ``SUCCESS``, ``MESSAGE_REJECTED``, ...), with an ``Error`` when it
failed and a ``MessageId`` when it was sent: an unverified recipient in the sandbox, the sending
rate or daily quota, paused sending each fail that entry only
(https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_BulkEmailEntryResult.html,
https://docs.aws.amazon.com/ses/latest/APIReference/API_BulkEmailDestinationStatus.html).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course.backend.core.errors import ServiceError
from course.backend.core.registry import ApiRequest, Reply, before, success
from course.backend.ses.account import SendingRefused
from course.backend.ses.exceptions import (
    BadRequestException,
    MessageRejected,
    NotFoundException,
    TemplateDoesNotExist,
)
from course.backend.ses.send_params import (
    V1_ERRORS,
    V2_ERRORS,
    formatted,
    tags,
    v2_template,
)
from course.backend.ses.sending import (
    MAX_RECIPIENTS,
    Rejection,
    Submission,
    check_sender,
    merged_data,
    render,
    stored_template,
    submit,
)

#: Each API's per-destination status, by the kind of refusal (botocore's ``BulkEmailStatus``).
V1_STATUS = {
    "unverified": "MessageRejected",
    "invalid": "InvalidParameterValue",
    "config-set": "ConfigurationSetDoesNotExist",
    "mail-from": "MailFromDomainNotVerified",
    "template": "TemplateDoesNotExist",
    "contact-list": "InvalidParameterValue",
    "paused": "AccountSendingPaused",
    "daily": "AccountDailyQuotaExceeded",
    "rate": "AccountThrottled",
}
V2_STATUS = {
    "unverified": "MESSAGE_REJECTED",
    "invalid": "INVALID_PARAMETER",
    "config-set": "CONFIGURATION_SET_NOT_FOUND",
    "mail-from": "MAIL_FROM_DOMAIN_NOT_VERIFIED",
    "template": "TEMPLATE_NOT_FOUND",
    "contact-list": "INVALID_PARAMETER",
    "paused": "ACCOUNT_SENDING_PAUSED",
    "daily": "ACCOUNT_DAILY_QUOTA_EXCEEDED",
    "rate": "ACCOUNT_THROTTLED",
}


def _check_call(
    request: ApiRequest, source: str, entries: list[Any], errors: dict[str, type[ServiceError]]
) -> None:
    """Refuse the whole call: no entries or more than 50, or an unverified sender."""
    if not entries or len(entries) > MAX_RECIPIENTS:
        raise errors["invalid"](
            f"The number of destinations must be between 1 and {MAX_RECIPIENTS}: "
            f"{len(entries)} were given."
        )
    try:
        check_sender(request.account_id, request.call.region, source)
    except Rejection as exc:
        raise errors[exc.kind](exc.message) from None


def _outcome(
    make: Callable[[], Submission], statuses: dict[str, str], success_status: str
) -> dict[str, str]:
    """One destination's status: sent (with its MessageId) or refused (with the Error)."""
    try:
        message_id = submit(make())
    except (Rejection, SendingRefused) as exc:
        return {"Status": statuses[exc.kind], "Error": exc.message}
    return {"Status": success_status, "MessageId": message_id}


# ------------------------------------------------------------------ SES v1


@before("ses", "SendBulkTemplatedEmail")
def send_bulk_templated_email(request: ApiRequest) -> Reply:
    """Send a stored template to each destination, with its ReplacementTemplateData over the
    call's DefaultTemplateData; one status per destination."""
    p = request.params
    source = p.get("Source", "")
    destinations = list(p.get("Destinations") or [])
    _check_call(request, source, destinations, {**V1_ERRORS, "unverified": MessageRejected})
    try:
        template = stored_template(request.account_id, request.call.region, p.get("Template", ""))
    except Rejection as exc:
        raise TemplateDoesNotExist(exc.message) from None

    def message(entry: dict[str, Any]) -> Submission:
        data = merged_data(p.get("DefaultTemplateData"), entry.get("ReplacementTemplateData"))
        return formatted(
            request,
            source,
            entry.get("Destination"),
            render(template, data),
            tags=tags(p.get("DefaultTags"), entry.get("ReplacementTags")),
            feedback_address=p.get("ReturnPath"),
        )

    statuses = [
        _outcome(lambda e=entry: message(e), V1_STATUS, "Success") for entry in destinations
    ]
    return success(request.call, {"Status": statuses})


# ------------------------------------------------------------------ SES v2


@before("sesv2", "SendBulkEmail")
def send_bulk_email(request: ApiRequest) -> Reply:
    """Send the default template content to each entry, with its ReplacementTemplateData over
    the template's TemplateData; one result per entry."""
    p = request.params
    source = p.get("FromEmailAddress", "")
    entries = list(p.get("BulkEmailEntries") or [])
    _check_call(request, source, entries, V2_ERRORS)
    spec = (p.get("DefaultContent") or {}).get("Template")
    if not spec:
        raise BadRequestException("DefaultContent.Template is required.")
    try:
        template = v2_template(request, spec)
    except Rejection as exc:
        raise NotFoundException(exc.message) from None

    def message(entry: dict[str, Any]) -> Submission:
        replacement = (entry.get("ReplacementEmailContent") or {}).get("ReplacementTemplate") or {}
        data = merged_data(spec.get("TemplateData"), replacement.get("ReplacementTemplateData"))
        return formatted(
            request,
            source,
            entry.get("Destination"),
            render(template, data),
            headers=[
                (h["Name"], h["Value"])
                for h in [*spec.get("Headers", []), *entry.get("ReplacementHeaders", [])]
            ],
            tags=tags(p.get("DefaultEmailTags"), entry.get("ReplacementTags")),
            feedback_address=p.get("FeedbackForwardingEmailAddress"),
        )

    results = [_outcome(lambda e=entry: message(e), V2_STATUS, "SUCCESS") for entry in entries]
    return success(request.call, {"BulkEmailEntryResults": results})
