"""SES bulk sends (v1 SendBulkTemplatedEmail, v2 SendBulkEmail) and v2 list management, on the
one sending path of every other send. moto has no SendBulkEmail (HTTP 404), accepts v1 bulk
sends to unverified recipients in the sandbox, delivers nowhere, has no UpdateContact, and a
templated send with ListManagementOptions fails for want of ``{{amazonSESUnsubscribeUrl}}``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend

from tests.backend.ses.helpers import (
    events_pipeline,
    grant_production,
    mails,
    make_client,
    read_events,
    verified_address,
    verified_domain,
)

SENDER = "news@example.com"
TEMPLATE = {
    "TemplateName": "weekly",
    "TemplateContent": {
        "Subject": "Hello {{name}}",
        "Text": "Dear {{name}} from {{city}}. Leave: {{amazonSESUnsubscribeUrl}}",
    },
}
DATA = '{"name": "N", "city": "C"}'
PLAIN = {
    "TemplateName": "plain",
    "TemplateContent": {"Subject": "Hi {{name}}", "Text": "Dear {{name}} from {{city}}."},
}


def _entry(to: str, **data: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"Destination": {"ToAddresses": [to]}}
    if data:
        entry["ReplacementEmailContent"] = {
            "ReplacementTemplate": {"ReplacementTemplateData": json.dumps(data)}
        }
    return entry


def _bulk(backend: Backend, entries: list[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
    extra.setdefault(
        "DefaultContent",
        {"Template": {"TemplateName": "plain", "TemplateData": '{"name": "friend", "city": "Oz"}'}},
    )
    return make_client(backend, "sesv2").send_bulk_email(
        FromEmailAddress=SENDER, BulkEmailEntries=entries, **extra
    )["BulkEmailEntryResults"]


def _setup(backend: Backend, production: bool = True) -> Any:
    verified_domain(backend)
    sesv2 = make_client(backend, "sesv2")
    sesv2.create_email_template(**PLAIN)
    sesv2.create_email_template(**TEMPLATE)
    if production:
        grant_production(backend)
    return sesv2


def _subjects(backend: Backend, to: str) -> list[str]:
    """The subjects of the mail SES delivered to ``to`` (not verification requests)."""
    return [m["subject"] for m in mails(backend, to) if m["source"] == "ses"]


def _code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def test_send_bulk_email_one_message_per_entry_with_merged_data(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendBulkEmail.html: "Composes
    an email message to multiple destinations." Each BulkEmailEntryResult
    (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_BulkEmailEntryResult.html) has
    "SUCCESS: Amazon SES accepted the message" and "MessageId: The unique message identifier";
    an entry's ReplacementTags replace the DefaultEmailTags of that name; each message is one
    Send event of the configuration set; an entry's ReplacementTemplateData
    (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_ReplacementTemplate.html) gives
    "replacement values to apply to the template", over the default TemplateData."""
    _setup(backend)
    _, queue = events_pipeline(backend, types=("SEND",))
    results = _bulk(
        backend,
        [
            _entry("ann@example.org", name="Ann"),
            {
                **_entry("bob@example.org", city="Rome"),
                "ReplacementTags": [{"Name": "campaign", "Value": "rome"}],
            },
        ],
        DefaultEmailTags=[{"Name": "campaign", "Value": "weekly"}],
        ConfigurationSetName="course-events",
    )
    assert [r["Status"] for r in results] == ["SUCCESS", "SUCCESS"]
    assert len({r["MessageId"] for r in results}) == 2
    sends = {e["mail"]["messageId"]: e["mail"] for e in read_events(backend, queue, want=2)}
    assert set(sends) == {r["MessageId"] for r in results}
    assert sends[results[0]["MessageId"]]["tags"]["campaign"] == ["weekly"]
    assert sends[results[1]["MessageId"]]["tags"]["campaign"] == ["rome"]
    ann, bob = mails(backend, "ann@example.org"), mails(backend, "bob@example.org")
    assert [m["subject"] for m in ann] == ["Hi Ann"]
    assert "Dear Ann from Oz." in ann[0]["text"]
    assert [m["subject"] for m in bob] == ["Hi friend"]
    assert "Dear friend from Rome." in bob[0]["text"]
    assert ann[0]["recipients"] == ["ann@example.org"]
    quota = make_client(backend, "sesv2").get_account()["SendQuota"]
    assert quota["SentLast24Hours"] == 2


def test_send_bulk_email_follows_the_sandbox_entry_by_entry(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html: in the sandbox
    "You can only send mail to verified email addresses and domains" and "a maximum of 1
    message per second". An entry to an unverified address is MESSAGE_REJECTED, one past the
    rate ACCOUNT_THROTTLED (API_BulkEmailEntryResult.html: "ACCOUNT_THROTTLED: The number of
    emails you can send has been reduced ..."), each with its Error; the others are sent."""
    _setup(backend, production=False)
    verified_address(backend, "ann@example.org")
    verified_address(backend, "bob@example.org")
    results = _bulk(
        backend,
        [
            _entry("ann@example.org"),
            _entry("stranger@example.org"),
            _entry("bob@example.org"),
        ],
    )
    assert [r["Status"] for r in results] == ["SUCCESS", "MESSAGE_REJECTED", "ACCOUNT_THROTTLED"]
    assert "stranger@example.org" in results[1]["Error"]
    assert "MessageId" not in results[1]
    assert _subjects(backend, "ann@example.org") == ["Hi friend"]
    assert _subjects(backend, "bob@example.org") == []
    backend.advance_clock(1)
    assert [r["Status"] for r in _bulk(backend, [_entry("bob@example.org")])] == ["SUCCESS"]


def test_send_bulk_email_refuses_the_whole_call(backend: Backend) -> None:
    """API_SendBulkEmail.html, Errors: "MessageRejected: The message can't be sent because it
    contains invalid content" (here: an unverified sender, as for SendEmail), "NotFoundException:
    The resource you attempted to access doesn't exist" (the template), "BadRequestException:
    The input you provided is invalid" (no entries, more than 50)."""
    sesv2 = _setup(backend)
    with pytest.raises(ClientError) as raised:
        sesv2.send_bulk_email(
            FromEmailAddress="someone@elsewhere.net",
            DefaultContent={"Template": {"TemplateName": "plain", "TemplateData": "{}"}},
            BulkEmailEntries=[_entry("ann@example.org")],
        )
    assert _code(raised) == "MessageRejected"
    with pytest.raises(ClientError) as raised:
        _bulk(
            backend,
            [_entry("ann@example.org")],
            DefaultContent={"Template": {"TemplateName": "nope", "TemplateData": "{}"}},
        )
    assert _code(raised) == "NotFoundException"
    with pytest.raises(ClientError) as raised:
        _bulk(backend, [_entry(f"r{i}@example.org") for i in range(51)])
    assert _code(raised) == "BadRequestException"
    assert mails(backend, "ann@example.org") == []


def test_v1_bulk_templated_email_follows_the_sandbox(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/APIReference/API_SendBulkTemplatedEmail.html:
    one BulkEmailDestinationStatus per destination
    (https://docs.aws.amazon.com/ses/latest/APIReference/API_BulkEmailDestinationStatus.html:
    "Success: Amazon SES accepted the message ...", "MessageRejected: The message was
    rejected"); in the sandbox an unverified recipient is rejected as for every other send
    (request-production-access.html). moto accepted it and delivered nothing."""
    _setup(backend, production=False)
    verified_address(backend, "ann@example.org")
    ses = make_client(backend, "ses")
    answer = ses.send_bulk_templated_email(
        Source=SENDER,
        Template="plain",
        DefaultTemplateData='{"name": "friend", "city": "Oz"}',
        Destinations=[
            {"Destination": {"ToAddresses": ["stranger@example.org"]}},
            {
                "Destination": {"ToAddresses": ["ann@example.org"]},
                "ReplacementTemplateData": '{"name": "Ann"}',
            },
        ],
    )
    statuses = answer["Status"]
    assert [s["Status"] for s in statuses] == ["MessageRejected", "Success"]
    assert "stranger@example.org" in statuses[0]["Error"]
    assert statuses[1]["MessageId"]
    assert _subjects(backend, "ann@example.org") == ["Hi Ann"]
    assert mails(backend, "stranger@example.org") == []
    with pytest.raises(ClientError) as raised:
        ses.send_bulk_templated_email(
            Source=SENDER,
            Template="missing",
            DefaultTemplateData="{}",
            Destinations=[{"Destination": {"ToAddresses": ["ann@example.org"]}}],
        )
    assert _code(raised) == "TemplateDoesNotExist"


def _contact_list(sesv2: Any) -> None:
    sesv2.create_contact_list(
        ContactListName="readers",
        Topics=[
            {
                "TopicName": "weekly",
                "DisplayName": "Weekly news",
                "Description": "Every Monday",
                "DefaultSubscriptionStatus": "OPT_IN",
            },
            {
                "TopicName": "offers",
                "DisplayName": "Offers",
                "Description": "Now and then",
                "DefaultSubscriptionStatus": "OPT_OUT",
            },
        ],
    )
    for address in ("ann@example.org", "bob@example.org"):
        sesv2.create_contact(ContactListName="readers", EmailAddress=address)


def _send_weekly(sesv2: Any, to: str) -> str:
    return sesv2.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [to]},
        Content={"Template": {"TemplateName": "weekly", "TemplateData": DATA}},
        ListManagementOptions={"ContactListName": "readers", "TopicName": "weekly"},
    )["MessageId"]


def test_list_managed_send_has_a_working_unsubscribe_link(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_ListManagementOptions.html:
    "An object used to specify a list or topic to which an email belongs, which will be used
    when a contact chooses to unsubscribe." The template gets ``{{amazonSESUnsubscribeUrl}}``
    and the message a List-Unsubscribe header; opening the link opts the contact out of the
    topic, and "SES will emit bounce events for messages sent to contacts that unsubscribed"
    (https://docs.aws.amazon.com/ses/latest/dg/sending-email-list-management.html): the next
    send with the topic does not reach them, and reaches the contact who stayed."""
    sesv2 = _setup(backend)
    _contact_list(sesv2)
    _, queue = events_pipeline(backend, types=("BOUNCE",))
    _send_weekly(sesv2, "ann@example.org")
    [mail] = mails(backend, "ann@example.org")
    link = next(u for u in mail["links"] if "/_course/ses/unsubscribe" in u)
    assert mail["headers"]["List-Unsubscribe"] == f"<{link}>"
    with urllib.request.urlopen(link) as page:
        assert page.status == 200
    contact = sesv2.get_contact(ContactListName="readers", EmailAddress="ann@example.org")
    assert contact["TopicPreferences"] == [{"TopicName": "weekly", "SubscriptionStatus": "OPT_OUT"}]
    sesv2.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["ann@example.org"]},
        ConfigurationSetName="course-events",
        Content={"Template": {"TemplateName": "weekly", "TemplateData": DATA}},
        ListManagementOptions={"ContactListName": "readers", "TopicName": "weekly"},
    )
    _send_weekly(sesv2, "bob@example.org")
    assert len(mails(backend, "ann@example.org")) == 1
    assert len(mails(backend, "bob@example.org")) == 1
    [bounce] = read_events(backend, queue, want=1)
    assert bounce["bounce"]["bouncedRecipients"][0]["emailAddress"] == "ann@example.org"
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(link.split("token=")[0] + "token=forged")
    assert gone.value.code == 404


def test_list_managed_send_skips_contacts_opted_out(backend: Backend) -> None:
    """A contact opted out of the topic (by the topic's default, DefaultSubscriptionStatus
    OPT_OUT, https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Topic.html) or of the
    whole list ("UnsubscribeAll: A boolean value status noting if the contact is unsubscribed
    from all contact list topics",
    https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_UpdateContact.html) is not
    mailed; one who opted in with UpdateContact is, with the link in the body and the one-click
    headers (RFC 8058, which the subscription management guide names). A list that does not exist:
    NotFoundException (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html)."""
    sesv2 = _setup(backend)
    _contact_list(sesv2)
    sesv2.update_contact(
        ContactListName="readers",
        EmailAddress="bob@example.org",
        TopicPreferences=[{"TopicName": "offers", "SubscriptionStatus": "OPT_IN"}],
    )

    def offer(to: str, contact_list: str = "readers", topic: str | None = "offers") -> None:
        options = {"ContactListName": contact_list}
        if topic:
            options["TopicName"] = topic
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": [to]},
            Content={
                "Simple": {
                    "Subject": {"Data": "Offer"},
                    "Body": {"Text": {"Data": "Leave: {{amazonSESUnsubscribeUrl}}"}},
                }
            },
            ListManagementOptions=options,
        )

    offer("ann@example.org")
    offer("bob@example.org")
    assert _subjects(backend, "ann@example.org") == []
    [bob] = mails(backend, "bob@example.org")
    link = bob["headers"]["List-Unsubscribe"].strip("<>")
    assert bob["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in bob["text"]
    one_click = urllib.request.Request(link, data=b"List-Unsubscribe=One-Click", method="POST")
    with urllib.request.urlopen(one_click) as page:  # RFC 8058's one-click POST
        assert page.status == 200
    preferences = sesv2.get_contact(ContactListName="readers", EmailAddress="bob@example.org")
    assert preferences["TopicPreferences"] == [
        {"TopicName": "offers", "SubscriptionStatus": "OPT_OUT"}
    ]
    sesv2.update_contact(
        ContactListName="readers", EmailAddress="bob@example.org", UnsubscribeAll=True
    )
    offer("bob@example.org", topic=None)
    assert len(mails(backend, "bob@example.org")) == 1
    with pytest.raises(ClientError) as raised:
        offer("bob@example.org", contact_list="nope")
    assert _code(raised) == "NotFoundException"


def test_contact_lists_as_aws_keeps_them(backend: Backend) -> None:
    """https://docs.aws.amazon.com/ses/latest/dg/sending-email-list-management.html: "Only one
    contact list is allowed per AWS account" (CreateContactList: LimitExceededException);
    CreateContact of an existing contact: AlreadyExistsException
    (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateContact.html); GetContact
    gives "TopicDefaultPreferences: The default topic preferences applied to the contact"
    (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetContact.html); ListContacts
    filters by "FilteredStatus" and "TopicFilter"
    (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_ListContactsFilter.html)."""
    sesv2 = make_client(backend, "sesv2")
    _contact_list(sesv2)
    with pytest.raises(ClientError) as raised:
        sesv2.create_contact_list(ContactListName="second")
    assert _code(raised) == "LimitExceededException"
    with pytest.raises(ClientError) as raised:
        sesv2.create_contact(ContactListName="readers", EmailAddress="ann@example.org")
    assert _code(raised) == "AlreadyExistsException"
    ann = sesv2.get_contact(ContactListName="readers", EmailAddress="ann@example.org")
    assert ann["TopicDefaultPreferences"] == [
        {"TopicName": "weekly", "SubscriptionStatus": "OPT_IN"},
        {"TopicName": "offers", "SubscriptionStatus": "OPT_OUT"},
    ]
    sesv2.update_contact(
        ContactListName="readers",
        EmailAddress="ann@example.org",
        TopicPreferences=[{"TopicName": "weekly", "SubscriptionStatus": "OPT_OUT"}],
    )

    def listed(status: str, default: bool) -> list[str]:
        found = sesv2.list_contacts(
            ContactListName="readers",
            Filter={
                "FilteredStatus": status,
                "TopicFilter": {
                    "TopicName": "weekly",
                    "UseDefaultIfPreferenceUnavailable": default,
                },
            },
        )["Contacts"]
        return sorted(c["EmailAddress"] for c in found)

    assert listed("OPT_OUT", False) == ["ann@example.org"]
    assert listed("OPT_IN", True) == ["bob@example.org"]
    assert listed("OPT_IN", False) == []
    assert len(sesv2.list_contacts(ContactListName="readers")["Contacts"]) == 2
    with pytest.raises(ClientError) as raised:
        sesv2.update_contact(ContactListName="readers", EmailAddress="zed@example.org")
    assert _code(raised) == "NotFoundException"
