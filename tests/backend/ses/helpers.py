"""Shared steps of the SES tests: verified identities, production access, the events pipeline."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from botocore.config import Config
from course.backend.process import Backend

from tests import conftest


def make_client(backend: Backend, service: str, region: str = "us-east-1") -> Any:
    """A boto3 client on ``backend`` that does not retry, so throttling errors surface."""
    return conftest.make_client(
        backend, service, region, Config(retries={"max_attempts": 1, "mode": "standard"})
    )


def hosted_zone(backend: Backend, domain: str, private: bool = False) -> str:
    """A Route 53 hosted zone for ``domain`` (public unless ``private``); its id."""
    route53 = make_client(backend, "route53")
    kwargs: dict[str, Any] = {"Name": domain, "CallerReference": f"{domain}-{time.time()}"}
    if private:
        kwargs["VPC"] = {"VPCRegion": "us-east-1", "VPCId": "vpc-12345678"}
        kwargs["HostedZoneConfig"] = {"PrivateZone": True, "Comment": "private"}
    return route53.create_hosted_zone(**kwargs)["HostedZone"]["Id"]


def put_records(
    backend: Backend,
    zone_id: str,
    records: list[tuple[str, str, str | list[str]]],
    action: str = "UPSERT",
) -> None:
    """UPSERT (or with ``action``, DELETE) (name, type, value or values) records in a zone."""
    make_client(backend, "route53").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": action,
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": kind,
                        "TTL": 300,
                        "ResourceRecords": [
                            {"Value": v} for v in ([value] if isinstance(value, str) else value)
                        ],
                    },
                }
                for name, kind, value in records
            ]
        },
    )


def dkim_records(domain: str, tokens: list[str]) -> list[tuple[str, str, str]]:
    return [(f"{t}._domainkey.{domain}", "CNAME", f"{t}.dkim.amazonses.com") for t in tokens]


def verified_domain(backend: Backend, domain: str = "example.com") -> tuple[list[str], str]:
    """Create ``domain`` with Easy DKIM and publish its CNAMEs; (tokens, zone id)."""
    sesv2 = make_client(backend, "sesv2")
    tokens = sesv2.create_email_identity(EmailIdentity=domain)["DkimAttributes"]["Tokens"]
    zone = hosted_zone(backend, domain)
    put_records(backend, zone, dkim_records(domain, tokens))
    return tokens, zone


def mails(backend: Backend, to: str | None = None) -> list[dict[str, Any]]:
    query = f"?to={to}" if to else ""
    with urllib.request.urlopen(f"{backend.url}/_course/mailbox/messages{query}") as response:
        return json.loads(response.read())


def verification_link(backend: Backend, address: str) -> str:
    found = [m for m in mails(backend, address) if m["source"] == "verification"]
    assert found, f"no verification email for {address}"
    return found[-1]["links"][0]


def verified_address(backend: Backend, address: str = "learner@example.net") -> None:
    """Create an email identity and open the link SES mailed it."""
    make_client(backend, "sesv2").create_email_identity(EmailIdentity=address)
    urllib.request.urlopen(verification_link(backend, address)).read()


COMPLETE_USE_CASE = (
    "Recipients are customers who sign up on our website and confirm their address. "
    "We send transactional mail: password resets and order receipts. "
    "Every message has an unsubscribe link. "
    "Bounces and complaints arrive through SNS and remove the address from our list."
)


def request_production(backend: Backend, use_case: str = COMPLETE_USE_CASE, **extra: Any) -> None:
    params: dict[str, Any] = {
        "MailType": "TRANSACTIONAL",
        "WebsiteURL": "https://www.example.com",
        "UseCaseDescription": use_case,
        "AdditionalContactEmailAddresses": ["contact@example.net"],
        "ProductionAccessEnabled": True,
    }
    params.update(extra)
    make_client(backend, "sesv2").put_account_details(**params)


def grant_production(backend: Backend) -> None:
    """A complete request, and the review's time passed on the backend's clock."""
    request_production(backend)
    backend.advance_clock(5)
    assert make_client(backend, "sesv2").get_account()["ProductionAccessEnabled"]


def simple(subject: str = "Hello", text: str = "Hi") -> dict[str, Any]:
    return {"Simple": {"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}}}


def events_pipeline(
    backend: Backend,
    config_set: str = "course-events",
    types: tuple[str, ...] = ("SEND", "DELIVERY", "BOUNCE", "COMPLAINT"),
    policy: bool = True,
    enabled: bool = True,
) -> tuple[str, str]:
    """Topic → queue (with or without the queue policy) and a configuration set publishing to
    it; (topic arn, queue url)."""
    sns, sqs = make_client(backend, "sns"), make_client(backend, "sqs")
    topic = sns.create_topic(Name="ses-events")["TopicArn"]
    url = sqs.create_queue(QueueName="ses-events-queue")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    if policy:
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                }
            ],
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(document)})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sesv2 = make_client(backend, "sesv2")
    sesv2.create_configuration_set(ConfigurationSetName=config_set)
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=config_set,
        EventDestinationName="to-sns",
        EventDestination={
            "Enabled": enabled,
            "MatchingEventTypes": list(types),
            "SnsDestination": {"TopicArn": topic},
        },
    )
    return topic, url


def read_events(backend: Backend, url: str, want: int, wait: float = 8.0) -> list[dict[str, Any]]:
    """SES events read from the queue until ``want`` arrived or ``wait`` seconds passed."""
    sqs = make_client(backend, "sqs")
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait
    while len(found) < want and time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in batch.get("Messages", []):
            found.append(json.loads(json.loads(message["Body"])["Message"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found
