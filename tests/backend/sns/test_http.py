"""SNS http/https subscriptions behave as AWS documents (``course.backend.sns.http_endpoints``,
``http_subscriptions``, and the pending state in ``email``).

moto 5.2 confirms an http/https subscription at once and POSTs notifications with moto's own
headers. On AWS the endpoint first gets a ``SubscriptionConfirmation`` POST, the subscription
stays pending until confirmed, and every notification is a signed JSON POST with SNS's headers.
The endpoint here is a real HTTP server on the loopback interface.
"""

from __future__ import annotations

import base64
import datetime
import json
import queue
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.conftest import make_client

HTTP_SUBSCRIBER = (
    "https://docs.aws.amazon.com/sns/latest/dg/sns-http-https-endpoint-as-subscriber.html"
)
HEADERS = "https://docs.aws.amazon.com/sns/latest/dg/http-header.html"
VERIFY = "https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html"
FORMATS = "https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html"
METRICS = "https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html"
WAIT = 10.0  # real seconds a POST may take to arrive


@dataclass
class Post:
    """One POST the endpoint received."""

    path: str
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class Endpoint:
    """A local HTTP server that records every POST and answers ``status``."""

    def __init__(self) -> None:
        self.posts: queue.Queue[Post] = queue.Queue()
        self.status = 200
        received, endpoint = self.posts, self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                received.put(Post(self.path, headers, body))
                self.send_response(endpoint.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sns"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def next(self) -> Post:
        return self.posts.get(timeout=WAIT)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    yield server
    server.close()


@pytest.fixture
def sns(backend: Backend) -> Any:
    return make_client(backend, "sns")


def string_to_sign(message: dict[str, Any]) -> bytes:
    """VERIFY: the fields, in this order, each as "name\\nvalue\\n" (Subject only if present):
    Notification: Message, MessageId, Subject, Timestamp, TopicArn, Type; SubscriptionConfirmation:
    Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type."""
    if message["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{n}\n{message[n]}\n" for n in names if n in message).encode()


def verify(message: dict[str, Any]) -> None:
    """VERIFY: fetch the certificate at SigningCertURL and check Signature (base64) with its
    public key, SHA1 for SignatureVersion 1 and SHA256 for 2; raises if it does not match."""
    with urllib.request.urlopen(message["SigningCertURL"]) as answer:
        certificate = x509.load_pem_x509_certificate(answer.read())
    algorithm = hashes.SHA1() if message["SignatureVersion"] == "1" else hashes.SHA256()
    certificate.public_key().verify(  # type: ignore[union-attr,call-arg]
        base64.b64decode(message["Signature"]),
        string_to_sign(message),
        padding.PKCS1v15(),  # type: ignore[arg-type]
        algorithm,
    )


def subscribe(sns: Any, topic: str, endpoint: Endpoint) -> Post:
    """Subscribe the endpoint; the SubscriptionConfirmation it received."""
    answer = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    assert answer["SubscriptionArn"] == "pending confirmation"
    return endpoint.next()


def test_an_http_endpoint_is_asked_to_confirm_and_gets_nothing_until_it_does(
    sns: Any, endpoint: Endpoint
) -> None:
    """HTTP_SUBSCRIBER: "Amazon SNS sends an HTTP POST request to the endpoint with a
    subscription confirmation message"; until confirmed the subscription is pending and
    receives no notifications. HEADERS: the POST carries x-amz-sns-message-type,
    x-amz-sns-message-id and x-amz-sns-topic-arn, "Content-Type set to text/plain;
    charset=UTF-8". The confirmation is signed (VERIFY). (moto confirmed at once.)"""
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    post = subscribe(sns, topic, endpoint)
    document = post.json
    assert post.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert post.headers["x-amz-sns-message-id"] == document["MessageId"]
    assert post.headers["x-amz-sns-topic-arn"] == topic
    assert post.headers["content-type"] == "text/plain; charset=UTF-8"
    assert document["Type"] == "SubscriptionConfirmation" and document["TopicArn"] == topic
    assert document["Token"] and document["SubscribeURL"].startswith("http")
    verify(document)
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    sns.publish(TopicArn=topic, Message="too early")  # HTTP deliveries are made within Publish
    assert endpoint.posts.empty()


def test_a_confirmed_endpoint_gets_signed_notifications_with_sns_headers(
    sns: Any, endpoint: Endpoint
) -> None:
    """ConfirmSubscription with the token confirms the subscription; then HEADERS: each
    Notification POST has x-amz-sns-message-type "Notification", x-amz-sns-message-id (the
    MessageId), x-amz-sns-topic-arn and x-amz-sns-subscription-arn; the body is the JSON
    notification (FORMATS: Type, MessageId, TopicArn, Subject, Message, Timestamp,
    SignatureVersion, Signature, SigningCertURL, UnsubscribeURL) and its signature verifies
    against the certificate at SigningCertURL (VERIFY)."""
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    token = subscribe(sns, topic, endpoint).json["Token"]
    arn = sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    sent = sns.publish(TopicArn=topic, Message="disk full", Subject="Alarm")
    post = endpoint.next()
    assert post.headers["x-amz-sns-message-type"] == "Notification"
    assert post.headers["x-amz-sns-message-id"] == sent["MessageId"]
    assert post.headers["x-amz-sns-topic-arn"] == topic
    assert post.headers["x-amz-sns-subscription-arn"] == arn
    document = post.json
    assert document["Type"] == "Notification" and document["MessageId"] == sent["MessageId"]
    assert (document["Message"], document["Subject"]) == ("disk full", "Alarm")
    assert document["SignatureVersion"] == "2"
    assert {"Timestamp", "UnsubscribeURL", "SigningCertURL"} <= set(document)
    verify(document)
    tampered = dict(document, Message="disk fine")
    with pytest.raises(InvalidSignature):
        verify(tampered)


def test_visiting_the_subscribe_url_confirms_and_version_1_signs_with_sha1(
    sns: Any, endpoint: Endpoint
) -> None:
    """HTTP_SUBSCRIBER: the endpoint may confirm by visiting the SubscribeURL (the subscription
    is then not "authenticated": ConfirmationWasAuthenticated false). VERIFY: "SignatureVersion1
    – Uses an SHA1 hash of the message", chosen with the topic attribute SignatureVersion."""
    topic = sns.create_topic(Name="alerts", Attributes={"SignatureVersion": "1"})["TopicArn"]
    confirmation = subscribe(sns, topic, endpoint).json
    assert confirmation["SignatureVersion"] == "1"
    verify(confirmation)
    with urllib.request.urlopen(confirmation["SubscribeURL"]) as answer:
        assert answer.status == 200
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    arn = subscription["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    assert attributes["ConfirmationWasAuthenticated"] == "false"
    sns.publish(TopicArn=topic, Message="hello")
    document = endpoint.next().json
    assert document["SignatureVersion"] == "1" and document["Message"] == "hello"
    verify(document)


def test_raw_delivery_posts_the_message_itself(sns: Any, endpoint: Endpoint) -> None:
    """https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html:
    with RawMessageDelivery an HTTP/S endpoint gets the message body alone, and the header
    "x-amz-sns-rawdelivery" is "true"."""
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    token = subscribe(sns, topic, endpoint).json["Token"]
    arn = sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"]
    sns.set_subscription_attributes(
        SubscriptionArn=arn, AttributeName="RawMessageDelivery", AttributeValue="true"
    )
    sns.publish(TopicArn=topic, Message='{"raw": 1}')
    post = endpoint.next()
    assert post.body == '{"raw": 1}'
    assert post.headers["x-amz-sns-rawdelivery"] == "true"


@pytest.mark.parametrize(
    ("protocol", "url"),
    [
        ("http", "http://example.com/hook"),
        ("https", "https://10.0.0.8/hook"),
        ("https", "http://127.0.0.1:9/hook"),
        ("http", "not a url"),
        ("http", "http://[::1/hook"),
        ("http", "http://127.0.0.1:99999/hook"),
    ],
)
def test_endpoints_the_backend_will_not_post_to_are_refused(
    sns: Any, protocol: str, url: str
) -> None:
    """The kit's backend POSTs to loopback endpoints only, and refuses others at Subscribe with
    AWS's error shape (InvalidParameter, "Invalid parameter: Endpoint ..."), as it refuses an
    endpoint whose scheme is not the protocol's (Subscribe, API_Subscribe.html: "For the http
    protocol, the (public) endpoint is a URL beginning with http://"; "https://" for https)."""
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    with pytest.raises(ClientError) as refused:
        sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=url)
    assert refused.value.response["Error"]["Code"] == "InvalidParameter"
    assert refused.value.response["Error"]["Message"].startswith("Invalid parameter: Endpoint")
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_an_endpoint_answering_an_error_is_a_failed_delivery(
    backend: Backend, sns: Any, endpoint: Endpoint
) -> None:
    """HTTP_SUBSCRIBER: the endpoint must answer with a 2xx status for SNS to count the message
    delivered; METRICS: NumberOfNotificationsFailed, "The number of messages that Amazon SNS
    failed to deliver", and NumberOfNotificationsDelivered."""
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    token = subscribe(sns, topic, endpoint).json["Token"]
    sns.confirm_subscription(TopicArn=topic, Token=token)
    endpoint.status = 500
    sns.publish(TopicArn=topic, Message="refused")
    endpoint.status = 204
    sns.publish(TopicArn=topic, Message="taken")
    assert [endpoint.next().json["Message"] for _ in range(2)] == ["refused", "taken"]
    cloudwatch = make_client(backend, "cloudwatch")
    now = datetime.datetime.now(datetime.UTC)

    def total(name: str) -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/SNS",
            MetricName=name,
            Dimensions=[{"Name": "TopicName", "Value": "alerts"}],
            StartTime=now - datetime.timedelta(hours=1),
            EndTime=now + datetime.timedelta(hours=1),
            Period=7200,
            Statistics=["Sum"],
        )["Datapoints"]
        return sum(p["Sum"] for p in points)

    assert total("NumberOfNotificationsFailed") == 1
    assert total("NumberOfNotificationsDelivered") == 1
