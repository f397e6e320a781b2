"""Every check of lab 06 fails on wrong submissions and passes on right ones.

Submissions are made with plain boto3 against a real backend process; the checks read the
backend's state (topics, subscriptions, the mailbox) and its server-side flow, as the grader does.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlparse

import nbformat
import pytest
from course.backend.process import Backend
from course.checks.api import run_check
from course.checks.context import Aws
from course.checks.labs import lab06
from course.grading.grade import Grade

from tests.checks.labs.account import AccountAws, account_checks
from tests.conftest import ROOT, check_results, make_client, make_resource
from tests.real_account.standin import PREFIX

TOPIC = "course-topic"
EMAIL = "learner@example.com"
SUBJECT = "Hello from the course"
ENV = {"env": {"DataType": "String", "StringValue": "dev"}}


@pytest.fixture
def sns(backend: Backend) -> Any:
    return make_client(backend, "sns")


def outcome(aws: Aws, check_id: str) -> str:
    return check_results("06", aws)[check_id].outcome


def result(aws: Aws, check_id: str) -> Any:
    return check_results("06", aws)[check_id]


def confirmation_link(backend: Backend, to: str = EMAIL) -> str:
    with urllib.request.urlopen(f"{backend.url}/_course/mailbox/messages?to={to}") as response:
        mails = json.loads(response.read())
    return next(link for m in mails for link in m["links"] if "Token=" in link)


def subscribe(sns: Any, protocol: str = "email", endpoint: str = EMAIL) -> str:
    topic = sns.create_topic(Name=TOPIC)["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint)
    return topic


def confirm(backend: Backend, sns: Any, topic: str) -> None:
    token = parse_qs(urlparse(confirmation_link(backend)).query)["Token"][0]
    sns.confirm_subscription(TopicArn=topic, Token=token)


def test_an_untouched_backend_attempts_nothing(aws: Aws) -> None:
    assert {r.outcome for r in check_results("06", aws).values()} == {"not_attempted"}


# -- topic
def test_topic_passes_for_the_named_topic(sns: Any, aws: Aws) -> None:
    sns.create_topic(Name=TOPIC)
    assert outcome(aws, "topic") == "passed"


@pytest.mark.parametrize("name", ["Course-Topic", "course-topic-2", "course-topic.fifo"])
def test_topic_is_not_attempted_for_another_name(sns: Any, aws: Aws, name: str) -> None:
    attributes = {"FifoTopic": "true"} if name.endswith(".fifo") else {}
    sns.create_topic(Name=name, Attributes=attributes)
    assert outcome(aws, "topic") == "not_attempted"


# -- email-subscription
def test_email_subscription_passes_while_pending(sns: Any, aws: Aws) -> None:
    subscribe(sns)
    assert outcome(aws, "email-subscription") == "passed"


@pytest.mark.parametrize(
    ("protocol", "endpoint"),
    [
        ("email-json", EMAIL),
        ("email", "someone@example.com"),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:learner"),
    ],
    ids=["email-json", "other-address", "sqs"],
)
def test_email_subscription_fails_for_the_wrong_protocol_or_address(
    sns: Any, aws: Aws, protocol: str, endpoint: str
) -> None:
    subscribe(sns, protocol, endpoint)
    found = result(aws, "email-subscription")
    assert found.outcome == "failed"
    assert "protocol email" in found.message


def test_email_subscription_is_not_attempted_without_subscriptions(sns: Any, aws: Aws) -> None:
    sns.create_topic(Name=TOPIC)
    assert outcome(aws, "email-subscription") == "not_attempted"


# -- confirmed
def test_confirmed_is_not_attempted_while_pending(sns: Any, aws: Aws) -> None:
    """Pending is where the lab's step 2 leaves it: not a mistake until a confirmation fails
    (this test used to expect "failed")."""
    subscribe(sns)
    found = result(aws, "confirmed")
    assert found.outcome == "not_attempted"
    assert "PendingConfirmation" in found.message


def test_confirmed_passes_after_confirm_subscription(backend: Backend, sns: Any, aws: Aws) -> None:
    confirm(backend, sns, subscribe(sns))
    assert outcome(aws, "confirmed") == "passed"


def test_confirmed_passes_after_opening_the_link(backend: Backend, sns: Any, aws: Aws) -> None:
    subscribe(sns)
    urllib.request.urlopen(confirmation_link(backend)).read()
    assert outcome(aws, "confirmed") == "passed"


def test_a_wrong_token_does_not_confirm(backend: Backend, sns: Any, aws: Aws) -> None:
    topic = subscribe(sns)
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.confirm_subscription(TopicArn=topic, Token="guess")
    found = result(aws, "confirmed")
    assert found.outcome == "failed"
    assert "refused" in found.message


def test_confirmed_passes_with_the_resource_api_and_the_address_in_capitals(
    backend: Backend, aws: Aws
) -> None:
    """Topic.subscribe / Topic.confirm_subscription, and an address typed with capitals (SNS
    keeps it as typed; mail is delivered whatever its case)."""
    topic = make_resource(backend, "sns").create_topic(Name=TOPIC)
    topic.subscribe(Protocol="email", Endpoint="Learner@Example.COM")
    token = parse_qs(urlparse(confirmation_link(backend)).query)["Token"][0]
    subscription = topic.confirm_subscription(Token=token)
    assert subscription.attributes["PendingConfirmation"] == "false"
    topic.publish(Subject=SUBJECT, Message="hi", MessageAttributes=ENV)
    results = check_results("06", aws)
    assert {k: r.outcome for k, r in results.items()} == dict.fromkeys(results, "passed")


# -- published
def test_published_passes_for_the_right_subject_and_attribute(sns: Any, aws: Aws) -> None:
    topic = subscribe(sns)
    sns.publish(TopicArn=topic, Message="hi", Subject=SUBJECT, MessageAttributes=ENV)
    assert outcome(aws, "published") == "passed"


def test_published_passes_with_a_custom_string_type_and_target_arn(sns: Any, aws: Aws) -> None:
    """``String.<label>`` is a String with a custom type label; TargetArn names a topic too.
    https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html"""
    topic = subscribe(sns)
    labelled = {"env": {"DataType": "String.stage", "StringValue": "dev"}}
    sns.publish(TargetArn=topic, Message="hi", Subject=SUBJECT, MessageAttributes=labelled)
    assert outcome(aws, "published") == "passed"


def test_published_from_threads_with_a_helper_passes(sns: Any, aws: Aws) -> None:
    topic = subscribe(sns)

    def send(subject: str) -> None:
        sns.publish(TopicArn=topic, Message="hi", Subject=subject, MessageAttributes=ENV)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(send, ("warm-up", SUBJECT)))
    assert outcome(aws, "published") == "passed"


def test_a_string_array_is_not_a_string(sns: Any, aws: Aws) -> None:
    topic = subscribe(sns)
    array = {"env": {"DataType": "String.Array", "StringValue": '["dev"]'}}
    sns.publish(TopicArn=topic, Message="hi", Subject=SUBJECT, MessageAttributes=array)
    assert outcome(aws, "published") == "failed"


def test_the_labs_demonstration_publish_is_not_a_mistake(
    backend: Backend, sns: Any, aws: Aws
) -> None:
    """The lab publishes once, bare, while the subscription is pending, on purpose: until step 4
    is done `published` and `delivered` read "not attempted", confirmed or not."""
    topic = subscribe(sns)
    sns.publish(TopicArn=topic, Message="Published before the subscription was confirmed")
    assert (outcome(aws, "published"), outcome(aws, "delivered")) == ("not_attempted",) * 2
    confirm(backend, sns, topic)
    results = check_results("06", aws)
    assert {k: r.outcome for k, r in results.items()} == {
        "topic": "passed",
        "email-subscription": "passed",
        "confirmed": "passed",
        "published": "not_attempted",
        "delivered": "not_attempted",
    }
    sns.publish(TopicArn=topic, Message="hi", Subject=SUBJECT, MessageAttributes=ENV)
    assert sum(r.points for r in check_results("06", aws).values()) == 10


def test_a_bare_publish_after_confirming_is_an_attempt_and_fails(
    backend: Backend, sns: Any, aws: Aws
) -> None:
    """A publish without Subject nor attributes that was emailed is step 4 done wrong."""
    topic = subscribe(sns)
    confirm(backend, sns, topic)
    sns.publish(TopicArn=topic, Message="hi")
    found = result(aws, "published")
    assert found.outcome == "failed"
    assert "Subject is None" in found.message
    assert outcome(aws, "delivered") == "failed"


def test_published_passes_in_a_batch(sns: Any, aws: Aws) -> None:
    topic = subscribe(sns)
    sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": "1", "Message": "hi", "Subject": SUBJECT, "MessageAttributes": ENV}
        ],
    )
    assert outcome(aws, "published") == "passed"


@pytest.mark.parametrize(
    ("subject", "attributes", "expected"),
    [
        ("Hello udemy", ENV, "Subject"),
        (SUBJECT, {}, "no message attribute env"),
        (SUBJECT, {"env": {"DataType": "String", "StringValue": "prod"}}, "'prod'"),
        (SUBJECT, {"env": {"DataType": "Number", "StringValue": "1"}}, "Number"),
    ],
    ids=["subject", "no-attribute", "wrong-value", "wrong-type"],
)
def test_published_fails_and_says_what_is_wrong(
    sns: Any, aws: Aws, subject: str, attributes: dict[str, Any], expected: str
) -> None:
    topic = subscribe(sns)
    sns.publish(TopicArn=topic, Message="hi", Subject=subject, MessageAttributes=attributes)
    found = result(aws, "published")
    assert found.outcome == "failed"
    assert expected in found.message


def test_published_to_another_topic_is_not_attempted(sns: Any, aws: Aws) -> None:
    subscribe(sns)
    other = sns.create_topic(Name="other")["TopicArn"]
    sns.publish(TopicArn=other, Message="hi", Subject=SUBJECT, MessageAttributes=ENV)
    assert outcome(aws, "published") == "not_attempted"


# -- delivered
def test_delivered_passes_when_published_after_confirming(
    backend: Backend, sns: Any, aws: Aws
) -> None:
    topic = subscribe(sns)
    confirm(backend, sns, topic)
    sns.publish(TopicArn=topic, Message="hi", Subject=SUBJECT, MessageAttributes=ENV)
    assert outcome(aws, "delivered") == "passed"


def test_delivered_fails_when_published_before_confirming(
    backend: Backend, sns: Any, aws: Aws
) -> None:
    topic = subscribe(sns)
    sns.publish(TopicArn=topic, Message="hi", Subject=SUBJECT, MessageAttributes=ENV)
    confirm(backend, sns, topic)
    found = result(aws, "delivered")
    assert found.outcome == "failed"
    assert "pending" in found.message


def test_delivered_fails_for_another_subject(backend: Backend, sns: Any, aws: Aws) -> None:
    topic = subscribe(sns)
    confirm(backend, sns, topic)
    sns.publish(TopicArn=topic, Message="hi", Subject="Hello udemy")
    found = result(aws, "delivered")
    assert found.outcome == "failed"
    assert "Hello udemy" in found.message


def test_delivered_fails_after_unsubscribing(backend: Backend, sns: Any, aws: Aws) -> None:
    topic = subscribe(sns)
    confirm(backend, sns, topic)
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    sns.publish(TopicArn=topic, Message="hi", Subject=SUBJECT, MessageAttributes=ENV)
    assert outcome(aws, "delivered") == "failed"


def test_delivered_is_not_attempted_without_a_publish(backend: Backend, sns: Any, aws: Aws) -> None:
    confirm(backend, sns, subscribe(sns))
    assert outcome(aws, "delivered") == "not_attempted"


def test_the_mailbox_is_not_checkable_on_a_real_account() -> None:
    """On a real account mail goes to a real inbox: "not checkable", never silently passed."""
    check = lab06.test_delivered.__check__  # type: ignore[attr-defined]
    assert run_check(check, Aws(None)).outcome == "not_checkable"


def test_the_full_lab_scores_ten(backend: Backend, sns: Any, aws: Aws) -> None:
    topic = subscribe(sns)
    confirm(backend, sns, topic)
    sns.publish(TopicArn=topic, Message="hi", Subject=SUBJECT, MessageAttributes=ENV)
    results = check_results("06", aws)
    assert sum(r.points for r in results.values()) == 10


# -- the solution notebook, stopped mid-lab
def solution_code(name: str = "06-sns-basics") -> list[str]:
    """The code cells of a solution notebook."""
    notebook = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    return [c.source for c in notebook.cells if c.cell_type == "code"]


def solution_cells_through(text: str) -> list[str]:
    """The solution's code cells, from the first through the one containing ``text``."""
    cells = solution_code()
    end = next(i for i, source in enumerate(cells) if text in source)
    return cells[: end + 1]


def check_output(grade: Grade) -> str:
    """The text check() printed in the last cell of a graded notebook."""
    outputs = grade.notebook.cells[-1].outputs
    return "\n".join(str(o.get("text") or o.get("data", {}).get("text/plain", "")) for o in outputs)


@pytest.mark.parametrize(
    ("through", "expected"),
    [
        (
            "Published before the subscription was confirmed",
            {"confirmed": "not_attempted", "published": "not_attempted"},
        ),
        ("confirm_subscription", {"confirmed": "passed", "published": "not_attempted"}),
    ],
    ids=["after-the-demonstration-publish", "after-confirming"],
)
def test_check_mid_lab_shows_nothing_failed(
    grade_cells: Callable[..., Grade], through: str, expected: dict[str, str]
) -> None:
    """The solution run up to the lab's own publish before confirming (and then up to the
    confirmation), then check(): no check reads as failed, the steps not done yet read as not
    attempted."""
    grade = grade_cells("06", [*solution_cells_through(through), 'check("06")'])
    outcomes = {r.id.split(".", 1)[-1]: r.outcome for r in grade.results}
    assert outcomes == {
        "topic": "passed",
        "email-subscription": "passed",
        **expected,
        "delivered": "not_attempted",
    }
    printed = check_output(grade)
    assert "not attempted" in printed.lower()
    assert "failed" not in printed.lower()


WAITS = re.compile(r"time\.sleep\(|WaitTimeSeconds=[1-9]|\.wait_for\(|get_waiter\(|deadline")


@pytest.mark.parametrize("name", ["05-fifo-queues", "06-sns-basics", "07-sns-filter-policies"])
def test_waiting_cells_say_what_they_wait_for(name: str) -> None:
    """Labs 05-07: in every code cell that waits (a sleep, a long poll, a mailbox or Lambda
    wait), a print saying what is awaited and how long comes before the first wait."""
    silent = []
    for source in solution_code(name):
        lines = source.splitlines()
        first = next((i for i, line in enumerate(lines) if WAITS.search(line)), None)
        if first is None:
            continue
        told = [line for line in lines[:first] if "print(" in line and " s" in line]
        if not any(re.search(r"\d+ s\b|\d+ minutes", line) for line in told):
            silent.append(lines[first].strip())
    assert silent == []


# -- a real account (issue 15): the learner's prefix and COURSE_EMAIL, read-only checks
LEARNER = "ana@student.example.edu"


def account_results(backend: Backend, email: str | None = LEARNER) -> dict[str, Any]:
    """Every check of lab 06 on a real account with the learner's prefix; they only read."""
    results, writes = account_checks("06", AccountAws(backend, prefix=PREFIX, email=email))
    assert writes == []
    return results


def test_a_real_account_checks_the_prefixed_topic_and_the_learners_address(
    backend: Backend, sns: Any
) -> None:
    topic = sns.create_topic(Name=f"{PREFIX}{TOPIC}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=LEARNER)
    results = account_results(backend)
    assert results["topic"].outcome == "passed"
    assert results["email-subscription"].outcome == "passed"
    assert results["confirmed"].outcome == "not_attempted"
    token = parse_qs(urlparse(confirmation_link(backend, LEARNER)).query)["Token"][0]
    sns.confirm_subscription(TopicArn=topic, Token=token)
    results = account_results(backend)
    assert results["confirmed"].outcome == "passed"
    assert {results[c].outcome for c in ("published", "delivered")} == {"not_checkable"}


def test_a_real_account_does_not_take_the_plain_name(backend: Backend, sns: Any) -> None:
    subscribe(sns)  # course-topic, without the learner's prefix
    assert account_results(backend)["topic"].outcome == "not_attempted"


def test_a_real_account_wants_the_learners_own_address(backend: Backend, sns: Any) -> None:
    topic = sns.create_topic(Name=f"{PREFIX}{TOPIC}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)  # the local backend's
    result = account_results(backend)["email-subscription"]
    assert result.outcome == "failed" and LEARNER in result.message


def test_without_course_email_the_subscription_is_not_checkable(backend: Backend, sns: Any) -> None:
    topic = sns.create_topic(Name=f"{PREFIX}{TOPIC}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=LEARNER)
    results = account_results(backend, email=None)
    assert results["topic"].outcome == "passed"
    for check_id in ("email-subscription", "confirmed"):
        assert results[check_id].outcome == "not_checkable"
        assert "COURSE_EMAIL" in results[check_id].message
