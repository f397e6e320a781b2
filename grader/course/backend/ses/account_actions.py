"""SES's account calls, v1 and v2, answered from the account state (``ses.account``).

moto has no GetAccount, PutAccountDetails or PutAccountSendingAttributes (HTTP 404), and its
GetSendQuota and GetSendStatistics know nothing of what the kit sent. Here, from
``course.backend.ses.account`` and ``course.backend.ses.events``'s statistics:

- v1 ``GetSendQuota``, ``GetAccountSendingEnabled``, ``UpdateAccountSendingEnabled`` and
  ``GetSendStatistics`` (data points of the last two weeks, one per 15-minute interval with
  activity: https://docs.aws.amazon.com/ses/latest/APIReference/API_GetSendStatistics.html);
- v2 ``GetAccount``, ``PutAccountSendingAttributes`` and ``PutAccountDetails``, which opens the
  production-access review (a second request while one is pending is a ``ConflictException``).
  ``PutAccountDetails`` requires ``MailType`` and ``WebsiteURL`` only; ``UseCaseDescription``
  is "optional and deprecated" (the SESv2 API model), so a request without it is recorded and
  reviewed, and the reviewer asks for the answers it lacks
  (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutAccountDetails.html).
"""

from __future__ import annotations

from typing import Any

from course.backend.core import clock
from course.backend.core.registry import ApiRequest, Reply, before, success
from course.backend.ses.account import ACCOUNTS, open_review, quota
from course.backend.ses.events import STATISTICS
from course.backend.ses.exceptions import BadRequestException, ConflictException
from course.rules.ses_review import CONTACT_LANGUAGES, MAIL_TYPES

# ------------------------------------------------------------------ SES v1


@before("ses", "GetSendQuota")
def get_send_quota(request: ApiRequest) -> Reply:
    """The account's quota and what it sent in the last 24 hours."""
    return success(request.call, quota(ACCOUNTS.get(request.account_id, request.call.region)))


@before("ses", "GetAccountSendingEnabled")
def get_account_sending_enabled(request: ApiRequest) -> Reply:
    """Whether the account may send (UpdateAccountSendingEnabled pauses it)."""
    account = ACCOUNTS.get(request.account_id, request.call.region)
    return success(request.call, {"Enabled": account.sending_enabled})


@before("ses", "UpdateAccountSendingEnabled")
@before("sesv2", "PutAccountSendingAttributes")
def set_account_sending_enabled(request: ApiRequest) -> Reply:
    """Pause or resume the account's sending (v1 ``Enabled``, v2 ``SendingEnabled``)."""
    name = "SendingEnabled" if request.call.service == "sesv2" else "Enabled"
    account = ACCOUNTS.get(request.account_id, request.call.region)
    account.sending_enabled = bool(request.params.get(name, False))
    return success(request.call, {})


@before("ses", "GetSendStatistics")
def get_send_statistics(request: ApiRequest) -> Reply:
    """Data points of the last two weeks, one per 15-minute interval with activity."""
    points = STATISTICS.data_points(request.account_id, request.call.region, clock.now())
    return success(request.call, {"SendDataPoints": points})


# ------------------------------------------------------------------ SES v2


@before("sesv2", "GetAccount")
def get_account(request: ApiRequest) -> Reply:
    """The account: production access or the sandbox, quota, sending, details and review."""
    account = ACCOUNTS.get(request.account_id, request.call.region)
    output: dict[str, Any] = {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": "HEALTHY",
        "ProductionAccessEnabled": account.production,
        "SendQuota": quota(account),
        "SendingEnabled": account.sending_enabled,
    }
    if account.details is not None:
        details = dict(account.details)
        if account.review_status:
            details["ReviewDetails"] = {"Status": account.review_status, "CaseId": account.case_id}
        output["Details"] = details
    return success(request.call, output)


DETAIL_FIELDS = (
    "MailType",
    "WebsiteURL",
    "ContactLanguage",
    "UseCaseDescription",
    "AdditionalContactEmailAddresses",
)


@before("sesv2", "PutAccountDetails")
def put_account_details(request: ApiRequest) -> Reply:
    """Record the request; with ProductionAccessEnabled, open a review (PENDING)."""
    params = request.params
    if params.get("MailType") not in MAIL_TYPES:
        raise BadRequestException(f"MailType must be one of {', '.join(MAIL_TYPES)}.")
    if not params.get("WebsiteURL"):
        raise BadRequestException("WebsiteURL is required.")
    if params.get("ContactLanguage", "EN") not in CONTACT_LANGUAGES:
        raise BadRequestException("ContactLanguage must be EN or JA.")
    if len(params.get("AdditionalContactEmailAddresses") or []) > 4:
        raise BadRequestException("You can give at most 4 additional contacts.")
    with ACCOUNTS.lock:
        account = ACCOUNTS.get(request.account_id, request.call.region)
        if account.review_status == "PENDING":
            raise ConflictException(
                f"A review of your account details is already in progress (case "
                f"{account.case_id}); wait for its outcome before submitting again."
            )
        account.details = {k: params[k] for k in DETAIL_FIELDS if k in params}
        if params.get("ProductionAccessEnabled") is True and not account.production:
            open_review(account, params)
    return success(request.call, {})
