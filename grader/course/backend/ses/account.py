"""The SES account of each account and region: sandbox or production, quotas, the access review.

moto has no GetAccount or PutAccountDetails (HTTP 404) and enforces no quota. AWS
(https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html):

- every new account is in the sandbox, separately in each region: 200 messages per 24 hours,
  1 message per second, recipients only verified identities or the mailbox simulator;
- quotas count recipients, not messages (https://docs.aws.amazon.com/ses/latest/dg/quotas.html);
  mail to the mailbox simulator counts against the sending rate but not the daily quota
  (https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html#send-email-simulator);
- ``PutAccountDetails`` with ``ProductionAccessEnabled`` asks for production access; SES reviews
  it (``GetAccount`` → ``Details.ReviewDetails.Status`` PENDING, then GRANTED or DENIED) and
  answers the contacts by email; a second request while one is pending is a ConflictException.
  AWS has a fourth status, FAILED: "An internal error occurred and we didn't receive your
  appeal. You can submit your appeal again." (ReviewDetails, SESv2 API reference); the kit's
  review never fails, and a new request is accepted after any status but PENDING.

SES v1 (GetSendQuota, GetAccountSendingEnabled) and v2 (GetAccount) read this one state
(``course.backend.ses.account_actions`` answers them); every send is admitted here
(``AccountStore.admit``). The review takes ``REVIEW_SECONDS`` on the backend's clock (AWS: about
a day) and is decided by ``course.rules.ses_review``.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from course.backend.core import clock
from course.backend.core.registry import on_reset
from course.backend.mail.mailbox import MAILBOX
from course.rules.ses_review import Review, review

SANDBOX_QUOTA, SANDBOX_RATE = 200.0, 1.0
#: AWS sets a production quota per use case; 50,000 a day at 14 a second is a common start.
PRODUCTION_QUOTA, PRODUCTION_RATE = 50_000.0, 14.0
REVIEW_SECONDS = 3.0
DAY = 24 * 3600
#: Where SES writes to "the email address associated with your AWS account" on the local backend.
ACCOUNT_EMAIL = "account-owner@example.com"
REVIEW_SENDER = "Amazon Web Services <no-reply-aws@amazon.com>"


class SendingRefused(Exception):
    """A send the account may not make now: ``kind`` is "paused", "daily" or "rate"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class Account:
    """One account's SES standing in one region."""

    production: bool = False
    max24: float = SANDBOX_QUOTA
    max_rate: float = SANDBOX_RATE
    sending_enabled: bool = True
    details: dict[str, Any] | None = None
    review_status: str | None = None
    case_id: str | None = None
    review_submitted: float = 0.0
    review_outcome: Review | None = None
    sends: list[tuple[float, int]] = field(default_factory=list)  # (time, recipients)
    rate_free_at: float = 0.0  # when the sending-rate budget is whole again

    def sent_last_24_hours(self, now: float) -> int:
        """Recipients counted against the daily quota in the 24 hours before ``now``."""
        self.sends = [(t, n) for t, n in self.sends if now - t < DAY]
        return sum(n for _, n in self.sends)


class AccountStore:
    """Thread-safe accounts by (account id, region)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._accounts: dict[tuple[str, str], Account] = {}

    def clear(self) -> None:
        """Forget every account (backend reset)."""
        with self.lock:
            self._accounts.clear()

    def get(self, account_id: str, region: str) -> Account:
        """The account, with a review whose time has come decided first."""
        with self.lock:
            account = self._accounts.setdefault((account_id, region), Account())
            _settle(account, region)
            return account

    def admit(self, account_id: str, region: str, recipients: int, counted: int) -> None:
        """Take a message to ``recipients`` addresses (``counted`` of them off the simulator).

        Raises ``SendingRefused`` when sending is paused, the daily quota is used up or the
        sending rate is exceeded. As on AWS, a message is let through while any quota is left,
        even when its recipients take the account over (the rest of the budget becomes a debt).
        """
        now = clock.now()
        with self.lock:
            account = self.get(account_id, region)
            if not account.sending_enabled:
                raise SendingRefused(
                    "paused", "Email sending is disabled for your entire Amazon SES account."
                )
            if counted and account.sent_last_24_hours(now) >= account.max24:
                raise SendingRefused("daily", "Daily message quota exceeded.")
            backlog = account.rate_free_at - now
            if backlog > 1.0 - 1.0 / account.max_rate + 1e-9:
                raise SendingRefused("rate", "Maximum sending rate exceeded.")
            account.rate_free_at = max(account.rate_free_at, now) + recipients / account.max_rate
            if counted:
                account.sends.append((now, counted))


ACCOUNTS = AccountStore()
on_reset(ACCOUNTS.clear)


def _settle(account: Account, region: str) -> None:
    """Decide a pending review whose time has come, and write to the contacts."""
    if account.review_status != "PENDING" or account.review_outcome is None:
        return
    if clock.now() - account.review_submitted < REVIEW_SECONDS:
        return
    outcome = account.review_outcome
    account.review_status = "GRANTED" if outcome.granted else "DENIED"
    if outcome.granted:
        account.production = True
        account.max24, account.max_rate = PRODUCTION_QUOTA, PRODUCTION_RATE
    _write_to_contacts(account, region, outcome)


def _write_to_contacts(account: Account, region: str, outcome: Review) -> None:
    details = account.details or {}
    to = [ACCOUNT_EMAIL, *details.get("AdditionalContactEmailAddresses", [])]
    case = account.case_id
    if outcome.granted:
        subject = f"Amazon SES production access granted (case {case}, {region})"
        text = (
            f"Hello,\n\nThank you for submitting your request to increase your sending limits. "
            f"Your new sending quota is {PRODUCTION_QUOTA:,.0f} messages per day. Your maximum "
            f"send rate is now {PRODUCTION_RATE:.0f} messages per second. We have also moved "
            f"your account out of the Amazon SES sandbox in region {region}: you can now send "
            "to any recipient, and you still have to send from verified identities.\n\n"
            "Keep your bounce and complaint rates low: monitor them and act on every bounce "
            "and complaint.\n\nSincerely,\nAmazon Web Services"
        )
    else:
        reasons = "\n".join(f"- {r}" for r in outcome.reasons)
        subject = f"Amazon SES production access denied (case {case}, {region})"
        text = (
            "Hello,\n\nThank you for submitting your request to move out of the Amazon SES "
            f"sandbox in region {region}. We reviewed it and cannot grant it at this time, "
            f"because:\n\n{reasons}\n\nYou can submit a new request with these details "
            "(PutAccountDetails, or the SES console's Account dashboard).\n\n"
            "Sincerely,\nAmazon Web Services"
        )
    MAILBOX.deliver(source="ses", sender=REVIEW_SENDER, recipients=to, subject=subject, text=text)


def quota(account: Account) -> dict[str, float]:
    """The account's sending quota as SES reports it (GetSendQuota, GetAccount's SendQuota)."""
    return {
        "Max24HourSend": account.max24,
        "MaxSendRate": account.max_rate,
        "SentLast24Hours": float(account.sent_last_24_hours(clock.now())),
    }


def open_review(account: Account, details: dict[str, Any]) -> None:
    """Open a production-access review of ``details`` (PutAccountDetails' parameters): PENDING
    now, decided once ``REVIEW_SECONDS`` have passed. Call it holding ``ACCOUNTS.lock``."""
    account.case_id = str(secrets.randbelow(9 * 10**9) + 10**9)
    account.review_status = "PENDING"
    account.review_submitted = clock.now()
    account.review_outcome = review(details)
