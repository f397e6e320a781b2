"""Lab 08's checks: none passes on an empty backend, each passes on the right work (the lab's
way and an unusual but correct one: the v1 API, display names, Cc, trailing dots, smtplib's
sendmail) and fails, with an actionable reason, on wrong work. ``sandbox-rejection`` reads which
cell made the rejected send (``tests.checks.notebook_cells``)."""

from __future__ import annotations

import contextlib
import json
import smtplib
import threading
import urllib.request
from email.message import EmailMessage

from botocore.exceptions import ClientError
from course.backend.process import Backend
from course.backend.ses.smtp import smtp_password
from course.checks.api import CheckResult, run_check
from course.checks.catalog import resolve_lab
from course.checks.context import Aws

from tests.backend.ses.helpers import (
    hosted_zone,
    make_client,
    put_records,
    simple,
    verification_link,
    verified_address,
    verified_domain,
)
from tests.checks.labs.account import AccountAws, writes_since
from tests.checks.notebook_cells import Notebook, results
from tests.conftest import check_results

SENDER, RECIPIENT, STRANGER = "no-reply@example.com", "learner@example.net", "stranger@example.org"
MAIL_FROM = "no-reply.example.com"


def _mail_from(backend: Backend, zone: str, spf: bool = True) -> None:
    make_client(backend, "sesv2").put_email_identity_mail_from_attributes(
        EmailIdentity="example.com", MailFromDomain=MAIL_FROM
    )
    records = [(MAIL_FROM, "MX", "10 feedback-smtp.us-east-1.amazonses.com")]
    if spf:
        records.append((MAIL_FROM, "TXT", '"v=spf1 include:amazonses.com ~all"'))
    put_records(backend, zone, records)


def _send(backend: Backend, to: str, source: str = SENDER) -> None:
    with contextlib.suppress(ClientError):
        make_client(backend, "sesv2").send_email(
            FromEmailAddress=source, Destination={"ToAddresses": [to]}, Content=simple()
        )
    backend.advance_clock(1)


def _smtp_user(backend: Backend) -> dict:
    iam = make_client(backend, "iam")
    iam.create_user(UserName="ses-smtp-user")
    iam.put_user_policy(
        UserName="ses-smtp-user",
        PolicyName="send",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}],
            }
        ),
    )
    return iam.create_access_key(UserName="ses-smtp-user")["AccessKey"]


def _smtp_send(backend: Backend, user: str, password: str, sender: str = SENDER) -> None:
    endpoint = json.loads(urllib.request.urlopen(f"{backend.url}/_course/ses/smtp").read())
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, RECIPIENT, "smtp"
    message.set_content("hi")
    try:
        with smtplib.SMTP(endpoint["host"], endpoint["port"], timeout=10) as smtp:
            smtp.starttls()
            smtp.login(user, password)
            smtp.send_message(message)
    except smtplib.SMTPException:
        pass
    backend.advance_clock(1)


def _complete(backend: Backend, nb: Notebook) -> None:
    with nb.cell():
        _, zone = verified_domain(backend)
        _mail_from(backend, zone)
        verified_address(backend, RECIPIENT)
        _send(backend, RECIPIENT)
    with nb.cell():
        _send(backend, STRANGER)  # the rejection is caught in the cell
    with nb.cell():
        key = _smtp_user(backend)
        _smtp_send(backend, key["AccessKeyId"], smtp_password(key["SecretAccessKey"], "us-east-1"))


def test_nothing_passes_on_an_empty_backend(backend: Backend, aws: Aws) -> None:
    results = check_results("08", aws)
    assert {r.outcome for r in results.values()} == {"not_attempted"}
    assert sum(r.max_points for r in results.values()) == 12


def test_the_complete_lab_passes_every_check(backend: Backend) -> None:
    nb = Notebook(backend)
    _complete(backend, nb)
    found = results("08", backend, nb)
    assert {k: r.outcome for k, r in found.items()} == dict.fromkeys(found, "passed")


def test_the_v1_api_with_display_names_passes_every_check(backend: Backend) -> None:
    """The SES v1 API throughout, addresses with display names and in Cc, DNS names with
    trailing dots, and smtplib's sendmail: unusual, and correct."""
    nb = Notebook(backend)
    ses = make_client(backend, "ses")
    message = {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hello"}}}
    with nb.cell():
        tokens = ses.verify_domain_dkim(Domain="example.com")["DkimTokens"]
        zone = hosted_zone(backend, "example.com")
        put_records(
            backend,
            zone,
            [(f"{t}._domainkey.example.com.", "CNAME", f"{t}.dkim.amazonses.com.") for t in tokens],
        )
    with nb.cell():
        ses.set_identity_mail_from_domain(Identity="example.com", MailFromDomain=MAIL_FROM)
        put_records(
            backend,
            zone,
            [
                (MAIL_FROM + ".", "MX", "10 feedback-smtp.us-east-1.amazonses.com"),
                (MAIL_FROM + ".", "TXT", '"v=spf1 include:amazonses.com -all"'),
            ],
        )
    with nb.cell():
        ses.verify_email_identity(EmailAddress=RECIPIENT)
        urllib.request.urlopen(verification_link(backend, RECIPIENT)).read()
    with nb.cell():
        ses.send_email(
            Source=f"No Reply <{SENDER}>",
            Destination={"CcAddresses": [f"Learner <{RECIPIENT}>"]},
            Message=message,
        )
        backend.advance_clock(1)
    with nb.cell():
        try:
            ses.send_email(Source=SENDER, Destination={"BccAddresses": [STRANGER]}, Message=message)
        except ses.exceptions.MessageRejected as error:  # the modelled exception, not ClientError
            print(error.response["Error"]["Message"])
        backend.advance_clock(1)
    with nb.cell():
        key = _smtp_user(backend)
        password = smtp_password(key["SecretAccessKey"], "us-east-1")
        endpoint = json.loads(urllib.request.urlopen(f"{backend.url}/_course/ses/smtp").read())
        raw = f"From: Info <info@example.com>\r\nTo: {RECIPIENT}\r\nSubject: x\r\n\r\nhi\r\n"
        with smtplib.SMTP(endpoint["host"], endpoint["port"], timeout=10) as smtp:
            smtp.ehlo()
            smtp.starttls()
            smtp.ehlo()
            smtp.login(key["AccessKeyId"], password)
            smtp.sendmail("info@example.com", [RECIPIENT], raw)
    found = results("08", backend, nb)
    assert {k: (r.outcome, r.message) for k, r in found.items()} == dict.fromkeys(
        found, ("passed", "")
    )


def test_a_rejection_the_cell_failed_on_is_not_handled(backend: Backend) -> None:
    """The statement says "and the notebook handled it": a cell that raised on the
    MessageRejected loses the point, with a reason that says to catch ClientError."""
    verified_domain(backend)
    nb = Notebook(backend)
    with nb.cell():
        make_client(backend, "sesv2").send_email(
            FromEmailAddress=SENDER, Destination={"ToAddresses": [STRANGER]}, Content=simple()
        )
    result = results("08", backend, nb)["sandbox-rejection"]
    assert result.outcome == "failed"
    assert "cell 1 failed on it (MessageRejected" in result.message
    assert "ClientError" in result.message


def test_a_rejection_caught_in_a_helper_thread_is_handled(backend: Backend) -> None:
    verified_domain(backend)
    nb = Notebook(backend)
    codes: list[str] = []

    def try_send(to: str) -> None:
        try:
            make_client(backend, "sesv2").send_email(
                FromEmailAddress=SENDER, Destination={"ToAddresses": [to]}, Content=simple()
            )
        except ClientError as error:
            codes.append(error.response["Error"]["Code"])

    with nb.cell():
        worker = threading.Thread(target=try_send, args=(STRANGER,))
        worker.start()
        worker.join(timeout=10)
    assert codes == ["MessageRejected"]
    assert results("08", backend, nb)["sandbox-rejection"].outcome == "passed"


def test_a_rejection_without_a_cell_record_is_not_checkable(backend: Backend) -> None:
    verified_domain(backend)
    _send(backend, STRANGER)
    result = results("08", backend, None)["sandbox-rejection"]
    assert result.outcome == "not_checkable" and "known only from its cells" in result.message


def test_domain_without_easy_dkim_fails_and_dns_problems_are_named(
    backend: Backend, aws: Aws
) -> None:
    make_client(backend, "ses").verify_domain_identity(Domain="example.com")
    results = check_results("08", aws)
    assert results["domain-identity"].outcome == "failed"
    assert "Easy DKIM" in results["domain-identity"].message
    backend.reset()
    sesv2 = make_client(backend, "sesv2")
    tokens = sesv2.create_email_identity(EmailIdentity="example.com")["DkimAttributes"]["Tokens"]
    zone = hosted_zone(backend, "example.com")
    put_records(
        backend,
        zone,
        [(f"{t}._domainkey.example.com", "CNAME", f"{t}.dkim.amazonses.com") for t in tokens[:2]],
    )
    results = check_results("08", aws)
    assert results["domain-identity"].outcome == "passed"
    assert results["dkim-verified"].outcome == "failed"
    assert f"{tokens[2]}._domainkey.example.com" in results["dkim-verified"].message
    assert tokens[0] not in results["dkim-verified"].message


def test_dkim_records_in_a_private_zone_fail(backend: Backend, aws: Aws) -> None:
    sesv2 = make_client(backend, "sesv2")
    tokens = sesv2.create_email_identity(EmailIdentity="example.com")["DkimAttributes"]["Tokens"]
    zone = hosted_zone(backend, "example.com", private=True)
    put_records(
        backend,
        zone,
        [(f"{t}._domainkey.example.com", "CNAME", f"{t}.dkim.amazonses.com") for t in tokens],
    )
    assert check_results("08", aws)["dkim-verified"].outcome == "failed"


def test_mail_from_without_spf_or_with_another_domain_fails(backend: Backend, aws: Aws) -> None:
    _, zone = verified_domain(backend)
    assert check_results("08", aws)["mail-from"].outcome == "not_attempted"
    _mail_from(backend, zone, spf=False)
    result = check_results("08", aws)["mail-from"]
    assert result.outcome == "failed" and "SPF" in result.message
    make_client(backend, "sesv2").put_email_identity_mail_from_attributes(
        EmailIdentity="example.com", MailFromDomain="bounce.example.com"
    )
    result = check_results("08", aws)["mail-from"]
    assert result.outcome == "failed" and "bounce.example.com" in result.message


def test_mail_from_without_mx_fails(backend: Backend, aws: Aws) -> None:
    _, zone = verified_domain(backend)
    make_client(backend, "sesv2").put_email_identity_mail_from_attributes(
        EmailIdentity="example.com", MailFromDomain=MAIL_FROM
    )
    put_records(backend, zone, [(MAIL_FROM, "TXT", '"v=spf1 include:amazonses.com ~all"')])
    result = check_results("08", aws)["mail-from"]
    assert result.outcome == "failed" and "MX" in result.message


def test_an_unclicked_recipient_and_sends_that_failed(backend: Backend, aws: Aws) -> None:
    verified_domain(backend)
    make_client(backend, "sesv2").create_email_identity(EmailIdentity=RECIPIENT)
    _send(backend, RECIPIENT)  # rejected: the recipient is not verified yet
    results = check_results("08", aws)
    assert results["recipient-verified"].outcome == "failed"
    assert results["delivered"].outcome == "failed"
    assert "MessageRejected" in results["delivered"].message


def test_delivered_from_the_wrong_sender_fails(backend: Backend, aws: Aws) -> None:
    verified_domain(backend)
    verified_address(backend, RECIPIENT)
    _send(backend, RECIPIENT, source="info@example.com")
    result = check_results("08", aws)["delivered"]
    assert result.outcome == "failed" and "info@example.com" in result.message


def test_a_stranger_accepted_out_of_the_sandbox_is_no_sandbox_rejection(
    backend: Backend, aws: Aws
) -> None:
    from tests.backend.ses.helpers import grant_production

    verified_domain(backend)
    grant_production(backend)
    _send(backend, STRANGER)
    result = check_results("08", aws)["sandbox-rejection"]
    assert result.outcome == "failed" and "accepted" in result.message


def test_smtp_failures_are_explained(backend: Backend, aws: Aws) -> None:
    verified_domain(backend)
    verified_address(backend, RECIPIENT)
    key = _smtp_user(backend)
    _smtp_send(
        backend, key["AccessKeyId"], key["SecretAccessKey"]
    )  # the secret is not the password
    result = check_results("08", aws)["smtp-delivered"]
    assert result.outcome == "failed" and "AUTH failed" in result.message
    _smtp_send(
        backend,
        key["AccessKeyId"],
        smtp_password(key["SecretAccessKey"], "us-east-1"),
        sender="someone@example.org",
    )
    result = check_results("08", aws)["smtp-delivered"]
    assert result.outcome == "failed" and "554 Message rejected" in result.message


# -- a real account (issue 15): the learner's own domain and address, read-only checks
LEARNER_DOMAIN, LEARNER_EMAIL = "ana-lab.example.org", "ana@student.example.edu"


def on_account(
    lab: str, backend: Backend, email: str | None, domain: str | None
) -> dict[str, CheckResult]:
    """Every check of ``lab`` on the learner's account (prefix ``ana-``, their COURSE_EMAIL and
    COURSE_DOMAIN), keyed by short id; it asserts that the checks only read there."""
    mark = backend.api.flow_mark()
    aws = AccountAws(backend, prefix="ana-", email=email, domain=domain)
    results = {c.id: run_check(c, aws) for c in resolve_lab(lab).checks}
    assert writes_since(backend, mark) == []
    return results


def _learner_lab(backend: Backend) -> None:
    """The lab done on the learner's domain and address (as the solution does on an account)."""
    _, zone = verified_domain(backend, LEARNER_DOMAIN)
    mail_from = f"no-reply.{LEARNER_DOMAIN}"
    make_client(backend, "sesv2").put_email_identity_mail_from_attributes(
        EmailIdentity=LEARNER_DOMAIN, MailFromDomain=mail_from
    )
    put_records(
        backend,
        zone,
        [
            (mail_from, "MX", "10 feedback-smtp.us-east-1.amazonses.com"),
            (mail_from, "TXT", '"v=spf1 include:amazonses.com ~all"'),
        ],
    )
    verified_address(backend, LEARNER_EMAIL)


def test_on_an_account_the_learners_domain_and_address_pass_and_flow_is_not_checkable(
    backend: Backend,
) -> None:
    _learner_lab(backend)
    found = on_account("08", backend, LEARNER_EMAIL, LEARNER_DOMAIN)
    assert {k: r.outcome for k, r in found.items()} == {
        "domain-identity": "passed",
        "dkim-verified": "passed",
        "mail-from": "passed",
        "recipient-verified": "passed",
        "delivered": "not_checkable",
        "sandbox-rejection": "not_checkable",
        "smtp-delivered": "not_checkable",
    }


def test_on_an_account_example_com_is_not_the_learners_domain(backend: Backend) -> None:
    """The local backend's example.com and learner@example.net, verified on an account, do not
    stand for the learner's own domain and address."""
    _, zone = verified_domain(backend)
    _mail_from(backend, zone)
    verified_address(backend, RECIPIENT)
    found = on_account("08", backend, LEARNER_EMAIL, LEARNER_DOMAIN)
    for check_id in ("domain-identity", "dkim-verified", "mail-from", "recipient-verified"):
        assert found[check_id].outcome == "not_attempted", check_id
        assert "ana-ana" not in found[check_id].message  # domains and addresses: no prefix
    assert LEARNER_DOMAIN in found["domain-identity"].message
    assert LEARNER_EMAIL in found["recipient-verified"].message


def test_on_an_account_the_learners_unverified_domain_fails(backend: Backend) -> None:
    make_client(backend, "sesv2").create_email_identity(EmailIdentity=LEARNER_DOMAIN)
    result = on_account("08", backend, LEARNER_EMAIL, LEARNER_DOMAIN)["dkim-verified"]
    assert result.outcome == "failed"
    assert f"._domainkey.{LEARNER_DOMAIN} CNAME" in result.message


def test_on_an_account_without_the_settings_their_checks_are_not_checkable(
    backend: Backend,
) -> None:
    """No COURSE_DOMAIN: the domain checks are "not checkable", never passed on example.com;
    no COURSE_EMAIL: nor is the recipient's. Both at most out of the score."""
    verified_domain(backend)
    verified_address(backend, RECIPIENT)
    found = on_account("08", backend, None, None)
    assert {r.outcome for r in found.values()} == {"not_checkable"}
    assert "COURSE_DOMAIN" in found["mail-from"].message
    assert "COURSE_EMAIL" in found["recipient-verified"].message
    assert sum(r.max_points for r in found.values()) == 0
