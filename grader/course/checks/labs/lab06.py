"""Lab 06 · SNS basics: a topic, an email subscription confirmed by its token, a published email."""

from __future__ import annotations

from typing import Any

from course.checks.api import CheckFailed, NotAttempted, check
from course.checks.context import Aws
from course.checks.readers.sns import Published, mailbox, publishes, subscription_attributes, topic_arn
from course.checks.readers.sns import subscriptions as topic_subscriptions

LAB = "06"
TITLE = "SNS basics"
TOPIC = "course-topic"
EMAIL = "learner@example.com"
SUBJECT = "Hello from the course"
ATTRIBUTE = ("env", "dev")


def _email_subscription(aws: Aws) -> dict[str, Any]:
    """The topic's email subscription for the learner; "not attempted" if it has none."""
    arn = topic_arn(aws, aws.name(TOPIC))
    found = topic_subscriptions(aws, arn)
    if not found:
        raise NotAttempted(f"{aws.name(TOPIC)} has no subscription yet")
    emails = [s for s in found if s.get("Protocol") == "email"]
    wanted = [s for s in emails if str(s.get("Endpoint", "")).lower() == EMAIL]
    if aws.is_local and wanted:
        return wanted[0]
    if not aws.is_local and emails:  # on a real account the learner subscribes their own inbox
        return emails[0]
    described = ", ".join(f"{s.get('Protocol')}:{s.get('Endpoint')}" for s in found)
    raise CheckFailed(
        f"{aws.name(TOPIC)} has no subscription with protocol email for {EMAIL} "
        f"(it has {described})"
    )


@check(
    "topic",
    points=1,
    kind="state",
    statement=f"A standard SNS topic named {TOPIC} exists.",
    hint=f"sns.create_topic(Name='{TOPIC}') returns its TopicArn.",
)
def test_topic(aws: Aws) -> None:
    topic_arn(aws, aws.name(TOPIC))


@check(
    "email-subscription",
    points=1,
    kind="state",
    statement=f"The topic has an email subscription for {EMAIL} (protocol email, not email-json).",
    hint=f"sns.subscribe(TopicArn=topic_arn, Protocol='email', Endpoint='{EMAIL}'). "
    "It answers 'pending confirmation': that is expected.",
)
def test_email_subscription(aws: Aws) -> None:
    _email_subscription(aws)


@check(
    "confirmed",
    points=3,
    kind="state",
    statement="The email subscription is confirmed (no longer PendingConfirmation).",
    hint="Read the confirmation email in the mailbox (course.notebook.mailbox), take the Token from its "
    "link and call sns.confirm_subscription(TopicArn=..., Token=token), or open the link.",
)
def test_confirmed(aws: Aws) -> None:
    subscription = _email_subscription(aws)
    # A subscription listed as "PendingConfirmation" reads as pending without a call.
    if subscription_attributes(aws, subscription).get("PendingConfirmation") == "true":
        raise CheckFailed(
            "the subscription is still PendingConfirmation: SNS delivers nothing to it until "
            "it is confirmed with the token from the confirmation email"
        )


def _right_publishes(aws: Aws) -> tuple[list[Published], list[Published]]:
    """All successful publishes to the topic, and those with the right subject and attribute."""
    arn = topic_arn(aws, aws.name(TOPIC))
    sent = publishes(aws.flow, arn)
    name, value = ATTRIBUTE
    right = [
        p
        for p in sent
        if p.subject == SUBJECT
        and p.attributes.get(name, {}).get("DataType") == "String"
        and p.attribute(name) == value
    ]
    return sent, right


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
    sent, right = _right_publishes(aws)
    if not sent:
        raise NotAttempted(f"nothing was published to {aws.name(TOPIC)}")
    if right:
        return
    last = sent[-1]
    wrong = []
    if last.subject != SUBJECT:
        wrong.append(f"Subject is {last.subject!r}, expected {SUBJECT!r}")
    env = last.attributes.get(ATTRIBUTE[0])
    if env is None:
        wrong.append("there is no message attribute env")
    elif env.get("DataType") != "String" or env.get("StringValue") != ATTRIBUTE[1]:
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
    sent, _ = _right_publishes(aws)
    if not sent:
        raise NotAttempted(f"nothing was published to {aws.name(TOPIC)}")
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
