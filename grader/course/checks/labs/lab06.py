"""Lab 06 · SNS basics: a topic, an email subscription confirmed by its token, a published email."""

from __future__ import annotations

from typing import Any

from course.checks.api import CheckFailed, NotAttempted, NotCheckable, check
from course.checks.context import Aws
from course.checks.readers.sns import (
    Published,
    delivered_message_ids,
    is_string_type,
    mailbox,
    publishes,
    subscription_attributes,
    topic_arn,
)
from course.checks.readers.sns import subscriptions as topic_subscriptions

LAB = "06"
TITLE = "SNS basics"
#: Graded at ten times the wall clock's speed: its AWS waits take a tenth of their time.
TIME_SCALE = 10
TOPIC = "course-topic"
EMAIL = "learner@example.com"
SUBJECT = "Hello from the course"
ATTRIBUTE = ("env", "dev")


def _email_subscriptions(aws: Aws) -> list[dict[str, Any]]:
    """The topic's email subscriptions for the learner's address; "not attempted" if it has none.

    The address is ``learner@example.com`` on the local backend and the learner's own
    (``COURSE_EMAIL``) on a real account, where without that setting it is "not checkable". It is
    compared in any letter case (SNS keeps the address as typed; mail is delivered whatever its
    case).
    """
    email = aws.learner_email(EMAIL).lower()
    arn = topic_arn(aws, aws.name(TOPIC))
    found = topic_subscriptions(aws, arn)
    if not found:
        raise NotAttempted(f"{aws.name(TOPIC)} has no subscription yet")
    wanted = [
        s
        for s in found
        if s.get("Protocol") == "email" and str(s.get("Endpoint", "")).lower() == email
    ]
    if wanted:
        return wanted
    described = ", ".join(f"{s.get('Protocol')}:{s.get('Endpoint')}" for s in found)
    raise CheckFailed(
        f"{aws.name(TOPIC)} has no subscription with protocol email for {email} "
        f"(it has {described})"
    )


def _failed_confirmations(aws: Aws, arn: str) -> list[str]:
    """The error codes of ConfirmSubscription calls for the topic that SNS refused."""
    try:
        calls = aws.flow.calls_to("sns", "ConfirmSubscription", ok=False)
    except NotCheckable:  # a real account: no record of the calls
        return []
    return [c.error_code for c in calls if c.request.get("TopicArn") == arn]


@check(
    "topic",
    points=1,
    kind="state",
    statement=f"A standard SNS topic named {TOPIC} exists.",
    hint=f"sns.create_topic(Name=name('{TOPIC}')) returns its TopicArn.",
)
def test_topic(aws: Aws) -> None:
    topic_arn(aws, aws.name(TOPIC))


@check(
    "email-subscription",
    points=1,
    kind="state",
    statement=f"The topic has an email subscription for {EMAIL} (your COURSE_EMAIL on a real "
    "account; protocol email, not email-json).",
    hint="sns.subscribe(TopicArn=topic_arn, Protocol='email', Endpoint=EMAIL). "
    "It answers 'pending confirmation': that is expected.",
)
def test_email_subscription(aws: Aws) -> None:
    _email_subscriptions(aws)


@check(
    "confirmed",
    points=3,
    kind="state",
    statement="The email subscription is confirmed (no longer PendingConfirmation).",
    hint="Read the confirmation email (the kit's mailbox, or your inbox on a real account), take "
    "the Token from its link and call sns.confirm_subscription(TopicArn=..., Token=token), or "
    "open the link.",
)
def test_confirmed(aws: Aws) -> None:
    """Passes when one of the learner's email subscriptions is confirmed. Still pending reads as
    "not attempted" (subscribing leaves it pending: that is the lab's step 2, not a mistake)
    unless a ConfirmSubscription for the topic was refused (a wrong token): then it fails."""
    # A subscription listed as "PendingConfirmation" reads as pending without a call.
    candidates = _email_subscriptions(aws)
    states = [subscription_attributes(aws, s).get("PendingConfirmation") for s in candidates]
    if any(state != "true" for state in states):
        return
    refused = _failed_confirmations(aws, topic_arn(aws, aws.name(TOPIC)))
    if refused:
        raise CheckFailed(
            f"ConfirmSubscription was refused ({', '.join(sorted(set(refused)))}) and the "
            "subscription is still PendingConfirmation: use the Token from the confirmation "
            "email's link, for this topic"
        )
    raise NotAttempted(
        "the subscription is still PendingConfirmation: confirm it with the token from the "
        "confirmation email (SNS delivers nothing to it until then)"
    )


def _is_right(published: Published) -> bool:
    """Subject ``Hello from the course`` and a String (or ``String.<label>``) attribute env=dev."""
    name, value = ATTRIBUTE
    data_type = str(published.attributes.get(name, {}).get("DataType", ""))
    return (
        published.subject == SUBJECT
        and is_string_type(data_type)
        and published.attribute(name) == value
    )


def _attempts(aws: Aws) -> list[Published]:
    """The publishes to the topic that are attempts at step 4; "not attempted" if none.

    The lab itself publishes once while the subscription is pending, with neither Subject nor
    message attributes, to show that it reaches nobody. A bare publish that reached no inbox is
    that demonstration, not an attempt; one that was emailed (the subscription was confirmed),
    or one with a Subject or attributes, is.
    """
    sent = publishes(aws.flow, topic_arn(aws, aws.name(TOPIC)))
    if not sent:
        raise NotAttempted(f"nothing was published to {aws.name(TOPIC)}")
    bare = [p for p in sent if not p.subject and not p.attributes]
    emailed = delivered_message_ids(aws) if bare else set()
    attempts = [p for p in sent if p.subject or p.attributes or p.message_id in emailed]
    if not attempts:
        raise NotAttempted(
            f"{len(sent)} message(s) without Subject or attributes were published to "
            f"{aws.name(TOPIC)} and reached nobody, like the lab's demonstration before "
            f"confirming; publish with Subject {SUBJECT!r} and env=dev once it is confirmed"
        )
    return attempts


@check(
    "published",
    points=2,
    kind="flow",
    statement=f"A message was published to the topic with Subject '{SUBJECT}' and a String "
    "message attribute env = dev.",
    hint="sns.publish(TopicArn=..., Subject='Hello from the course', Message='...', "
    "MessageAttributes={'env': {'DataType': 'String', 'StringValue': 'dev'}})",
)
def test_published(aws: Aws) -> None:
    """Passes for one such Publish or PublishBatch entry (client or resource API alike). The
    lab's own bare demonstration publish is not an attempt (see ``_attempts``); otherwise the
    last attempt is explained."""
    sent = _attempts(aws)
    if any(_is_right(p) for p in sent):
        return
    last = sent[-1]
    wrong = []
    if last.subject != SUBJECT:
        wrong.append(f"Subject is {last.subject!r}, expected {SUBJECT!r}")
    env = last.attributes.get(ATTRIBUTE[0])
    if env is None:
        wrong.append("there is no message attribute env")
    elif not is_string_type(str(env.get("DataType"))) or env.get("StringValue") != ATTRIBUTE[1]:
        wrong.append(
            f"attribute env is {env.get('DataType')} {env.get('StringValue')!r}, "
            "expected String 'dev'"
        )
    raise CheckFailed(f"{len(sent)} message(s) published; the last one: " + "; ".join(wrong))


@check(
    "delivered",
    points=3,
    kind="state",
    statement=f"The published message arrived as an email to {EMAIL} with its subject.",
    hint="SNS emails only confirmed subscriptions: confirm first, then publish. The email's "
    "subject is the Subject you published.",
)
def test_delivered(aws: Aws) -> None:
    mails = mailbox(aws, EMAIL)
    sent = _attempts(aws)
    ids = {p.message_id for p in sent}
    notifications = [m for m in mails if m.get("headers", {}).get("x-amz-sns-message-id") in ids]
    if any(m.get("subject") == SUBJECT for m in notifications):
        return
    if notifications:
        subjects = ", ".join(repr(m.get("subject")) for m in notifications)
        raise CheckFailed(f"the emails SNS delivered have subject(s) {subjects}, not {SUBJECT!r}")
    raise CheckFailed(
        f"{len(sent)} message(s) were published but none reached {EMAIL}: the subscription was "
        "not confirmed when they were published (SNS drops messages for pending subscriptions)"
    )
