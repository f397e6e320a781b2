"""Lab 09 · SES production access, and reputation: events to SNS and SQS, a bounce-rate alarm."""

from __future__ import annotations

import json
from dataclasses import dataclass

from course.checks.api import CheckFailed, NotAttempted, check
from course.checks.context import Aws
from course.checks.readers.ses import is_verified_recipient, sends, smtp_sessions, sns_events
from course.checks.readers.sqs import Received, receives
from course.checks.readers.sqs import sends as queue_sends
from course.flow import Flow
from course.rules.ses_review import review

LAB = "09"
TITLE = "SES production access and reputation"
#: Graded at twenty times the wall clock's speed: its AWS waits take a twentieth of their time
#: (as fast as the check tests and the stress run show every score unchanged).
TIME_SCALE = 20
CONFIG_SET = "course-events"
TOPIC = "ses-events"
QUEUE = "ses-events-queue"
ALARM_NAMESPACE, ALARM_METRIC = "AWS/SES", "Reputation.BounceRate"
MAX_THRESHOLD = 0.05  # AWS puts an account under review at a 5% bounce rate
UPWARD = ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold")


@check(
    "request-complete",
    points=3,
    kind="flow",
    statement="A production-access request (PutAccountDetails, ProductionAccessEnabled) whose "
    "use case answers the four questions, in sentences with a concrete practice each: where "
    "recipients come from, what mail is sent, how people unsubscribe, how bounces and "
    "complaints are handled.",
    hint="Write UseCaseDescription as four sentences in your own words, one per question (a "
    "label such as 'List: ...' helps; keywords alone answer nothing), and pass MailType, "
    "WebsiteURL and ProductionAccessEnabled=True.",
)
def test_request_complete(aws: Aws) -> None:
    requests = aws.flow.calls_to("sesv2", "PutAccountDetails")
    if not requests:
        raise NotAttempted("PutAccountDetails was never called")
    accepted = [c for c in requests if c.ok]
    if not accepted:
        raise CheckFailed(f"every PutAccountDetails failed: {requests[-1].error_code}")
    if any(review(c.request).granted for c in accepted):
        return
    reasons = review(accepted[-1].request).reasons
    raise CheckFailed("the latest request is incomplete: " + " ".join(reasons))


@check(
    "granted",
    points=1,
    kind="state",
    statement="The review granted production access: GetAccount shows ProductionAccessEnabled "
    "and ReviewDetails.Status GRANTED.",
    hint="Poll sesv2.get_account() until Details.ReviewDetails.Status is no longer PENDING.",
)
def test_granted(aws: Aws) -> None:
    account = aws.client("sesv2").get_account()
    status = account.get("Details", {}).get("ReviewDetails", {}).get("Status")
    if status is None:
        raise NotAttempted("no production-access request was reviewed")
    if status != "GRANTED" or not account.get("ProductionAccessEnabled"):
        raise CheckFailed(
            f"the review is {status}"
            + (": the reason is in the email SES sent your contacts" if status == "DENIED" else "")
        )


@dataclass(frozen=True)
class _Attempt:
    """One attempt to send, through the API or the SMTP interface, and what SES answered."""

    ok: bool
    recipients: tuple[str, ...]
    error: str


def _attempts(aws: Aws) -> list[_Attempt]:
    """Every send attempt: API calls (v1 and v2; v1 bulk sends destination by destination) from
    the flow, then, on the local backend, the messages of the SMTP interface's sessions (SMTP is
    not an API call)."""
    found = [_Attempt(s.ok, s.recipients, s.error_code) for s in sends(aws.flow)]
    bulk = aws.flow.calls_to("ses", "SendBulkTemplatedEmail")
    if bulk and not aws.client("sesv2").get_account().get("ProductionAccessEnabled"):
        bulk = []  # the local backend accepts v1 bulk sends in the sandbox, where AWS does not
    for call in bulk:
        statuses = call.response.get("Status", []) if call.ok else []
        for i, entry in enumerate(call.request.get("Destinations", [])):
            to = entry.get("Destination") or {}
            # BulkEmailDestinationStatus: Status "Success" and a MessageId (moto: the id only)
            answer = statuses[i] if i < len(statuses) else {"Status": call.error_code}
            status = answer.get("Status") or ("Success" if answer.get("MessageId") else "")
            found.append(
                _Attempt(
                    status == "Success",
                    tuple(
                        a.lower()
                        for k in ("ToAddresses", "CcAddresses", "BccAddresses")
                        for a in to.get(k, [])
                    ),
                    status,
                )
            )
    if aws.is_local:
        found += [
            _Attempt(
                bool(e.get("ok")),
                tuple(r.lower() for r in e.get("recipients", [])),
                "" if e.get("ok") else f"SMTP {e.get('reply', '')}",
            )
            for e in smtp_sessions(aws)
            if e.get("event") == "message"
        ]
    return found


@check(
    "sent-unverified",
    points=1,
    kind="flow",
    statement="Out of the sandbox, a message to a recipient that is not a verified identity "
    "was accepted (through the API, v1 or v2, single or bulk, or the SMTP interface).",
    hint="After the grant, send to an address you never verified (not the mailbox simulator).",
)
def test_sent_unverified(aws: Aws) -> None:
    verified: dict[str, bool] = {}  # one identity lookup per address, however often it was sent to

    def unverified(address: str) -> bool:
        if address not in verified:
            verified[address] = is_verified_recipient(aws, address)
        return not verified[address]

    candidates = [a for a in _attempts(aws) if any(unverified(r) for r in a.recipients)]
    if not candidates:
        raise NotAttempted("no message was sent to an unverified recipient")
    if any(a.ok for a in candidates):
        return
    last = candidates[-1]
    raise CheckFailed(
        f"every send to an unverified recipient failed; the last: {last.error or 'refused'} "
        "(MessageRejected means the account was still in the sandbox)"
    )


def _topic_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


@check(
    "event-destination",
    points=2,
    kind="state",
    statement=f"Configuration set {CONFIG_SET} has enabled event destinations (one, or one per "
    f"event type) that send BOUNCE and COMPLAINT events to SNS topic {TOPIC}.",
    hint="sesv2.create_configuration_set_event_destination(ConfigurationSetName=name("
    "'course-events'), EventDestinationName=..., EventDestination={'Enabled': True, "
    "'MatchingEventTypes': [...], 'SnsDestination': {'TopicArn': topic_arn}})",
)
def test_event_destination(aws: Aws) -> None:
    sesv2 = aws.client("sesv2")
    name = aws.name(CONFIG_SET)
    try:
        destinations = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    except sesv2.exceptions.NotFoundException:
        raise NotAttempted(f"there is no configuration set {name}") from None
    to_topic = [
        d
        for d in destinations.get("EventDestinations", [])
        if _topic_name((d.get("SnsDestination") or {}).get("TopicArn", "")) == aws.name(TOPIC)
    ]
    if not to_topic:
        raise CheckFailed(f"{name} has no event destination to the SNS topic {aws.name(TOPIC)}")
    enabled = {
        t.upper() for d in to_topic if d.get("Enabled") for t in d.get("MatchingEventTypes", [])
    }
    if {"BOUNCE", "COMPLAINT"} <= enabled:
        return
    destination = to_topic[-1]
    raise CheckFailed(
        f"the destination {destination.get('Name')} is "
        f"{'enabled' if destination.get('Enabled') else 'disabled'} and matches "
        f"{sorted(destination.get('MatchingEventTypes', []))}; the topic needs enabled "
        f"destinations for BOUNCE and COMPLAINT (enabled so far: {sorted(enabled) or 'none'})"
    )


def _forged(flow: Flow, queue: str, message: Received) -> bool:
    """A message the notebook put there itself: sent to the queue, or published to a topic,
    rather than an event SES published."""
    if message.message_id in {s.message_id for s in queue_sends(flow, queue)}:
        return True
    try:
        envelope = json.loads(message.body)
    except ValueError:
        return False
    published = set()
    for call in flow.calls_to("sns", "Publish", "PublishBatch", ok=True):
        published.add(call.response.get("MessageId"))
        published.update(e.get("MessageId") for e in call.response.get("Successful", []))
    return isinstance(envelope, dict) and envelope.get("MessageId") in published


@check(
    "events-captured",
    points=3,
    kind="flow",
    statement=f"A Bounce and a Complaint event were read from queue {QUEUE} (SES → SNS → SQS).",
    hint="Send with ConfigurationSetName to bounce@ and complaint@simulator.amazonses.com; the "
    "queue needs a policy that lets the topic send; receive with long polling.",
)
def test_events_captured(aws: Aws) -> None:
    queue = aws.name(QUEUE)
    received = [m for m in receives(aws.flow, queue) if not _forged(aws.flow, queue, m)]
    if not received:
        tried = aws.flow.calls_to("sqs", "ReceiveMessage", queue=queue)
        if not tried:
            raise NotAttempted(f"nothing was received from {queue}")
        raise CheckFailed(
            f"{len(tried)} ReceiveMessage call(s) on {queue} found no message: check the "
            "subscription, the queue policy and the ConfigurationSetName of the sends"
        )
    events = sns_events([m.body for m in received])
    kinds = {e.get("eventType") or e.get("notificationType") for e in events}
    missing = [k for k in ("Bounce", "Complaint") if k not in kinds]
    if missing:
        seen = ", ".join(sorted(k for k in kinds if k)) or "no SES event"
        raise CheckFailed(f"the queue gave {seen}; missing: {', '.join(missing)}")


def _alarm_metric(alarm: dict) -> tuple[str | None, str | None]:
    """The (namespace, metric name) an alarm watches: its own Namespace and MetricName, or, for
    an alarm on metric queries (``Metrics``), the metric of the query whose data it uses
    (``ReturnData``, or the only query)."""
    if alarm.get("MetricName"):
        return alarm.get("Namespace"), alarm.get("MetricName")
    queries = alarm.get("Metrics") or []
    used = [q for q in queries if q.get("ReturnData")] or (queries if len(queries) == 1 else [])
    for query in used:
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        if metric.get("MetricName"):
            return metric.get("Namespace"), metric.get("MetricName")
    return None, None


@check(
    "bounce-alarm",
    points=2,
    kind="state",
    statement=f"A CloudWatch alarm on {ALARM_NAMESPACE} {ALARM_METRIC} fires at a bounce rate of "
    "5% (0.05) or less (on a real account, one whose name starts with your prefix).",
    hint="cloudwatch.put_metric_alarm(Namespace='AWS/SES', MetricName='Reputation.BounceRate', "
    "Statistic='Average', Period=3600, EvaluationPeriods=1, Threshold=0.05, "
    "ComparisonOperator='GreaterThanOrEqualToThreshold', ...)",
)
def test_bounce_alarm(aws: Aws) -> None:
    cloudwatch = aws.client("cloudwatch")
    alarms = [  # on a shared account, the learner's own: the names name() gives
        a
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            **({"AlarmNamePrefix": aws.prefix} if aws.prefix else {})
        )
        for a in page.get("MetricAlarms", [])
    ]
    on_metric = [a for a in alarms if _alarm_metric(a) == (ALARM_NAMESPACE, ALARM_METRIC)]
    if not on_metric:
        if alarms:
            names = ", ".join(" ".join(map(str, _alarm_metric(a))) for a in alarms)
            raise CheckFailed(f"no alarm on {ALARM_NAMESPACE} {ALARM_METRIC} (alarms on: {names})")
        named = f" whose name starts with {aws.prefix}" if aws.prefix else ""
        raise NotAttempted(f"there is no CloudWatch alarm{named}")
    for alarm in on_metric:
        threshold = float(alarm.get("Threshold", 0))
        if alarm.get("ComparisonOperator") in UPWARD and 0 < threshold <= MAX_THRESHOLD:
            return
    alarm = on_metric[-1]
    threshold = float(alarm.get("Threshold", 0))
    if threshold > MAX_THRESHOLD:
        raise CheckFailed(
            f"the threshold is {threshold}: the metric is a fraction (0.05 is 5%), and AWS "
            "reviews an account at 5%, so alarm at 0.05 or lower"
        )
    raise CheckFailed(
        f"{alarm.get('AlarmName')} compares with {alarm.get('ComparisonOperator')} {threshold}: "
        "it must fire when the rate rises above a threshold between 0 and 0.05"
    )
