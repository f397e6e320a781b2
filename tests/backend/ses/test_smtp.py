"""The SES SMTP interface: a real SMTP server of the backend, driven by Python's smtplib.

moto has no SMTP interface at all. AWS: https://docs.aws.amazon.com/ses/latest/dg/send-email-smtp.html
"""

from __future__ import annotations

import base64
import json
import smtplib
import subprocess
import sys
import tempfile
import urllib.request
from email.message import EmailMessage
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from course.backend.process import Backend
from course.backend.ses.smtp import SmtpServer, smtp_password

from tests.backend.ses.helpers import (
    events_pipeline,
    mails,
    make_client,
    read_events,
    verified_address,
    verified_domain,
)

SEND_RAW = {"Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"}


def _botocore_v4_password(secret: str, region: str) -> str:
    """The same derivation through botocore's own SigV4 signing-key chain, as a second opinion:
    the password is the SigV4 signature of "SendRawEmail" for the date 11111111, prefixed 0x04."""
    auth = SigV4Auth(Credentials("AKID", secret), "ses", region)
    request = AWSRequest(method="POST", url="https://example.com")
    request.context["timestamp"] = "11111111T000000Z"
    signature = bytes.fromhex(auth.signature("SendRawEmail", request))
    return base64.b64encode(bytes([0x04]) + signature).decode()


@pytest.mark.parametrize(
    ("secret", "region"),
    [
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"),  # AWS's example key
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-west-2"),
        ("0123456789abcdefghijABCDEFGHIJ+/0123456", "eu-west-1"),
    ],
)
def test_smtp_password_follows_aws_derivation(secret: str, region: str) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/smtp-credentials.html: "kDate =
    HmacSha256(date, "AWS4" + key); kRegion = HmacSha256(region, kDate); kService =
    HmacSha256(service, kRegion); kTerminal = HmacSha256(terminal, kService); kMessage =
    HmacSha256(message, kTerminal); signatureAndVersion = Concatenate(version, kMessage);
    smtpPassword = Base64(signatureAndVersion)" with date "11111111", service "ses", terminal
    "aws4_request", message "SendRawEmail", version 0x04. AWS publishes no example output, so the
    result is checked against botocore's SigV4 key derivation and its shape (33 bytes, 0x04)."""
    password = smtp_password(secret, region)
    assert password == _botocore_v4_password(secret, region)
    raw = base64.b64decode(password)
    assert len(raw) == 33 and raw[0] == 0x04
    assert smtp_password(secret, "us-east-1") != smtp_password(secret, "eu-west-1")


def _endpoint(backend: Backend) -> dict[str, Any]:
    with urllib.request.urlopen(f"{backend.url}/_course/ses/smtp") as response:
        return json.loads(response.read())


def _user(backend: Backend, name: str = "ses-smtp-user", statements: list | None = None) -> dict:
    iam = make_client(backend, "iam")
    iam.create_user(UserName=name)
    document = {"Version": "2012-10-17", "Statement": statements or [SEND_RAW]}
    iam.put_user_policy(
        UserName=name, PolicyName="AmazonSesSendingAccess", PolicyDocument=json.dumps(document)
    )
    return iam.create_access_key(UserName=name)["AccessKey"]


def _message(sender: str, to: str, subject: str = "Hello over SMTP") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content("Sent with smtplib.")
    return message


def _smtp(backend: Backend) -> smtplib.SMTP:
    endpoint = _endpoint(backend)
    return smtplib.SMTP(endpoint["host"], endpoint["port"], timeout=10)


def test_the_endpoint_page_says_where_the_server_listens(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/smtp-connect.html: the endpoint is
    email-smtp.<region>.amazonaws.com, STARTTLS on port 587; the local stand-in listens on
    loopback and says so."""
    endpoint = _endpoint(backend)
    assert endpoint["host"] == "127.0.0.1" and endpoint["port"] > 0
    assert endpoint["aws"] == {"host": "email-smtp.us-east-1.amazonaws.com", "port": 587}
    with _smtp(backend) as smtp:
        code, _ = smtp.ehlo()
        assert code == 250
        assert smtp.has_extn("starttls") and smtp.has_extn("auth")


def test_a_gated_backend_listens_for_smtp_on_the_port_it_announced() -> None:
    """A sandbox learns its backend's ports when it is made, so a backend with a gate fixes its
    SMTP port at start (in its ready file); the interface, started later, listens on it."""
    with Backend.start(gate=True) as gated:
        assert gated.smtp_port is not None
        assert _endpoint(gated)["port"] == gated.smtp_port


def test_the_server_starts_when_its_address_is_first_asked_for() -> None:
    """Loading the backend's extensions starts no SMTP server (most labs never use it; the
    grader starts a backend per submission); the first request for its address does."""
    code = (
        "import threading\n"
        "from course.backend.core import registry\n"
        "from course.backend.extensions import EXTENSIONS\n"
        "registry.load_extensions(EXTENSIONS)\n"
        "names = lambda: {t.name for t in threading.enumerate()}\n"
        "assert 'ses-smtp' not in names(), names()\n"
        "page = registry.find_page('/_course/ses/smtp')\n"
        "reply = page({'PATH_INFO': '/_course/ses/smtp/log'}, b'')\n"
        "assert reply.body == b'[]' and 'ses-smtp' not in names(), names()\n"
        "reply = page({'PATH_INFO': '/_course/ses/smtp'}, b'')\n"
        "assert 'ses-smtp' in names(), names()\n"
        "again = page({'PATH_INFO': '/_course/ses/smtp'}, b'')\n"
        "assert reply.body == again.body, (reply.body, again.body)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_starttls_leaves_no_key_on_disk(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's self-signed certificate and key are only on disk while ssl loads them; a
    backend process per submission must not leave a private key behind each time."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    server = SmtpServer(lambda user, password: None, lambda *message: "id").start()
    try:
        with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
            smtp.starttls()
            assert smtp.ehlo()[0] == 250
    finally:
        server.stop()
    assert list(tmp_path.iterdir()) == []


def test_starttls_auth_login_and_send_delivers_to_the_mailbox(backend: Backend) -> None:
    """smtp-credentials.html: "the SMTP user name is the same as the AWS access key ID"; the user
    needs "Action": "ses:SendRawEmail". The mail is DKIM-signed by the verified domain and lands
    in the mailbox like an API send."""
    verified_domain(backend)
    verified_address(backend, "learner@example.net")
    key = _user(backend)
    with _smtp(backend) as smtp:
        smtp.starttls()
        smtp.ehlo()
        smtp.login(key["AccessKeyId"], smtp_password(key["SecretAccessKey"], "us-east-1"))
        assert smtp.send_message(_message("no-reply@example.com", "learner@example.net")) == {}
    mail = next(m for m in mails(backend, "learner@example.net") if m["source"] == "smtp")
    assert mail["subject"] == "Hello over SMTP"
    assert "d=example.com" in mail["headers"]["DKIM-Signature"]


def test_plain_connection_on_loopback_with_auth_plain(backend: Backend) -> None:
    """On loopback the kit also takes AUTH without STARTTLS (AWS requires TLS on the internet);
    both AUTH PLAIN and AUTH LOGIN work, as SES's do."""
    verified_domain(backend)
    verified_address(backend, "learner@example.net")
    key = _user(backend)
    with _smtp(backend) as smtp:
        smtp.ehlo()
        smtp.user = key["AccessKeyId"]
        smtp.password = smtp_password(key["SecretAccessKey"], "us-east-1")
        code, _ = smtp.auth("PLAIN", smtp.auth_plain)
        assert code == 235
        smtp.send_message(_message("no-reply@example.com", "learner@example.net", "plain"))
    assert any(m["subject"] == "plain" for m in mails(backend, "learner@example.net"))


@pytest.mark.parametrize("wrong", ["password", "region", "key id", "inactive"])
def test_wrong_credentials_get_ses_smtp_error(backend: Backend, wrong: str) -> None:
    """SES answers a bad user name or password with "535 Authentication Credentials Invalid"
    (https://docs.aws.amazon.com/ses/latest/dg/troubleshoot-smtp.html); SMTP credentials are
    "unique to each AWS Region" (smtp-credentials.html), so another region's password fails."""
    key = _user(backend)
    user, password = key["AccessKeyId"], smtp_password(key["SecretAccessKey"], "us-east-1")
    if wrong == "password":
        password = key["SecretAccessKey"]
    elif wrong == "region":
        password = smtp_password(key["SecretAccessKey"], "eu-west-1")
    elif wrong == "key id":
        user = "AKIAIOSFODNN7EXAMPLE"
    else:
        make_client(backend, "iam").update_access_key(
            UserName="ses-smtp-user", AccessKeyId=user, Status="Inactive"
        )
    with _smtp(backend) as smtp:
        smtp.starttls()
        with pytest.raises(smtplib.SMTPAuthenticationError) as raised:
            smtp.login(user, password)
    assert raised.value.smtp_code == 535
    assert raised.value.smtp_error == b"Authentication Credentials Invalid"


def test_mail_without_auth_is_refused(backend: Backend) -> None:
    """SES accepts mail only from authenticated clients: "530 Authentication required"."""
    with _smtp(backend) as smtp:
        smtp.ehlo()
        code, reply = smtp.mail("no-reply@example.com")
    assert code == 530 and b"Authentication required" in reply


def test_the_user_needs_ses_send_raw_email(backend: Backend) -> None:
    """smtp-credentials.html: to send over SMTP, "Apply the following policy to the IAM user:
    ... "Action": "ses:SendRawEmail""; an explicit Deny wins over any Allow (IAM policy
    evaluation)."""
    verified_domain(backend)
    verified_address(backend, "learner@example.net")
    other = {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "ses:*", "Resource": "*"}
    for name, statements in (("no-ses", [other]), ("denied", [SEND_RAW, deny])):
        key = _user(backend, name, statements)
        with _smtp(backend) as smtp:
            smtp.starttls()
            smtp.login(key["AccessKeyId"], smtp_password(key["SecretAccessKey"], "us-east-1"))
            with pytest.raises(smtplib.SMTPDataError) as raised:
                smtp.send_message(_message("no-reply@example.com", "learner@example.net"))
        assert raised.value.smtp_code == 554
        assert b"is not authorized to perform `ses:SendRawEmail'" in raised.value.smtp_error
    assert not [m for m in mails(backend, "learner@example.net") if m["source"] == "smtp"]


def test_smtp_applies_the_sandbox_and_the_sending_rate(backend: Backend) -> None:
    """The SMTP interface is SES with the same rules: "554 Message rejected: Email address is not
    verified. The following identities failed the check in region ..."
    (https://repost.aws/knowledge-center/ses-554-400-message-rejected-error) and "454 Throttling
    failure: Maximum sending rate exceeded" (manage-sending-quotas-errors.html)."""
    verified_domain(backend)
    verified_address(backend, "learner@example.net")
    key = _user(backend)
    with _smtp(backend) as smtp:
        smtp.starttls()
        smtp.login(key["AccessKeyId"], smtp_password(key["SecretAccessKey"], "us-east-1"))
        with pytest.raises(smtplib.SMTPDataError) as raised:
            smtp.send_message(_message("no-reply@example.com", "stranger@example.org"))
        assert raised.value.smtp_code == 554
        assert raised.value.smtp_error == (
            b"Message rejected: Email address is not verified. The following identities "
            b"failed the check in region US-EAST-1: stranger@example.org"
        )
        # ten recipients use ten seconds of the one-per-second rate: the next send is throttled
        simulator = [f"success+{i}@simulator.amazonses.com" for i in range(9)]
        smtp.send_message(
            _message("no-reply@example.com", "learner@example.net"),
            to_addrs=["learner@example.net", *simulator],
        )
        with pytest.raises(smtplib.SMTPDataError) as raised:
            smtp.send_message(_message("no-reply@example.com", "learner@example.net"))
        assert raised.value.smtp_code == 454
        assert raised.value.smtp_error == b"Throttling failure: Maximum sending rate exceeded."
    log = json.loads(urllib.request.urlopen(f"{backend.url}/_course/ses/smtp/log").read())
    assert [e["ok"] for e in log if e["event"] == "message"] == [False, True, False]


def test_the_configuration_set_header_publishes_events(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/using-configuration-sets-in-email.html: over SMTP
    a configuration set is named in the X-SES-CONFIGURATION-SET header; SES removes it."""
    verified_domain(backend)
    _, queue = events_pipeline(backend, types=("BOUNCE",))
    key = _user(backend)
    message = _message("no-reply@example.com", "bounce@simulator.amazonses.com")
    message["X-SES-CONFIGURATION-SET"] = "course-events"
    with _smtp(backend) as smtp:
        smtp.starttls()
        smtp.login(key["AccessKeyId"], smtp_password(key["SecretAccessKey"], "us-east-1"))
        smtp.send_message(message)
    events = read_events(backend, queue, want=1)
    assert [e["eventType"] for e in events] == ["Bounce"]
    assert events[0]["mail"]["tags"]["ses:configuration-set"] == ["course-events"]
    assert events[0]["mail"]["tags"]["ses:caller-identity"] == ["ses-smtp-user"]
