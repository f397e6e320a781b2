"""SES reading helpers shared by the SES labs' checks (08, 09).

A send may come through the v1 API (SendEmail, SendRawEmail, SendTemplatedEmail), the v2 API
(SendEmail, simple, raw or templated) or SMTP. The first two are in the flow; SMTP is not an API
call, so what the backend's SMTP interface did is read from its session log, and what arrived
from its mailbox.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any

from course.checks.api import NotAttempted, NotCheckable
from course.flow import ApiCall, Flow

SEND_ACTIONS = {
    "ses": ("SendEmail", "SendRawEmail", "SendTemplatedEmail"),
    "sesv2": ("SendEmail",),
}


@dataclass(frozen=True)
class Send:
    """One send attempt through the API and what SES answered."""

    call: ApiCall
    source: str
    recipients: tuple[str, ...]
    configuration_set: str | None

    @property
    def ok(self) -> bool:
        return self.call.ok

    @property
    def error_code(self) -> str:
        return self.call.error_code


def _address(value: str) -> str:
    found = getaddresses([value])
    return (found[0][1] if found and found[0][1] else value).strip().lower()


def _raw_headers(data: str) -> tuple[str, list[str]]:
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raw = data.encode("utf-8", "replace")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    sender = str(message.get("From", ""))
    values = [str(v) for h in ("To", "Cc", "Bcc") for v in (message.get_all(h) or [])]
    return sender, [a for _, a in getaddresses(values) if a]


def sends(flow: Flow) -> list[Send]:
    """Every API send attempt, v1 and v2, in order."""
    found = []
    for call in flow:
        if call.action not in SEND_ACTIONS.get(call.service, ()):
            continue
        p = call.request
        destination = p.get("Destination") or {}
        recipients = [
            *destination.get("ToAddresses", []),
            *destination.get("CcAddresses", []),
            *destination.get("BccAddresses", []),
            *p.get("Destinations", []),
        ]
        source = p.get("Source") or p.get("FromEmailAddress") or ""
        raw = (p.get("RawMessage") or {}).get("Data") or (
            (p.get("Content") or {}).get("Raw") or {}
        ).get("Data")
        if raw and (not source or not recipients):
            header_from, header_to = _raw_headers(str(raw))
            source = source or header_from
            recipients = recipients or header_to
        found.append(
            Send(
                call=call,
                source=_address(source),
                recipients=tuple(_address(r) for r in recipients),
                configuration_set=p.get("ConfigurationSetName"),
            )
        )
    return found


def _local(aws: Any) -> Any:
    if not aws.is_local:
        raise NotCheckable("the kit's mailbox and SMTP log exist only on the local backend")
    return aws.backend


def mailbox(aws: Any, to: str | None = None) -> list[dict[str, Any]]:
    """The local backend's mailbox (mail to ``to`` if given); "not checkable" on a real account."""
    return _local(aws).mailbox(to)


def smtp_sessions(aws: Any) -> list[dict[str, Any]]:
    """What the backend's SMTP interface did: AUTH results and each message's reply."""
    return _local(aws).smtp_log()


def identity(aws: Any, name: str) -> dict[str, Any]:
    """SESv2 GetEmailIdentity of ``name``; "not attempted" if there is no such identity."""
    sesv2 = aws.client("sesv2")
    try:
        return sesv2.get_email_identity(EmailIdentity=name)
    except sesv2.exceptions.NotFoundException:
        raise NotAttempted(f"there is no SES identity {name}") from None


def is_verified_recipient(aws: Any, address: str) -> bool:
    """True when SES would accept ``address`` as a sandbox recipient (it or its domain verified)."""
    if address.lower().endswith("@simulator.amazonses.com"):
        return True
    sesv2 = aws.client("sesv2")
    domain = address.rsplit("@", 1)[-1]
    parts = domain.split(".")
    names = [address] + [".".join(parts[i:]) for i in range(len(parts) - 1)]
    for name in names:
        try:
            if sesv2.get_email_identity(EmailIdentity=name).get("VerifiedForSendingStatus"):
                return True
        except sesv2.exceptions.NotFoundException:
            continue
    return False


def records(aws: Any, name: str, record_type: str) -> list[str]:
    """Values of the ``record_type`` records named ``name`` in the account's public zones."""
    route53 = aws.client("route53")
    target = name.rstrip(".").lower()
    values: list[str] = []
    for zone in route53.list_hosted_zones().get("HostedZones", []):
        zone_name = zone["Name"].rstrip(".").lower()
        if zone.get("Config", {}).get("PrivateZone"):
            continue
        if target != zone_name and not target.endswith("." + zone_name):
            continue
        sets = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
        for rrset in sets:
            if rrset["Name"].rstrip(".").lower() == target and rrset["Type"] == record_type:
                values += [
                    r["Value"].strip('"').rstrip(".") for r in rrset.get("ResourceRecords", [])
                ]
    return values


def sns_events(bodies: list[str]) -> list[dict[str, Any]]:
    """SES event records out of SQS message bodies (SNS envelopes, or raw message delivery)."""
    found = []
    for body in bodies:
        try:
            document = json.loads(body)
        except ValueError:
            continue
        if isinstance(document, dict) and document.get("Type") == "Notification":
            try:
                document = json.loads(document.get("Message", ""))
            except ValueError:
                continue
        if isinstance(document, dict) and (
            "eventType" in document or "notificationType" in document
        ):
            found.append(document)
    return found
