"""SNS email subscriptions behave as AWS documents (``backend/ext/sns_email.py``).

moto 5.2 confirms an email subscription at once, accepts any token and mails nothing. On AWS the
subscription waits for confirmation, a confirmation email carries the token and a link, and only a
confirmed subscription gets emails. The kit's mailbox stands in for the inbox.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend
from course.backend.sns.messages import string_to_sign
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.conftest import make_client

SUBSCRIBE = "https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html"
CONFIRM = "https://docs.aws.amazon.com/sns/latest/api/API_ConfirmSubscription.html"
EMAIL = "learner@example.com"


def mails(backend: Backend, to: str = EMAIL) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{backend.url}/_course/mailbox/messages?to={to}") as r:
        return json.loads(r.read())


def confirm_link(mail: dict[str, Any]) -> str:
    return next(link for link in mail["links"] if "Token=" in link)


def token_of(mail: dict[str, Any]) -> str:
    return parse_qs(urlparse(confirm_link(mail)).query)["Token"][0]


@pytest.fixture
def sns(backend: Backend) -> Any:
    return make_client(backend, "sns")


@pytest.fixture
def topic(sns: Any) -> str:
    return sns.create_topic(Name="course-topic")["TopicArn"]


def test_an_email_subscription_waits_for_confirmation(
    backend: Backend, sns: Any, topic: str
) -> None:
    """Subscribe (SUBSCRIBE): "If the endpoint type is HTTP/S or email, or if the endpoint and the
    topic are not in the same Amazon Web Services account, the endpoint owner must run the
    ConfirmSubscription action to confirm the subscription." Its response is "the string 'pending
    confirmation' if the subscription requires confirmation"."""
    answer = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    assert answer["SubscriptionArn"] == "pending confirmation"
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    assert sns.list_subscriptions()["Subscriptions"][0]["SubscriptionArn"] == "PendingConfirmation"
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attributes["SubscriptionsPending"], attributes["SubscriptionsConfirmed"]) == ("1", "0")


def test_return_subscription_arn_gives_the_arn_of_a_pending_subscription(
    sns: Any, topic: str
) -> None:
    """Subscribe (SUBSCRIBE): "if the API request parameter ReturnSubscriptionArn is true, then
    the value is always the subscription ARN, even if the subscription requires confirmation";
    GetSubscriptionAttributes then says PendingConfirmation "true"."""
    arn = sns.subscribe(
        TopicArn=topic, Protocol="email", Endpoint=EMAIL, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    assert arn.startswith(f"{topic}:")
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "true"
    assert attributes["ConfirmationWasAuthenticated"] == "false"


def test_the_confirmation_email_carries_a_token_and_a_link(
    backend: Backend, sns: Any, topic: str
) -> None:
    """https://docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html: Amazon SNS "sends a
    confirmation email to the address", whose link confirms the subscription; ConfirmSubscription
    validates "the token sent to the endpoint by an earlier Subscribe action" (CONFIRM)."""
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    (mail,) = mails(backend)
    assert mail["subject"] == "AWS Notification - Subscription Confirmation"
    assert mail["sender"] == "AWS Notifications <no-reply@sns.amazonaws.com>"
    assert "You have chosen to subscribe to the topic" in mail["text"] and topic in mail["text"]
    link = urlparse(confirm_link(mail))
    assert f"{link.scheme}://{link.netloc}" == backend.url
    assert link.path == "/_course/sns/confirm"
    assert parse_qs(link.query)["TopicArn"] == [topic]
    assert len(token_of(mail)) >= 64


def test_confirm_subscription_needs_the_mailed_token(
    backend: Backend, sns: Any, topic: str
) -> None:
    """ConfirmSubscription (CONFIRM): "If the token is valid, the action creates a new
    subscription and returns its Amazon Resource Name (ARN)." Any other token is rejected
    (InvalidParameter); moto accepted every token."""
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    with pytest.raises(ClientError) as raised:
        sns.confirm_subscription(TopicArn=topic, Token="0" * 128)
    assert raised.value.response["Error"]["Code"] == "InvalidParameter"
    arn = sns.confirm_subscription(TopicArn=topic, Token=token_of(mails(backend)[0]))[
        "SubscriptionArn"
    ]
    assert arn.startswith(f"{topic}:")
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    assert attributes["ConfirmationWasAuthenticated"] == "true"
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]] == [arn]
    with pytest.raises(ClientError) as raised:
        sns.confirm_subscription(TopicArn=f"{topic}-other", Token=token_of(mails(backend)[0]))
    assert raised.value.response["Error"]["Code"] == "NotFound"


def test_opening_the_link_confirms_too(backend: Backend, sns: Any, topic: str) -> None:
    """The email's "Confirm subscription" link confirms without an API call (a browser click), and
    the page says "Subscription confirmed!" with the subscription's id."""
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    with urllib.request.urlopen(confirm_link(mails(backend)[0])) as response:
        page = response.read().decode()
    assert "Subscription confirmed!" in page
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert subscription["SubscriptionArn"] in page
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
    assert attributes["Attributes"]["ConfirmationWasAuthenticated"] == "false"


def test_a_wrong_link_token_is_refused(backend: Backend, sns: Any, topic: str) -> None:
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    bad = confirm_link(mails(backend)[0]).replace("Token=", "Token=0")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(bad)
    assert raised.value.code == 400
    assert sns.list_subscriptions()["Subscriptions"][0]["SubscriptionArn"] == "PendingConfirmation"


def test_nothing_is_mailed_until_the_subscription_is_confirmed(
    backend: Backend, sns: Any, topic: str
) -> None:
    """Until confirmed, a subscription gets no notifications (the confirmation is the endpoint
    owner's consent: "Verifies an endpoint owner's intent to receive messages", CONFIRM)."""
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    sns.publish(TopicArn=topic, Message="too early", Subject="Early")
    assert [m["subject"] for m in mails(backend)] == [
        "AWS Notification - Subscription Confirmation"
    ]


def test_a_confirmed_subscription_gets_each_message_as_an_email(
    backend: Backend, sns: Any, topic: str
) -> None:
    """An email notification has the published Subject as subject (AWS's default is "AWS
    Notification Message"), the message as body and the unsubscribe footer: "If you wish to stop
    receiving notifications from this topic, please click or visit the link below to
    unsubscribe"."""
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    arn = sns.confirm_subscription(TopicArn=topic, Token=token_of(mails(backend)[0]))[
        "SubscriptionArn"
    ]
    published = sns.publish(
        TopicArn=topic,
        Message="Hello! This is a test email.",
        Subject="Hello from the course",
        MessageAttributes={"env": {"DataType": "String", "StringValue": "dev"}},
    )
    sns.publish(TopicArn=topic, Message="no subject")
    notification, plain = mails(backend)[1:]
    assert notification["subject"] == "Hello from the course"
    assert notification["source"] == "sns"
    assert notification["text"].startswith("Hello! This is a test email.\n\n--\n")
    assert "please click or visit the link below to unsubscribe" in notification["text"]
    assert notification["headers"]["x-amz-sns-message-id"] == published["MessageId"]
    assert notification["headers"]["x-amz-sns-subscription-arn"] == arn
    assert plain["subject"] == "AWS Notification Message"


def test_the_topic_display_name_is_the_sender_name(backend: Backend, sns: Any) -> None:
    topic = sns.create_topic(Name="named", Attributes={"DisplayName": "Course News"})["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    assert mails(backend)[0]["sender"] == "Course News <no-reply@sns.amazonaws.com>"


def test_the_unsubscribe_link_ends_the_subscription(backend: Backend, sns: Any, topic: str) -> None:
    """The footer's link unsubscribes the address; later messages are not mailed, and the topic
    counts one deleted subscription."""
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    sns.confirm_subscription(TopicArn=topic, Token=token_of(mails(backend)[0]))
    sns.publish(TopicArn=topic, Message="first", Subject="One")
    link = next(x for x in mails(backend)[1]["links"] if "/_course/sns/unsubscribe" in x)
    with urllib.request.urlopen(link) as response:
        assert "Subscription removed!" in response.read().decode()
    sns.publish(TopicArn=topic, Message="second", Subject="Two")
    assert [m["subject"] for m in mails(backend)][1:] == ["One"]
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsDeleted"] == "1"


def test_unsubscribe_works_and_rejects_what_is_not_an_arn(
    backend: Backend, sns: Any, topic: str
) -> None:
    """Unsubscribe needs a subscription ARN: passing the "pending confirmation" answer fails with
    "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"
    (the error AWS gives; moto accepted it silently)."""
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    with pytest.raises(ClientError) as raised:
        sns.unsubscribe(SubscriptionArn="pending confirmation")
    assert raised.value.response["Error"]["Message"] == (
        "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"
    )
    arn = sns.confirm_subscription(TopicArn=topic, Token=token_of(mails(backend)[0]))[
        "SubscriptionArn"
    ]
    sns.unsubscribe(SubscriptionArn=arn)
    sns.publish(TopicArn=topic, Message="after", Subject="After")
    assert len(mails(backend)) == 1


def test_subscribing_again_while_pending_mails_a_new_token(
    backend: Backend, sns: Any, topic: str
) -> None:
    """A second Subscribe for a pending address resends the confirmation; either token works."""
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    first, second = mails(backend)
    assert token_of(first) != token_of(second)
    sns.confirm_subscription(TopicArn=topic, Token=token_of(first))
    assert sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)[
        "SubscriptionArn"
    ].startswith(f"{topic}:")
    assert len(mails(backend)) == 2


def test_unconfirmed_subscriptions_are_deleted_after_48_hours(
    backend: Backend, sns: Any, topic: str
) -> None:
    """https://docs.aws.amazon.com/sns/latest/dg/sns-delete-subscription-topic.html: "Amazon SNS
    automatically deletes unconfirmed subscriptions after 48 hours." The token then fails."""
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    token = token_of(mails(backend)[0])
    backend.advance_clock(48 * 3600 + 1)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    with pytest.raises(ClientError):
        sns.confirm_subscription(TopicArn=topic, Token=token)


def test_email_json_gets_signed_json_messages(backend: Backend, sns: Any, topic: str) -> None:
    """email-json endpoints get the JSON documents of
    https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html: first a
    SubscriptionConfirmation with Token and SubscribeURL, then Notifications. Each is signed:
    "Amazon SNS uses the SignatureVersion to create a signature" over the documented fields, and
    the certificate is at SigningCertURL
    (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html)."""
    sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint=EMAIL)
    confirmation = json.loads(mails(backend)[0]["text"])
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert confirmation["TopicArn"] == topic
    _verify(confirmation)
    sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
    published = sns.publish(TopicArn=topic, Message="hi", Subject="Subject")
    notification = json.loads(mails(backend)[1]["text"])
    assert notification["Type"] == "Notification"
    assert notification["MessageId"] == published["MessageId"]
    assert (notification["Message"], notification["Subject"]) == ("hi", "Subject")
    _verify(notification)
    tampered = {**notification, "Message": "changed"}
    with pytest.raises(Exception, match="Signature"):
        _verify(tampered)


def _verify(message: dict[str, Any]) -> None:
    assert message["SignatureVersion"] == "2"
    with urllib.request.urlopen(message["SigningCertURL"]) as response:
        certificate = x509.load_pem_x509_certificate(response.read())
    try:
        certificate.public_key().verify(  # type: ignore[call-arg,union-attr]
            base64.b64decode(message["Signature"]),
            string_to_sign(message).encode(),
            padding.PKCS1v15(),  # type: ignore[arg-type]
            hashes.SHA256(),  # type: ignore[arg-type]
        )
    except Exception as exc:
        raise AssertionError("Signature does not verify") from exc


def test_subscribe_rejects_an_endpoint_that_is_not_an_address(sns: Any, topic: str) -> None:
    """Subscribe (SUBSCRIBE): for the email protocol the endpoint is "an email address"."""
    with pytest.raises(ClientError) as raised:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="learner")
    assert raised.value.response["Error"]["Message"] == "Invalid parameter: Email address"


def test_the_mailbox_page_shows_the_links(backend: Backend, sns: Any, topic: str) -> None:
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    with urllib.request.urlopen(f"{backend.url}/_course/mailbox") as response:
        page = response.read().decode()
    assert "Subscription Confirmation" in page
    assert "/_course/sns/confirm?" in page


def test_subscribing_again_after_48_hours_starts_over(
    backend: Backend, sns: Any, topic: str
) -> None:
    """Once SNS has deleted an unconfirmed subscription (after 48 hours), subscribing the address
    again is a new subscription: "pending confirmation", with a new confirmation email."""
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    first = token_of(mails(backend)[0])
    backend.advance_clock(48 * 3600 + 1)
    answer = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
    assert answer["SubscriptionArn"] == "pending confirmation"
    assert [token_of(m) != first for m in mails(backend)] == [False, True]
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]


def test_messages_signed_at_the_same_time_share_one_key() -> None:
    """The signing key is made on first use; two messages signed at that moment (two requests
    on the threaded server) must both verify with the one certificate served at SigningCertURL."""
    from concurrent.futures import ThreadPoolExecutor

    from course.backend.sns import messages as sns_messages

    sns_messages._make_key_and_cert.cache_clear()
    document = {"Type": "Notification", "MessageId": "m", "TopicArn": "t", "Message": "x"}
    with ThreadPoolExecutor(4) as pool:
        signed = list(pool.map(lambda _: sns_messages.sign(dict(document), "http://b"), range(4)))
    certificate = x509.load_pem_x509_certificate(sns_messages.certificate_pem())
    for message in signed:
        certificate.public_key().verify(  # type: ignore[call-arg,union-attr]
            base64.b64decode(message["Signature"]),
            string_to_sign(message).encode(),
            padding.PKCS1v15(),  # type: ignore[arg-type]
            hashes.SHA256(),  # type: ignore[arg-type]
        )
