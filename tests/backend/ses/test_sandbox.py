"""SES sandbox and production access, as AWS documents them (moto enforces none of it)."""

from __future__ import annotations

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from course.backend.process import Backend
from course.rules.ses_review import QUESTIONS, review

from tests import conftest
from tests.backend.ses.helpers import (
    COMPLETE_USE_CASE,
    grant_production,
    mails,
    make_client,
    request_production,
    simple,
    verified_address,
    verified_domain,
)

SENDER = "no-reply@example.com"


def _send(backend: Backend, to: list[str], source: str = SENDER, **extra: object) -> str:
    sesv2 = make_client(backend, "sesv2")
    return sesv2.send_email(
        FromEmailAddress=source, Destination={"ToAddresses": to}, Content=simple(), **extra
    )["MessageId"]


def _code(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_a_new_account_is_in_the_sandbox_in_both_apis(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html: "We place all
    new accounts in the Amazon SES sandbox. ... You can send a maximum of 200 messages per
    24-hour period. You can send a maximum of 1 message per second." GetSendQuota (v1) and
    GetAccount (v2) read the same quota; moto has no GetAccount (HTTP 404)."""
    ses, sesv2 = make_client(backend, "ses"), make_client(backend, "sesv2")
    quota = ses.get_send_quota()
    assert (quota["Max24HourSend"], quota["MaxSendRate"], quota["SentLast24Hours"]) == (200, 1, 0)
    assert ses.get_account_sending_enabled()["Enabled"] is True
    account = sesv2.get_account()
    assert account["ProductionAccessEnabled"] is False
    assert account["SendingEnabled"] is True
    assert account["SendQuota"] == {"Max24HourSend": 200, "MaxSendRate": 1, "SentLast24Hours": 0}
    assert "Details" not in account


def test_sandbox_recipients_must_be_verified_or_the_simulator(backend: Backend) -> None:
    """request-production-access.html: in the sandbox "You can only send mail to verified email
    addresses and domains, or to the Amazon SES mailbox simulator." The error is MessageRejected
    "Email address is not verified. The following identities failed the check in region ..."
    (https://repost.aws/knowledge-center/ses-554-400-message-rejected-error)."""
    verified_domain(backend)
    with pytest.raises(ClientError) as raised:
        _send(backend, ["stranger@example.org"])
    assert _code(raised) == (
        "MessageRejected",
        "Email address is not verified. The following identities failed the check in region "
        "US-EAST-1: stranger@example.org",
    )
    backend.advance_clock(1)
    _send(backend, ["success@simulator.amazonses.com"])
    backend.advance_clock(1)
    verified_address(backend, "learner@example.net")
    _send(backend, ["learner@example.net"])
    assert [m["subject"] for m in mails(backend, "learner@example.net") if m["source"] == "ses"]
    # the v1 API applies the same rule
    backend.advance_clock(1)
    with pytest.raises(ClientError) as raised:
        make_client(backend, "ses").send_email(
            Source=SENDER,
            Destination={"ToAddresses": ["stranger@example.org"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
        )
    assert _code(raised)[0] == "MessageRejected"
    assert not mails(backend, "stranger@example.org")


def test_senders_must_be_verified_in_production_too(backend: Backend) -> None:
    """request-production-access.html: "you still have to verify all identities that you use as
    "From", "Source", "Sender", or "Return-Path" addresses." moto sends from any address of a
    known domain, verified or not."""
    make_client(backend, "sesv2").create_email_identity(EmailIdentity="example.com")  # no DNS
    grant_production(backend)
    with pytest.raises(ClientError) as raised:
        _send(backend, ["anyone@example.org"])
    assert _code(raised) == (
        "MessageRejected",
        "Email address is not verified. The following identities failed the check in region "
        f"US-EAST-1: {SENDER}",
    )


def test_one_message_per_second_in_the_sandbox(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html: past the
    sending rate "the API produces a ThrottlingException error. The error message includes ...
    Maximum sending rate exceeded". v1, https://aws.amazon.com/blogs/ses/how-to-handle-a-throttling-maximum-sending-rate-exceeded-error:
    "With the Amazon SES HTTP Query interface the error will be received as a "Throttling" error
    response with a "Maximum sending rate exceeded." message" (HTTP 400, Sender). v2,
    https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html#API_SendEmail_Errors:
    "TooManyRequestsException: Too many requests have been made to the operation. HTTP Status
    Code: 429". A message to ten recipients uses ten seconds of a one-per-second rate (quotas
    count recipients), which keeps this test clear of real time."""
    verified_domain(backend)
    _send(backend, [f"success+{i}@simulator.amazonses.com" for i in range(10)])
    with pytest.raises(ClientError) as raised:
        _send(backend, ["success@simulator.amazonses.com"])
    assert _code(raised) == ("TooManyRequestsException", "Maximum sending rate exceeded.")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    with pytest.raises(ClientError) as raised:
        make_client(backend, "ses").send_email(
            Source=SENDER,
            Destination={"ToAddresses": ["success@simulator.amazonses.com"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
        )
    assert _code(raised) == ("Throttling", "Maximum sending rate exceeded.")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert raised.value.response["Error"]["Type"] == "Sender"
    backend.advance_clock(10)
    _send(backend, ["success@simulator.amazonses.com"])


def test_quotas_count_recipients_not_messages(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/quotas.html: "Quotas are based on the number of
    recipients, rather than on the number of messages." A message to ten recipients uses ten of
    the daily quota and ten seconds of a one-per-second rate."""
    verified_domain(backend)
    verified_domain(backend, "example.net")
    _send(backend, [f"user{i}@example.net" for i in range(10)])
    assert make_client(backend, "ses").get_send_quota()["SentLast24Hours"] == 10
    backend.advance_clock(7)
    with pytest.raises(ClientError) as raised:
        _send(backend, ["user1@example.net"])
    assert _code(raised)[1] == "Maximum sending rate exceeded."
    backend.advance_clock(3)
    _send(backend, ["user1@example.net"])


def test_two_hundred_a_day_then_throttled_and_the_simulator_does_not_count(
    backend: Backend,
) -> None:
    """quotas.html: "If your account is in the sandbox, you can send up to 200 emails per 24-hour
    period"; past it "Daily message quota exceeded" (manage-sending-quotas-errors.html). Mail to
    the simulator is "limited by your account's maximum sending rate, but [doesn't] affect your
    daily sending quota" (https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html)."""
    verified_domain(backend)
    verified_domain(backend, "example.net")
    batch = [f"user{i}@example.net" for i in range(50)]
    for _ in range(4):
        _send(backend, batch)
        backend.advance_clock(50)
    assert make_client(backend, "sesv2").get_account()["SendQuota"]["SentLast24Hours"] == 200
    with pytest.raises(ClientError) as raised:
        _send(backend, ["user1@example.net"])
    assert _code(raised) == ("TooManyRequestsException", "Daily message quota exceeded.")
    _send(backend, ["success@simulator.amazonses.com"])
    backend.advance_clock(24 * 3600)
    assert make_client(backend, "ses").get_send_quota()["SentLast24Hours"] == 0
    _send(backend, ["user1@example.net"])


def test_production_access_is_reviewed_then_granted(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_ReviewDetails.html: "PENDING –
    We have received your appeal and are in the process of reviewing it. GRANTED – Your appeal
    has been reviewed and your production access has been granted." Then "you can send email to
    any recipient, regardless of whether the recipient's address or domain is verified"
    (request-production-access.html)."""
    verified_domain(backend)
    sesv2 = make_client(backend, "sesv2")
    request_production(backend, ContactLanguage="EN")
    account = sesv2.get_account()
    assert account["Details"]["ReviewDetails"]["Status"] == "PENDING"
    assert account["Details"]["UseCaseDescription"] == COMPLETE_USE_CASE
    assert account["Details"]["AdditionalContactEmailAddresses"] == ["contact@example.net"]
    assert account["ProductionAccessEnabled"] is False
    with pytest.raises(ClientError) as raised:
        request_production(backend)
    assert _code(raised)[0] == "ConflictException"
    backend.advance_clock(5)
    account = sesv2.get_account()
    assert account["Details"]["ReviewDetails"]["Status"] == "GRANTED"
    assert account["Details"]["ReviewDetails"]["CaseId"]
    assert account["ProductionAccessEnabled"] is True
    assert account["SendQuota"]["Max24HourSend"] > 200
    assert (
        make_client(backend, "ses").get_send_quota()["MaxSendRate"]
        == (account["SendQuota"]["MaxSendRate"])
    )
    assert any("granted" in m["subject"] for m in mails(backend, "contact@example.net"))
    _send(backend, ["anyone@example.org"])
    assert [m["subject"] for m in mails(backend, "anyone@example.org")] == ["Hello"]


def test_an_incomplete_request_is_denied_with_the_reasons(backend: Backend) -> None:
    """ReviewDetails: "DENIED – Your appeal has been reviewed and your production access has been
    denied." The kit's reviewer writes the missing answers to the contacts, as a reviewer
    would; the account stays in the sandbox and may ask again."""
    sesv2 = make_client(backend, "sesv2")
    request_production(backend, use_case="We send emails to our users.")
    backend.advance_clock(5)
    account = sesv2.get_account()
    assert account["Details"]["ReviewDetails"]["Status"] == "DENIED"
    assert account["ProductionAccessEnabled"] is False
    letter = next(m for m in mails(backend, "contact@example.net") if "denied" in m["subject"])
    for question in QUESTIONS:
        assert question.missing in letter["text"]
    request_production(backend)  # no ConflictException once decided
    assert sesv2.get_account()["Details"]["ReviewDetails"]["Status"] == "PENDING"


ISSUE_REQUEST = (
    "Our list is built from people who create an account in our shop and tick a box asking for "
    "email. We only send order and shipping emails. Each email footer has a one-click link to "
    "stop these emails, applied immediately. Hard bounces and spam reports arrive through SNS "
    "and the address is removed from the list."
)


def _decided(backend: Backend, use_case: str, mail_type: str) -> tuple[str, str]:
    """Ask with ``use_case``, let the review's time pass; (status, the letter: subject, text)."""
    request_production(backend, use_case=use_case, MailType=mail_type)
    backend.advance_clock(5)
    status = make_client(backend, "sesv2").get_account()["Details"]["ReviewDetails"]["Status"]
    letter = [m for m in mails(backend, "contact@example.net") if "(case" in m["subject"]][-1]
    return status, f"{letter['subject']}\n{letter['text']}"


def test_the_reviewer_reads_answers_not_keywords(backend: Backend) -> None:
    """request-production-access.html: AWS asks how you will "only send to recipients who have
    specifically requested your mail" and handle bounces, complaints and unsubscribe requests.
    A clear request in other words than the notes' is granted; the notes' keywords alone are
    denied, and the letter says how to write each missing answer."""
    status, letter = _decided(backend, "bounce complain unsubscribe signup marketing", "MARKETING")
    assert status == "DENIED"
    for question in QUESTIONS:
        assert question.missing in letter and question.example in letter
    status, letter = _decided(backend, ISSUE_REQUEST, "MARKETING")
    assert status == "GRANTED" and "granted" in letter


def test_marketing_mail_needs_recipients_who_opted_in(backend: Backend) -> None:
    """A transactional sender's customers are its list; a marketing sender's recipients must
    have asked for its mail (request-production-access.html: "specifically requested")."""
    customers = ISSUE_REQUEST.replace(" and tick a box asking for email", "")
    status, letter = _decided(backend, customers, "MARKETING")
    assert status == "DENIED" and "MailType is MARKETING" in letter
    status, _ = _decided(backend, customers, "TRANSACTIONAL")
    assert status == "GRANTED"


def test_details_without_production_access_open_no_review(backend: Backend) -> None:
    """PutAccountDetails: "ProductionAccessEnabled – Indicates whether or not your account should
    have production access"; without it the details are only recorded."""
    request_production(backend, ProductionAccessEnabled=False)
    backend.advance_clock(5)
    account = make_client(backend, "sesv2").get_account()
    assert "ReviewDetails" not in account["Details"]
    assert account["ProductionAccessEnabled"] is False


def test_put_account_details_rejects_an_unknown_mail_type(backend: Backend) -> None:
    """PutAccountDetails MailType: "Valid Values: MARKETING | TRANSACTIONAL" (else a
    BadRequestException)."""
    with pytest.raises(ClientError) as raised:
        request_production(backend, MailType="SPAM")
    assert _code(raised)[0] == "BadRequestException"


def test_only_mail_type_and_website_are_required(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutAccountDetails.html: MailType
    and WebsiteURL are "Required: Yes"; UseCaseDescription is "Required: No" (the API model:
    "Use case description is optional and deprecated"). A request without a description is
    accepted and reviewed; the reviewer still needs the answers and says so. Without WebsiteURL
    the call is a BadRequestException (sent past boto3's own check of required parameters)."""
    sesv2 = make_client(backend, "sesv2")
    sesv2.put_account_details(
        MailType="TRANSACTIONAL",
        WebsiteURL="https://www.example.com",
        AdditionalContactEmailAddresses=["contact@example.net"],
        ProductionAccessEnabled=True,
    )
    assert sesv2.get_account()["Details"]["ReviewDetails"]["Status"] == "PENDING"
    backend.advance_clock(5)
    assert sesv2.get_account()["Details"]["ReviewDetails"]["Status"] == "DENIED"
    letter = next(m for m in mails(backend, "contact@example.net") if "denied" in m["subject"])
    assert "no UseCaseDescription" in letter["text"]

    unchecked = conftest.make_client(
        backend, "sesv2", "us-east-1", Config(parameter_validation=False)
    )
    with pytest.raises(ClientError) as raised:
        unchecked.put_account_details(MailType="TRANSACTIONAL", ProductionAccessEnabled=True)
    assert _code(raised)[0] == "BadRequestException"


def test_paused_sending_refuses_every_message(backend: Backend) -> None:
    """UpdateAccountSendingEnabled / PutAccountSendingAttributes pause sending; a send then fails
    with AccountSendingPausedException (v1, "Indicates that email sending is disabled for your
    entire Amazon SES account") or SendingPausedException (v2)."""
    verified_domain(backend)
    ses, sesv2 = make_client(backend, "ses"), make_client(backend, "sesv2")
    ses.update_account_sending_enabled(Enabled=False)
    assert sesv2.get_account()["SendingEnabled"] is False
    with pytest.raises(ClientError) as raised:
        _send(backend, ["success@simulator.amazonses.com"])
    assert _code(raised)[0] == "SendingPausedException"
    with pytest.raises(ClientError) as raised:
        ses.send_email(
            Source=SENDER,
            Destination={"ToAddresses": ["success@simulator.amazonses.com"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
        )
    assert _code(raised)[0] == "AccountSendingPausedException"
    sesv2.put_account_sending_attributes(SendingEnabled=True)
    assert ses.get_account_sending_enabled()["Enabled"] is True


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.key)
def test_the_reviewer_names_each_unanswered_question(question: object) -> None:
    """The course notes' four questions: each one left out is the reason for a denial."""
    sentences = {
        "recipients": "Recipients are customers who sign up on our website.",
        "content": "We send transactional mail: password resets and receipts.",
        "unsubscribe": "Every message has an unsubscribe link.",
        "feedback": "Bounces and complaints arrive through SNS and we remove the address.",
    }
    text = " ".join(v for k, v in sentences.items() if k != question.key)  # type: ignore[attr-defined]
    outcome = review(
        {
            "UseCaseDescription": text,
            "WebsiteURL": "https://x.example",
            "ProductionAccessEnabled": True,
        }
    )
    assert not outcome.granted
    assert outcome.missing == (question,)
    full = " ".join(sentences.values())
    assert review(
        {
            "UseCaseDescription": full,
            "WebsiteURL": "https://x.example",
            "ProductionAccessEnabled": True,
        }
    ).granted
    assert not review(
        {"UseCaseDescription": full, "WebsiteURL": "x", "ProductionAccessEnabled": True}
    ).granted
