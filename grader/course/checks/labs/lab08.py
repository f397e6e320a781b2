"""Lab 08 · SES in the sandbox: verify a domain (DKIM via Route 53) and an address, send, SMTP.

The domain and the recipient are the local backend's defaults (``DOMAIN``, ``RECIPIENT``) there,
and the learner's own on a real account (``COURSE_DOMAIN``, ``COURSE_EMAIL``, through
``Aws.learner_domain`` and ``Aws.learner_email``): without one, its checks are "not checkable".
What arrived is read from the kit's mailbox and SMTP log, so ``delivered`` and
``smtp-delivered`` are flow checks: "not checkable" on a real account.

A send counts through either API (v1 SendEmail, SendRawEmail, SendTemplatedEmail; v2 SendEmail,
simple, raw or templated), with any spelling of the addresses (display names, To, Cc or Bcc).
"Handled" in ``sandbox-rejection`` is read from the cell record (``course.checks.cells``): the
cell that made the rejected send did not fail on it. Without a record that part is "not checkable".
"""

from __future__ import annotations

from course.checks.api import CheckFailed, NotAttempted, check
from course.checks.cells import require_handled
from course.checks.context import Aws
from course.checks.readers.ses import identity, mailbox, records, sends, smtp_sessions

LAB = "08"
TITLE = "SES in the sandbox"
#: Graded at twenty times the wall clock's speed: its AWS waits take a twentieth of their time
#: (as fast as the check tests and the stress run show every score unchanged).
TIME_SCALE = 20
#: The local backend's domain, MAIL FROM domain, sender and recipient (a real account: the
#: learner's ``COURSE_DOMAIN`` and ``COURSE_EMAIL``, see ``_domain`` and ``_recipient``).
DOMAIN = "example.com"
MAIL_FROM = "no-reply.example.com"
SENDER = "no-reply@example.com"
RECIPIENT = "learner@example.net"
STRANGER = "stranger@example.org"
SPF = "v=spf1 include:amazonses.com ~all"


def _domain(aws: Aws) -> str:
    """The domain the lab verifies: example.com here, the learner's own on a real account."""
    return aws.learner_domain(DOMAIN)


def _mail_from(domain: str) -> str:
    return f"no-reply.{domain}"


def _sender(domain: str) -> str:
    return f"no-reply@{domain}"


def _recipient(aws: Aws) -> str:
    """The verified recipient: learner@example.net here, the learner's own on a real account."""
    return aws.learner_email(RECIPIENT).lower()


@check(
    "domain-identity",
    points=1,
    kind="state",
    statement=f"A domain identity {DOMAIN} (your COURSE_DOMAIN on a real account) exists in SES, "
    "set up for Easy DKIM.",
    hint="sesv2.create_email_identity(EmailIdentity=DOMAIN) gives it three DKIM tokens.",
)
def test_domain_identity(aws: Aws) -> None:
    domain = _domain(aws)
    found = identity(aws, domain)
    if found.get("IdentityType") != "DOMAIN":
        raise CheckFailed(f"{domain} is an identity of type {found.get('IdentityType')}")
    dkim = found.get("DkimAttributes", {})
    if dkim.get("SigningAttributesOrigin") != "AWS_SES" or not dkim.get("Tokens"):
        raise CheckFailed(
            f"{domain} has no Easy DKIM tokens: create it with the SES v2 API, or call "
            "VerifyDomainDkim (v1)"
        )


@check(
    "dkim-verified",
    points=2,
    kind="state",
    statement=f"SES found the three DKIM CNAME records of {DOMAIN} (your COURSE_DOMAIN on a real "
    "account) in public DNS: DKIM and the domain are verified.",
    hint="In the domain's public hosted zone create <token>._domainkey.<domain> CNAME "
    "<token>.dkim.amazonses.com for each of the three tokens, then read the identity again.",
)
def test_dkim_verified(aws: Aws) -> None:
    domain = _domain(aws)
    found = identity(aws, domain)
    dkim = found.get("DkimAttributes", {})
    if dkim.get("Status") == "SUCCESS" and found.get("VerifiedForSendingStatus"):
        return
    tokens = dkim.get("Tokens", [])
    missing = [
        f"{t}._domainkey.{domain} CNAME {t}.dkim.amazonses.com"
        for t in tokens
        if f"{t}.dkim.amazonses.com" not in records(aws, f"{t}._domainkey.{domain}", "CNAME")
    ]
    if missing:
        raise CheckFailed(
            f"DKIM status is {dkim.get('Status', 'NOT_STARTED')}; missing from a public "
            f"Route 53 zone {domain}: " + "; ".join(missing)
        )
    raise CheckFailed(f"DKIM status is {dkim.get('Status')}: read the identity again")


@check(
    "mail-from",
    points=2,
    kind="state",
    statement=f"The custom MAIL FROM domain {MAIL_FROM} (no-reply.<your COURSE_DOMAIN> on a real "
    "account) is set on the domain, with its MX and SPF records in Route 53, and SES reports it "
    "SUCCESS.",
    hint="put_email_identity_mail_from_attributes(...), then MX '10 feedback-smtp.us-east-1."
    "amazonses.com' and TXT '\"v=spf1 include:amazonses.com ~all\"' on no-reply.<domain>.",
)
def test_mail_from(aws: Aws) -> None:
    domain = _domain(aws)
    mail_from = _mail_from(domain)
    attributes = identity(aws, domain).get("MailFromAttributes", {})
    if not attributes.get("MailFromDomain"):
        raise NotAttempted(f"{domain} has no custom MAIL FROM domain")
    if attributes["MailFromDomain"] != mail_from:
        raise CheckFailed(
            f"the MAIL FROM domain is {attributes['MailFromDomain']}, not {mail_from}"
        )
    problems = []
    if attributes.get("MailFromDomainStatus") != "SUCCESS":
        mx = records(aws, mail_from, "MX")
        problems.append(
            f"SES reports {attributes.get('MailFromDomainStatus')}: it needs exactly one MX record "
            f"10 feedback-smtp.{aws.region}.amazonses.com (found {mx or 'none'})"
        )
    spf = [v for v in records(aws, mail_from, "TXT") if v.startswith("v=spf1")]
    if not any("include:amazonses.com" in v for v in spf):
        problems.append(f"no SPF TXT record '{SPF}' on {mail_from} (found {spf or 'none'})")
    if problems:
        raise CheckFailed("; ".join(problems))


@check(
    "recipient-verified",
    points=2,
    kind="state",
    statement=f"The email identity {RECIPIENT} (your COURSE_EMAIL on a real account) is "
    "verified, through the link in its email.",
    hint="create_email_identity(EmailIdentity=RECIPIENT), find the mail in the mailbox and open "
    "its link (urllib.request.urlopen); on a real account, click the link in your inbox.",
)
def test_recipient_verified(aws: Aws) -> None:
    recipient = _recipient(aws)
    found = identity(aws, recipient)
    if found.get("VerificationStatus") != "SUCCESS":
        raise CheckFailed(
            f"{recipient} is {found.get('VerificationStatus')}: open the link in the "
            "verification email SES sent it"
        )


@check(
    "delivered",
    points=2,
    kind="flow",
    statement=f"A message from {SENDER} to {RECIPIENT} was accepted and arrived in the mailbox.",
    hint="sesv2.send_email(FromEmailAddress=SENDER, Destination={'ToAddresses': [RECIPIENT]}, "
    "Content={...}) once both identities are verified.",
)
def test_delivered(aws: Aws) -> None:
    flow = aws.flow  # "not checkable" on a real account, before any setting is asked for
    recipient, sender = _recipient(aws), _sender(_domain(aws))
    attempts = [s for s in sends(flow) if recipient in s.recipients]
    if not attempts:
        raise NotAttempted(f"no message was sent to {recipient} through the SES API")
    accepted = [s for s in attempts if s.ok and s.source == sender]
    if not accepted:
        last = attempts[-1]
        if last.ok:
            raise CheckFailed(f"the message was sent from {last.source}, not {sender}")
        raise CheckFailed(
            f"SES refused every send to {recipient}; the last: {last.error_code} "
            f"({(last.call.error or {}).get('message', '')})"
        )
    arrived = [
        m for m in mailbox(aws, recipient) if m["source"] == "ses" and m["sender"].lower() == sender
    ]
    if not arrived:
        raise CheckFailed(f"SES accepted the message but nothing from {sender} is in the mailbox")


@check(
    "sandbox-rejection",
    points=1,
    kind="flow",
    statement=f"A send to the unverified {STRANGER} was rejected with MessageRejected, and "
    "the notebook handled it: the cell that sent it did not fail on the error.",
    hint="Wrap the send in try/except ClientError and print "
    "error.response['Error']['Code'] and ['Message'].",
)
def test_sandbox_rejection(aws: Aws) -> None:
    attempts = [s for s in sends(aws.flow) if STRANGER in s.recipients]
    if not attempts:
        raise NotAttempted(f"no message was sent to {STRANGER}")
    rejected = [s.call for s in attempts if s.error_code == "MessageRejected"]
    if not rejected:
        if any(s.ok for s in attempts):
            raise CheckFailed(
                f"SES accepted the send to {STRANGER}: in the sandbox it must be rejected"
            )
        codes = ", ".join(sorted({s.error_code for s in attempts}))
        raise CheckFailed(
            f"the send failed with {codes}, not MessageRejected (TooManyRequestsException in SES "
            "v2, Throttling in v1, means two sends within a second: the sandbox allows one per "
            "second)"
        )
    require_handled(aws.cells, rejected, f"SES rejected the send to {STRANGER}")


@check(
    "smtp-delivered",
    points=2,
    kind="flow",
    statement=f"A message sent through the SES SMTP interface, with SMTP credentials derived from "
    f"an IAM access key, arrived for {RECIPIENT} (read from the kit's SMTP log and mailbox).",
    hint="IAM user with ses:SendRawEmail + access key; password = AWS's derivation for "
    "us-east-1; smtplib.SMTP(host, port), starttls(), login(key id, password), send_message.",
)
def test_smtp_delivered(aws: Aws) -> None:
    log = smtp_sessions(aws)  # "not checkable" on a real account
    recipient, domain = _recipient(aws), _domain(aws)
    arrived = [
        m
        for m in mailbox(aws, recipient)
        if m["source"] == "smtp" and m["sender"].lower().endswith("@" + domain)
    ]
    if arrived:
        return
    if not log:
        raise NotAttempted("nothing connected to the SES SMTP interface")
    failed_auth = [e for e in log if e["event"] == "auth" and not e["ok"]]
    refused = [e for e in log if e["event"] == "message" and not e["ok"]]
    sent = [e for e in log if e["event"] == "message" and e["ok"]]
    if refused:
        raise CheckFailed(f"the SMTP interface refused the message: {refused[-1]['reply']}")
    if sent:
        raise CheckFailed(
            f"mail went through SMTP but none from @{domain} to {recipient}: "
            f"{sent[-1]['sender']} → {', '.join(sent[-1]['recipients'])}"
        )
    if failed_auth:
        raise CheckFailed(
            f"SMTP AUTH failed ({failed_auth[-1].get('reason', '')}): the user name is the access "
            "key id and the password is derived from its secret key for us-east-1"
        )
    raise CheckFailed("an SMTP session authenticated but sent no message")
