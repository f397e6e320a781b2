"""What happens to SES mail after it is accepted: outcomes, event publishing, notifications.

- The mailbox simulator's addresses decide each recipient's outcome: ``success@`` delivered,
  ``bounce@`` a hard bounce (550 5.1.1 user unknown), ``ooto@`` delivered with an automatic
  reply, ``complaint@`` delivered then marked as spam, ``suppressionlist@`` a hard bounce as if
  on the suppression list (https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html
  #send-email-simulator). Any other recipient is delivered to the kit's mailbox.
- A configuration set's event destinations (``course.backend.ses.destinations``) receive the
  events they match; an SNS destination gets the event record AWS documents
  (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html).
- An identity's SNS notification topics (``SetIdentityNotificationTopic``) get the notification
  records, and bounces and complaints are forwarded by email to the sender unless feedback
  forwarding is off (https://docs.aws.amazon.com/ses/latest/dg/monitor-sending-activity-using-notifications-email.html).
- ``STATISTICS`` counts delivery attempts, bounces, complaints and rejects, for
  ``GetSendStatistics`` (answered in ``course.backend.ses.account_actions``).

SNS delivery: each record is published to its topic from a background thread (SES publishes
asynchronously) through moto's SNS backend, ``publish(message, arn=topic)``. That is the path
every message to a topic takes inside the backend: the kit's SNS extension replaces moto's topic
fan-out (``course.backend.sns.topics``), so the same delivery rules apply as to a learner's
Publish (an SQS subscription needs a queue policy that lets the topic send). It is not an API
call of the learner's, so, as on AWS, it is not in the learner's recorded flow.
"""

from __future__ import annotations

import datetime
import json
import queue
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from course.backend.core import moto_state
from course.backend.core.registry import on_reset
from course.backend.mail.mailbox import MAILBOX
from course.backend.ses.destinations import DESTINATIONS
from course.backend.ses.identities import address_of, is_simulator, notification_topics

EVENT_NAME = {"SEND": "Send", "DELIVERY": "Delivery", "BOUNCE": "Bounce", "COMPLAINT": "Complaint"}
MAILER_DAEMON = "MAILER-DAEMON@amazonses.com"


@dataclass
class SentMessage:
    """A message SES accepted, as the events describe it."""

    account_id: str
    region: str
    message_id: str
    timestamp: float
    source: str
    identity: str  # the verified identity that authorized the sender
    recipients: list[str]
    headers: list[tuple[str, str]]
    configuration_set: str | None = None
    tags: dict[str, list[str]] = field(default_factory=dict)
    caller: str = "course-learner"
    feedback_address: str = ""  # where bounce/complaint emails go (Return-Path or Source)
    unsubscribed: list[str] = field(default_factory=list)  # contacts who left the list or topic


def iso(ts: float) -> str:
    """An ISO 8601 UTC timestamp with milliseconds, as SES writes them in events."""
    moment = datetime.datetime.fromtimestamp(ts, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def outcome(recipient: str) -> str:
    """What the recipient's mail server does: delivery, bounce, suppressed, complaint or ooto."""
    if not is_simulator(recipient):
        return "delivery"
    local = address_of(recipient).split("@", 1)[0].split("+", 1)[0].lower()
    return {
        "bounce": "bounce",
        "suppressionlist": "suppressed",
        "complaint": "complaint",
        "ooto": "ooto",
    }.get(local, "delivery")


# ------------------------------------------------------------------ building the records


def _mail_object(sent: SentMessage, with_tags: bool = True) -> dict[str, Any]:
    headers = [{"name": k, "value": v} for k, v in sent.headers]
    lookup = {k.lower(): v for k, v in sent.headers}
    common: dict[str, Any] = {
        "from": [lookup.get("from", sent.source)],
        "messageId": sent.message_id,
    }
    for header, key in (("to", "to"), ("cc", "cc"), ("reply-to", "replyTo")):
        if header in lookup:
            common[key] = [a.strip() for a in lookup[header].split(",")]
    if "subject" in lookup:
        common["subject"] = lookup["subject"]
    if "date" in lookup:
        common["date"] = lookup["date"]
    mail: dict[str, Any] = {
        "timestamp": iso(sent.timestamp),
        "source": sent.source,
        "sourceArn": f"arn:aws:ses:{sent.region}:{sent.account_id}:identity/{sent.identity}",
        "sourceIp": "127.0.0.1",
        "sendingAccountId": sent.account_id,
        "messageId": sent.message_id,
        "destination": list(sent.recipients),
        "headersTruncated": False,
        "headers": headers,
        "commonHeaders": common,
    }
    if with_tags:
        tags = {
            "ses:source-ip": ["127.0.0.1"],
            "ses:from-domain": [address_of(sent.source).rsplit("@", 1)[-1]],
            "ses:caller-identity": [sent.caller],
        }
        if sent.configuration_set:
            tags["ses:configuration-set"] = [sent.configuration_set]
        tags.update(sent.tags)
        mail["tags"] = tags
    return mail


def _details(kind: str, recipients: list[str], sent: SentMessage) -> tuple[str, dict[str, Any]]:
    """(event type, its detail object) for the recipients that share an outcome."""
    later = iso(sent.timestamp + 1.0)
    feedback_id = f"0100{int(sent.timestamp * 1000):012x}-{uuid.uuid4()}-000000"
    if kind == "SEND":
        return "send", {}
    if kind == "DELIVERY":
        return "delivery", {
            "timestamp": later,
            "processingTimeMillis": 1000,
            "recipients": recipients,
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "a8-1.smtp-out.amazonses.com",
            "remoteMtaIp": "127.0.0.1",
        }
    if kind == "BOUNCE":
        bounced = []
        sub_type = "General"
        for r in recipients:
            if r in sent.unsubscribed:
                diagnostic = (
                    "Amazon SES did not send the message: the recipient unsubscribed from the "
                    "contact list or topic."
                )
            elif outcome(r) == "suppressed":
                sub_type = "Suppressed"
                diagnostic = (
                    "Amazon SES has suppressed sending to this address because it has a "
                    "recent history of bouncing as an invalid address."
                )
            else:
                diagnostic = "smtp; 550 5.1.1 user unknown"
            bounced.append(
                {
                    "emailAddress": r,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": diagnostic,
                }
            )
        return "bounce", {
            "bounceType": "Permanent",
            "bounceSubType": sub_type,
            "bouncedRecipients": bounced,
            "timestamp": later,
            "feedbackId": feedback_id,
            "reportingMTA": "dsn; a8-1.smtp-out.amazonses.com",
        }
    return "complaint", {
        "complainedRecipients": [{"emailAddress": r} for r in recipients],
        "timestamp": later,
        "feedbackId": feedback_id,
        "userAgent": "Amazon SES Mailbox Simulator",
        "complaintFeedbackType": "abuse",
        "arrivalDate": later,
    }


def groups(sent: SentMessage) -> dict[str, list[str]]:
    """Recipients by event type (SEND covers all of them)."""
    found: dict[str, list[str]] = {"SEND": list(sent.recipients)}
    for r in sent.recipients:
        kind = "bounce" if r in sent.unsubscribed else outcome(r)
        if kind in ("bounce", "suppressed"):
            found.setdefault("BOUNCE", []).append(r)
        else:
            found.setdefault("DELIVERY", []).append(r)
        if kind == "complaint":
            found.setdefault("COMPLAINT", []).append(r)
    return found


def event_record(kind: str, recipients: list[str], sent: SentMessage) -> dict[str, Any]:
    """The event-publishing record (``eventType``) of one outcome."""
    key, detail = _details(kind, recipients, sent)
    return {"eventType": EVENT_NAME[kind], "mail": _mail_object(sent), key: detail}


def notification_record(kind: str, recipients: list[str], sent: SentMessage) -> dict[str, Any]:
    """The identity-notification record (``notificationType``) of one outcome."""
    key, detail = _details(kind, recipients, sent)
    return {"notificationType": EVENT_NAME[kind], key: detail, "mail": _mail_object(sent, False)}


# ------------------------------------------------------------------ acting on a sent message


def record(sent: SentMessage) -> None:
    """Publish the message's events and notifications, forward feedback, count statistics."""
    grouped = groups(sent)
    publishing: list[tuple[str, str, dict[str, Any]]] = []
    if sent.configuration_set:
        for destination in list(
            DESTINATIONS.of(sent.account_id, sent.region, sent.configuration_set).values()
        ):
            topic = (destination.get("SnsDestination") or {}).get("TopicArn")
            if not destination.get("Enabled") or not topic:
                continue
            for kind, recipients in grouped.items():
                if kind in destination["MatchingEventTypes"]:
                    publishing.append((sent.region, topic, event_record(kind, recipients, sent)))
    topics = _identity_topics(sent)
    for kind, recipients in grouped.items():
        topic = topics.get(EVENT_NAME[kind])
        if topic and kind != "SEND":
            publishing.append((sent.region, topic, notification_record(kind, recipients, sent)))
    for item in publishing:
        PUBLISHER.submit(*item)
    _forward_feedback(sent, grouped, forwarding=topics.get("forwarding", True))
    _count(sent, grouped)


def _identity_topics(sent: SentMessage) -> dict[str, Any]:
    config = notification_topics(sent.account_id, sent.region, sent.identity)
    found = {k: v for k, v in config.items() if k in ("Bounce", "Complaint", "Delivery")}
    found["forwarding"] = config.get("feedback_forwarding_enabled", True)
    return found


def _forward_feedback(sent: SentMessage, grouped: dict[str, list[str]], forwarding: bool) -> None:
    """Bounce and complaint emails to the sender; the simulator's automatic replies."""
    to = sent.feedback_address or sent.source
    subject = next((v for k, v in sent.headers if k.lower() == "subject"), "")
    if forwarding:
        for r in grouped.get("BOUNCE", []):
            MAILBOX.deliver(
                source="ses",
                sender=MAILER_DAEMON,
                recipients=[to],
                subject="Delivery Status Notification (Failure)",
                text=(
                    f"An error occurred while trying to deliver the mail to the following "
                    f"recipients:\n{r}\n\nOriginal subject: {subject}\n"
                    "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown"
                ),
            )
        for r in grouped.get("COMPLAINT", []):
            MAILBOX.deliver(
                source="ses",
                sender="complaints@email-abuse.amazonses.com",
                recipients=[to],
                subject=f"Complaint about your message: {subject}",
                text=f"The recipient {r} marked your message ({sent.message_id}) as spam.",
            )
    for r in sent.recipients:
        if outcome(r) == "ooto":
            MAILBOX.deliver(
                source="ses",
                sender=r,
                recipients=[to],
                subject=f"Automatic reply: {subject}",
                text="I am out of the office and will reply when I return.",
                headers={"Auto-Submitted": "auto-replied"},
            )


#: GetSendStatistics covers the last two weeks, in 15-minute intervals.
STATISTICS_WINDOW, STATISTICS_INTERVAL = 14 * 24 * 3600, 900


class Statistics:
    """Per account and region: one entry per accepted message, for GetSendStatistics."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def clear(self) -> None:
        """Forget every entry (backend reset)."""
        with self.lock:
            self.entries.clear()

    def data_points(self, account_id: str, region: str, now: float) -> list[dict[str, Any]]:
        """GetSendStatistics' data points at ``now``: one per 15-minute interval of the last
        two weeks with activity, oldest first, each summing its messages' counts."""
        buckets: dict[int, dict[str, Any]] = {}
        with self.lock:
            entries = list(self.entries.get((account_id, region), []))
        for entry in entries:
            if now - entry["time"] > STATISTICS_WINDOW:
                continue
            start = int(entry["time"] // STATISTICS_INTERVAL * STATISTICS_INTERVAL)
            point = buckets.setdefault(
                start,
                {
                    "Timestamp": iso(start),
                    "DeliveryAttempts": 0,
                    "Bounces": 0,
                    "Complaints": 0,
                    "Rejects": 0,
                },
            )
            for key in ("DeliveryAttempts", "Bounces", "Complaints", "Rejects"):
                point[key] += entry[key]
        return [buckets[k] for k in sorted(buckets)]


STATISTICS = Statistics()
on_reset(STATISTICS.clear)


def _count(sent: SentMessage, grouped: dict[str, list[str]]) -> None:
    with STATISTICS.lock:
        STATISTICS.entries.setdefault((sent.account_id, sent.region), []).append(
            {
                "time": sent.timestamp,
                "DeliveryAttempts": len(sent.recipients),
                "Bounces": len(grouped.get("BOUNCE", [])),
                "Complaints": len(grouped.get("COMPLAINT", [])),
                "Rejects": 0,
            }
        )


# ------------------------------------------------------------------ publishing to SNS


class Publisher:
    """A background thread that publishes records to SNS topics, in order."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, str, dict[str, Any]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, region: str, topic_arn: str, record: dict[str, Any]) -> None:
        """Queue ``record`` for publishing to the topic, after those queued before it."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ses-events", daemon=True)
                self._thread.start()
        self._queue.put((region, topic_arn, record))

    def drain(self) -> None:
        """Forget what is not published yet (backend reset)."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def _run(self) -> None:
        while True:
            region, topic_arn, record = self._queue.get()
            try:
                self.publish(region, topic_arn, json.dumps(record))
            except Exception as exc:  # a missing topic must not stop later events
                print(f"ses events: could not publish to {topic_arn}: {exc}", flush=True)

    def publish(self, region: str, topic_arn: str, message: str) -> None:
        """Publish as SNS does for any sender: through moto's topic, whose fan-out is the kit's."""
        account_id = topic_arn.split(":")[4]
        moto_state.sns(account_id, region).publish(message, arn=topic_arn)


PUBLISHER = Publisher()
on_reset(PUBLISHER.drain)
