"""SES identities verified as AWS verifies them: DKIM and TXT records in Route 53, MAIL FROM MX
records, and the link in an address's verification email. moto verifies everything at once."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend

from tests.backend.ses.helpers import (
    dkim_records,
    hosted_zone,
    mails,
    make_client,
    put_records,
    simple,
    verification_link,
    verified_address,
    verified_domain,
)

MOTO_TOKENS = {
    "vvjuipp74whm76gqoni7qmwwn4w4qusjiainivf6sf",
    "3frqe7jn4obpuxjpwpolz6ipb3k5nvt2nhjpik2oy",
    "wrqplteh7oodxnad7hsl4mixg2uavzneazxv5sxi2",
}


def test_a_domain_is_pending_with_three_random_dkim_tokens(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/APIReference/API_VerifyDomainDkim.html: "Using these
    tokens, you need to create DNS CNAME records that point to DKIM public keys that are hosted
    by Amazon SES." Until then the identity is not verified; moto says SUCCESS at once and hands
    every domain the same three tokens."""
    sesv2 = make_client(backend, "sesv2")
    created = sesv2.create_email_identity(EmailIdentity="example.com")
    assert created["VerifiedForSendingStatus"] is False
    tokens = created["DkimAttributes"]["Tokens"]
    assert len(set(tokens)) == 3 and not set(tokens) & MOTO_TOKENS
    assert created["DkimAttributes"]["Status"] == "PENDING"
    other = sesv2.create_email_identity(EmailIdentity="example.org")["DkimAttributes"]["Tokens"]
    assert not set(tokens) & set(other)
    identity = sesv2.get_email_identity(EmailIdentity="example.com")
    assert identity["VerificationStatus"] == "PENDING"
    v1 = make_client(backend, "ses").get_identity_verification_attributes(
        Identities=["example.com"]
    )
    assert v1["VerificationAttributes"]["example.com"]["VerificationStatus"] == "Pending"


def test_the_three_cnames_in_route53_verify_dkim_and_the_domain(backend: Backend) -> None:
    """API_VerifyDomainDkim.html: "Name: token._domainkey.example.com, Type: CNAME, Value:
    token.dkim.amazonses.com ... When Amazon SES detects that you've added these records to the
    DNS configuration for a domain, you can start sending email from that domain." v1 and v2
    report the same state."""
    sesv2, ses = make_client(backend, "sesv2"), make_client(backend, "ses")
    tokens = sesv2.create_email_identity(EmailIdentity="example.com")["DkimAttributes"]["Tokens"]
    zone = hosted_zone(backend, "example.com")
    put_records(backend, zone, dkim_records("example.com", tokens)[:2])
    assert sesv2.get_email_identity(EmailIdentity="example.com")["DkimAttributes"]["Status"] == (
        "PENDING"
    )
    put_records(backend, zone, dkim_records("example.com", tokens)[2:])
    identity = sesv2.get_email_identity(EmailIdentity="example.com")
    assert identity["DkimAttributes"]["Status"] == "SUCCESS"
    assert identity["VerificationStatus"] == "SUCCESS"
    assert identity["VerifiedForSendingStatus"] is True
    dkim = ses.get_identity_dkim_attributes(Identities=["example.com"])["DkimAttributes"]
    assert dkim["example.com"] == {
        "DkimEnabled": True,
        "DkimVerificationStatus": "Success",
        "DkimTokens": tokens,
    }
    listed = sesv2.list_email_identities()["EmailIdentities"]
    assert listed == [
        {
            "IdentityType": "DOMAIN",
            "IdentityName": "example.com",
            "SendingEnabled": True,
            "VerificationStatus": "SUCCESS",
        }
    ]


def test_records_in_a_private_zone_do_not_count(backend: Backend) -> None:
    """SES looks the records up in public DNS (easy-dkim-setup-domain: "publish ... to the DNS
    server of your domain"); a Route 53 private hosted zone answers only inside its VPCs."""
    sesv2 = make_client(backend, "sesv2")
    tokens = sesv2.create_email_identity(EmailIdentity="example.com")["DkimAttributes"]["Tokens"]
    zone = hosted_zone(backend, "example.com", private=True)
    put_records(backend, zone, dkim_records("example.com", tokens))
    assert sesv2.get_email_identity(EmailIdentity="example.com")["VerificationStatus"] == "PENDING"


def test_seventy_two_hours_without_records_fail_and_removed_records_are_a_temporary_failure(
    backend: Backend,
) -> None:
    """VerifyDomainDkim: "This detection process might take up to 72 hours"; the MAIL FROM states
    table (https://docs.aws.amazon.com/ses/latest/dg/mail-from.html) shows the same pattern:
    Pending for 72 hours, then Failed; a record that disappears after success is a
    TemporaryFailure."""
    sesv2 = make_client(backend, "sesv2")
    sesv2.create_email_identity(EmailIdentity="late.example")
    backend.advance_clock(73 * 3600)
    identity = sesv2.get_email_identity(EmailIdentity="late.example")
    assert (identity["VerificationStatus"], identity["DkimAttributes"]["Status"]) == (
        "FAILED",
        "FAILED",
    )
    tokens, zone = verified_domain(backend, "example.com")
    assert sesv2.get_email_identity(EmailIdentity="example.com")["VerificationStatus"] == "SUCCESS"
    put_records(backend, zone, dkim_records("example.com", tokens)[:1], action="DELETE")
    assert sesv2.get_email_identity(EmailIdentity="example.com")["DkimAttributes"]["Status"] == (
        "TEMPORARY_FAILURE"
    )


def test_v1_domain_verification_by_txt_record(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/APIReference/API_VerifyDomainIdentity.html returns
    "A TXT record that you must place in the DNS settings of the domain to complete domain
    verification" (name _amazonses.<domain>); moto's token is the same for every domain."""
    ses = make_client(backend, "ses")
    token = ses.verify_domain_identity(Domain="example.com")["VerificationToken"]
    assert token != ses.verify_domain_identity(Domain="example.org")["VerificationToken"]
    put_records(
        backend,
        hosted_zone(backend, "example.com"),
        [("_amazonses.example.com", "TXT", f'"{token}"')],
    )
    found = ses.get_identity_verification_attributes(Identities=["example.com"])
    assert found["VerificationAttributes"]["example.com"] == {
        "VerificationStatus": "Success",
        "VerificationToken": token,
    }
    dkim = ses.get_identity_dkim_attributes(Identities=["example.com"])["DkimAttributes"]
    assert dkim["example.com"]["DkimVerificationStatus"] == "NotStarted"
    tokens = ses.verify_domain_dkim(Domain="example.com")["DkimTokens"]
    assert len(tokens) == 3 and not set(tokens) & MOTO_TOKENS


def test_an_address_is_verified_by_the_link_in_its_email(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html#verify-email-addresses-
    procedure: "Check the inbox of the email address used to create your identity and look for an
    email from no-reply-aws@amazon.com. Open the email and click the link to complete the
    verification process." moto verifies the address at once and mails nothing."""
    sesv2 = make_client(backend, "sesv2")
    sesv2.create_email_identity(EmailIdentity="learner@example.net")
    assert sesv2.get_email_identity(EmailIdentity="learner@example.net")["VerificationStatus"] == (
        "PENDING"
    )
    letter = [m for m in mails(backend, "learner@example.net") if m["source"] == "verification"]
    assert letter[0]["sender"] == "Amazon Web Services <no-reply-aws@amazon.com>"
    assert "Email Address Verification Request" in letter[0]["subject"]
    link = letter[0]["links"][0]
    assert link.startswith(backend.url + "/_course/ses/verify?")
    with urllib.request.urlopen(link) as page:
        assert b"Congratulations" in page.read()
    assert sesv2.get_email_identity(EmailIdentity="learner@example.net")["VerifiedForSendingStatus"]
    ses = make_client(backend, "ses")
    assert ses.get_identity_verification_attributes(Identities=["learner@example.net"])[
        "VerificationAttributes"
    ]["learner@example.net"] == {"VerificationStatus": "Success"}
    ses.verify_email_identity(EmailAddress="pending@example.net")  # v1 mails a link too
    assert ses.list_verified_email_addresses()["VerifiedEmailAddresses"] == ["learner@example.net"]


def test_a_verification_link_expires_after_24_hours(backend: Backend) -> None:
    """creating-identities.html: "The link in the verification message expires after 24
    hours." An expired link verifies nothing and the identity fails."""
    make_client(backend, "ses").verify_email_identity(EmailAddress="slow@example.net")
    link = verification_link(backend, "slow@example.net")
    backend.advance_clock(25 * 3600)
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(link)
    assert raised.value.code == 410
    status = make_client(backend, "sesv2").get_email_identity(EmailIdentity="slow@example.net")
    assert status["VerificationStatus"] == "FAILED"


def test_custom_mail_from_needs_exactly_one_mx_record(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/mail-from.html: "you must publish exactly one MX
    record to the DNS server of your MAIL FROM domain"; the state is "pending" while SES looks
    for it, then Success. moto's v2 call is missing (HTTP 404) and its v1 status is Success at
    once."""
    _, zone = verified_domain(backend)
    sesv2, ses = make_client(backend, "sesv2"), make_client(backend, "ses")
    sesv2.put_email_identity_mail_from_attributes(
        EmailIdentity="example.com", MailFromDomain="no-reply.example.com"
    )
    attributes = sesv2.get_email_identity(EmailIdentity="example.com")["MailFromAttributes"]
    assert attributes == {
        "MailFromDomain": "no-reply.example.com",
        "MailFromDomainStatus": "PENDING",
        "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
    }
    put_records(
        backend,
        zone,
        [("no-reply.example.com", "MX", "10 feedback-smtp.us-east-1.amazonses.com")],
    )
    found = ses.get_identity_mail_from_domain_attributes(Identities=["example.com"])
    assert found["MailFromDomainAttributes"]["example.com"] == {
        "MailFromDomain": "no-reply.example.com",
        "MailFromDomainStatus": "Success",
        "BehaviorOnMXFailure": "UseDefaultValue",
    }
    mx = ["10 feedback-smtp.us-east-1.amazonses.com", "20 mx.example.com"]
    put_records(backend, zone, [("no-reply.example.com", "MX", mx)])
    assert sesv2.get_email_identity(EmailIdentity="example.com")["MailFromAttributes"][
        "MailFromDomainStatus"
    ] == ("TEMPORARY_FAILURE")


def test_mail_from_must_be_a_subdomain_and_reject_message_refuses_to_send(
    backend: Backend,
) -> None:
    """mail-from.html: "The MAIL FROM domain has to be a subdomain of the verified identity"; with
    Reject message, "If the custom MAIL FROM domain's MX record is not set up correctly, Amazon
    SES returns a MailFromDomainNotVerified error". With the default value the bounce address is
    on amazonses.com."""
    verified_domain(backend)
    sesv2 = make_client(backend, "sesv2")
    with pytest.raises(ClientError) as raised:
        sesv2.put_email_identity_mail_from_attributes(
            EmailIdentity="example.com", MailFromDomain="bounce.example.org"
        )
    assert raised.value.response["Error"]["Code"] == "BadRequestException"
    sesv2.put_email_identity_mail_from_attributes(
        EmailIdentity="example.com",
        MailFromDomain="no-reply.example.com",
        BehaviorOnMxFailure="REJECT_MESSAGE",
    )
    with pytest.raises(ClientError) as raised:
        sesv2.send_email(
            FromEmailAddress="no-reply@example.com",
            Destination={"ToAddresses": ["success@simulator.amazonses.com"]},
            Content=simple(),
        )
    assert raised.value.response["Error"]["Code"] == "MailFromDomainNotVerifiedException"
    sesv2.put_email_identity_mail_from_attributes(
        EmailIdentity="example.com",
        MailFromDomain="no-reply.example.com",
        BehaviorOnMxFailure="USE_DEFAULT_VALUE",
    )
    verified_address(backend, "learner@example.net")
    sesv2.send_email(
        FromEmailAddress="no-reply@example.com",
        Destination={"ToAddresses": ["learner@example.net"]},
        Content=simple(),
    )
    delivered = next(m for m in mails(backend, "learner@example.net") if m["source"] == "ses")
    assert delivered["headers"]["Return-Path"].endswith("@us-east-1.amazonses.com>")


def test_delivered_mail_carries_a_valid_dkim_signature(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-easy.html: with
    Easy DKIM "Amazon SES ... DKIM-signs your outgoing email". The signature verifies with the key
    the token's CNAME points to (selector = token, d = the domain)."""
    import dkim

    tokens, _ = verified_domain(backend)
    verified_address(backend, "learner@example.net")
    make_client(backend, "sesv2").send_email(
        FromEmailAddress="no-reply@example.com",
        Destination={"ToAddresses": ["learner@example.net"]},
        Content=simple("Signed", "body"),
    )
    mail = next(m for m in mails(backend, "learner@example.net") if m["subject"] == "Signed")
    header = mail["headers"]["DKIM-Signature"]
    assert "d=example.com" in header and f"s={tokens[0]}" in header
    # the headers SES signs, those of them the message has (no Cc, no Reply-To here)
    assert "h=from : to : subject : date : message-id : mime-version : content-type;" in header

    def dns(name: bytes, timeout: int = 5) -> bytes:
        token = name.decode().split(".", 1)[0]
        with urllib.request.urlopen(f"{backend.url}/_course/ses/dkim/{token}") as response:
            return response.read()

    raw = mail["raw"].encode()
    raw = raw[raw.index(b"DKIM-Signature") :]  # the receiving side's Return-Path is not signed
    assert dkim.verify(raw, dnsfunc=dns)


def test_identity_calls_errors_and_pages(backend: Backend) -> None:
    """API_CreateEmailIdentity: AlreadyExistsException "The resource specified in your request
    already exists"; API_GetEmailIdentity: NotFoundException; API_ListEmailIdentities: "PageSize
    ... If the number of results is larger than the number you specified in this parameter, then
    the response includes a NextToken element"."""
    sesv2 = make_client(backend, "sesv2")
    for i in range(5):
        sesv2.create_email_identity(EmailIdentity=f"d{i}.example")
    sesv2.tag_resource(
        ResourceArn="arn:aws:ses:us-east-1:123456789012:email-identity/d1.example",
        Tags=[{"Key": "team", "Value": "course"}],
    )
    assert sesv2.get_email_identity(EmailIdentity="d1.example")["Tags"] == [
        {"Key": "team", "Value": "course"}
    ]
    with pytest.raises(ClientError) as raised:
        sesv2.create_email_identity(EmailIdentity="d0.example")
    assert raised.value.response["Error"]["Code"] == "AlreadyExistsException"
    with pytest.raises(ClientError) as raised:
        sesv2.get_email_identity(EmailIdentity="nobody.example")
    assert raised.value.response["Error"]["Code"] == "NotFoundException"
    page = sesv2.list_email_identities(PageSize=2)
    names = [i["IdentityName"] for i in page["EmailIdentities"]]
    while "NextToken" in page:
        page = sesv2.list_email_identities(PageSize=2, NextToken=page["NextToken"])
        names += [i["IdentityName"] for i in page["EmailIdentities"]]
    assert names == [f"d{i}.example" for i in range(5)]
    sesv2.delete_email_identity(EmailIdentity="d0.example")
    assert "d0.example" not in make_client(backend, "ses").list_identities()["Identities"]


def test_deleting_an_address_under_a_verified_domain(backend: Backend) -> None:
    """API_DeleteIdentity: "Deletes the specified identity (an email address or a domain) from the
    list of verified identities." Deleting an address that is no identity changes nothing; moto
    answers HTTP 500 when that address's domain is an identity."""
    verified_domain(backend)
    ses = make_client(backend, "ses")
    ses.verify_email_identity(EmailAddress="someone@example.com")
    ses.delete_identity(Identity="someone@example.com")
    ses.delete_identity(Identity="nobody@example.com")
    assert ses.list_identities()["Identities"] == ["example.com"]


def test_v2_email_templates_share_the_v1_store(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateEmailTemplate.html
    "Creates an email template"; moto has no v2 template calls (HTTP 404). A template made with
    either API is the same template, and SendEmail with Content.Template renders it."""
    sesv2, ses = make_client(backend, "sesv2"), make_client(backend, "ses")
    sesv2.create_email_template(
        TemplateName="welcome",
        TemplateContent={"Subject": "Hi {{name}}", "Text": "Welcome, {{name}}!"},
    )
    assert ses.get_template(TemplateName="welcome")["Template"]["SubjectPart"] == "Hi {{name}}"
    assert sesv2.get_email_template(TemplateName="welcome")["TemplateContent"] == {
        "Subject": "Hi {{name}}",
        "Text": "Welcome, {{name}}!",
    }
    listed = sesv2.list_email_templates()["TemplatesMetadata"]
    assert [t["TemplateName"] for t in listed] == ["welcome"]
    verified_domain(backend)
    verified_address(backend, "learner@example.net")
    sesv2.send_email(
        FromEmailAddress="no-reply@example.com",
        Destination={"ToAddresses": ["learner@example.net"]},
        Content={"Template": {"TemplateName": "welcome", "TemplateData": '{"name": "An"}'}},
    )
    mail = next(m for m in mails(backend, "learner@example.net") if m["source"] == "ses")
    assert (mail["subject"], mail["text"].strip()) == ("Hi An", "Welcome, An!")
    sesv2.delete_email_template(TemplateName="welcome")
    with pytest.raises(ClientError) as raised:
        sesv2.get_email_template(TemplateName="welcome")
    assert raised.value.response["Error"]["Code"] == "NotFoundException"
