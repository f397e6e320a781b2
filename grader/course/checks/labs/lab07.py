"""Lab 07 · SNS filter policies: one topic, a Lambda and an SQS subscriber, each with its filter."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from course.checks.api import CheckFailed, NotAttempted, NotCheckable, check
from course.checks.context import Aws
from course.checks.readers.sns import (
    Published,
    function_policy,
    log_invocations,
    publishes,
    subscription_attributes,
    subscriptions,
    topic_arn,
    wait_for_functions,
)
from course.checks.readers.sqs import queue_attributes, queue_url, receives, sends
from course.rules.resource_policy import Request, allows

LAB = "07"
TITLE = "SNS filter policies"
#: Graded at twenty times the wall clock's speed: its AWS waits take a twentieth of their time
#: (as fast as the check tests and the stress run show every score unchanged).
TIME_SCALE = 20
TOPIC = "filter-topic"
FUNCTION = "sns-printer"
QUEUE = "filtered-queue"
ATTRIBUTE = "sendTo"
POLICIES = {"lambda": {"sendTo": ["LAMBDA"]}, "sqs": {"sendTo": ["SQS"]}}
SNS = "sns.amazonaws.com"
SENDTO_PREFIX = "sendTo="  # a delivery's sendTo read from its own attributes, not a MessageId


def _topic_arn_for(aws: Aws, resource_arn: str) -> str:
    """The ARN the lab's topic has (or will have) in the account and region of a resource."""
    parts = resource_arn.split(":")
    return f"arn:aws:sns:{parts[3]}:{parts[4]}:{aws.name(TOPIC)}"


def _function(aws: Aws) -> dict[str, Any]:
    client = aws.client("lambda")
    try:
        return client.get_function(FunctionName=aws.name(FUNCTION))["Configuration"]
    except client.exceptions.ResourceNotFoundException:
        raise NotAttempted(f"there is no Lambda function named {aws.name(FUNCTION)}") from None


@check(
    "function",
    points=1,
    kind="state",
    statement=f"A Python Lambda function named {FUNCTION} exists.",
    hint="Zip lambda_function.py in memory (zipfile), then lambda.create_function("
    "FunctionName=name('sns-printer'), Runtime='python3.12', "
    "Handler='lambda_function.lambda_handler', "
    "Role=role_arn, Code={'ZipFile': zip_bytes}).",
)
def test_function(aws: Aws) -> None:
    runtime = str(_function(aws).get("Runtime", ""))
    if not runtime.startswith("python3"):
        raise CheckFailed(f"the function's runtime is {runtime or 'unset'}, not a python3.x one")


@check(
    "invoke-permission",
    points=1,
    kind="state",
    statement=f"The function's resource-based policy lets SNS ({SNS}) invoke it for {TOPIC}.",
    hint="lambda.add_permission(FunctionName=name('sns-printer'), StatementId='sns-invoke', "
    "Action='lambda:InvokeFunction', Principal='sns.amazonaws.com', SourceArn=topic_arn)",
)
def test_invoke_permission(aws: Aws) -> None:
    function_arn = str(_function(aws)["FunctionArn"])
    policy = function_policy(aws, aws.name(FUNCTION))
    if policy is None:
        raise NotAttempted("the function has no resource-based policy yet (AddPermission)")
    topic = _topic_arn_for(aws, function_arn)
    context = {"aws:SourceArn": topic, "aws:SourceAccount": function_arn.split(":")[4]}
    if not allows(policy, Request(SNS, "lambda:InvokeFunction", function_arn, context)):
        raise CheckFailed(
            f"the function's policy does not allow {SNS} to call lambda:InvokeFunction for "
            f"{topic}: check Principal, Action and SourceArn"
        )


@check(
    "queue-policy",
    points=2,
    kind="state",
    statement=f"{QUEUE}'s policy allows {SNS} to sqs:SendMessage, for messages from {TOPIC}.",
    hint="sqs.set_queue_attributes(QueueUrl=..., Attributes={'Policy': json.dumps({...})}) with "
    "a statement: Effect Allow, Principal {'Service': 'sns.amazonaws.com'}, Action "
    "sqs:SendMessage, Resource the queue ARN, Condition "
    "{'ArnEquals': {'aws:SourceArn': topic_arn}}.",
)
def test_queue_policy(aws: Aws) -> None:
    attributes = queue_attributes(aws, aws.name(QUEUE))
    if not attributes.get("Policy"):
        raise NotAttempted(f"{aws.name(QUEUE)} has no Policy yet")
    queue_arn = attributes["QueueArn"]
    topic = _topic_arn_for(aws, queue_arn)
    request = Request(
        SNS,
        "sqs:SendMessage",
        queue_arn,
        {"aws:SourceArn": topic, "aws:SourceAccount": queue_arn.split(":")[4]},
    )
    if not allows(attributes["Policy"], request):
        raise CheckFailed(
            f"the queue's policy does not allow {SNS} to sqs:SendMessage to {queue_arn} from "
            f"{topic}: check Principal, Action, Resource and the aws:SourceArn condition"
        )


def _describe(subscription: dict[str, Any]) -> str:
    return f"{subscription.get('Protocol')}:{subscription.get('Endpoint')}"


@check(
    "filter-policies",
    points=3,
    kind="state",
    statement=f"{TOPIC} has a lambda subscription for {FUNCTION} with FilterPolicy "
    '{"sendTo": ["LAMBDA"]} and an sqs subscription for ' + QUEUE + ' with {"sendTo": ["SQS"]}, '
    "both on message attributes.",
    hint="sns.subscribe(TopicArn=..., Protocol='lambda', Endpoint=function_arn, Attributes="
    "{'FilterPolicy': json.dumps({'sendTo': ['LAMBDA']})}), and the same for the queue with "
    "Protocol='sqs', Endpoint=queue_arn and ['SQS'].",
)
def test_filter_policies(aws: Aws) -> None:
    found, ours = _our_subscriptions(aws)
    if not any(ours.values()):
        listed = ", ".join(_describe(s) for s in found) or "none"
        raise NotAttempted(
            f"{aws.name(TOPIC)} has no subscription for {FUNCTION} or {QUEUE} (it has {listed})"
        )
    wrong = []
    for protocol, candidates in ours.items():
        target = aws.name(FUNCTION) if protocol == "lambda" else aws.name(QUEUE)
        if not candidates:
            wrong.append(f"there is no {protocol} subscription for {target}")
            continue
        problems = [_policy_problem(aws, s, POLICIES[protocol]) for s in candidates]
        if all(problems):
            wrong.append(f"the {protocol} subscription for {target}: {problems[0]}")
    if wrong:
        raise CheckFailed("; ".join(wrong))


def _our_subscriptions(
    aws: Aws,
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Every subscription of the topic, and those for the lab's function ("lambda"; a version or
    alias ARN included) and queue ("sqs")."""
    found = subscriptions(aws, topic_arn(aws, aws.name(TOPIC)))
    endpoints = {
        "lambda": f":function:{aws.name(FUNCTION)}",
        "sqs": f":{aws.name(QUEUE)}",
    }
    ours = {
        protocol: [
            s
            for s in found
            if s.get("Protocol") == protocol
            and (
                str(s.get("Endpoint", "")).endswith(suffix)
                or f"{suffix}:" in str(s.get("Endpoint", ""))
            )
        ]
        for protocol, suffix in endpoints.items()
    }
    return found, ours


def _filters_right(aws: Aws, protocol: str) -> bool:
    """Whether a subscription of the lab's ``protocol`` endpoint has its lab filter policy now."""
    _, ours = _our_subscriptions(aws)
    return any(not _policy_problem(aws, s, POLICIES[protocol]) for s in ours[protocol])


def _by_count(
    aws: Aws, protocol: str, ambiguous: dict[tuple[str, ...], int], sent: list[Published]
) -> list[str | None]:
    """The sendTo values of deliveries known only by a text several publishes share.

    ``ambiguous`` counts the deliveries per set of candidate MessageIds. With the subscription's
    filter right, as many as there are publishes for this subscriber are taken to be those, the
    rest the others. With a wrong or missing filter none is, unless there are more deliveries
    than such publishes (then some surely are others, and the count says so either way).
    """
    wanted = POLICIES[protocol][ATTRIBUTE][0]
    right = _filters_right(aws, protocol) if ambiguous else False
    kinds_of = {p.message_id: _kind(p) for p in sent}
    found: list[str | None] = []
    for candidates, count in ambiguous.items():
        kinds = [kinds_of[c] for c in candidates]
        others = [k for k in kinds if k != wanted]
        own = kinds.count(wanted)
        taken = min(count, own) if right or count > own else 0
        found += [wanted] * taken + (others * count)[: count - taken]
    return found


def _policy_problem(aws: Aws, subscription: dict[str, Any], expected: dict[str, Any]) -> str:
    attributes = subscription_attributes(aws, subscription)
    text = attributes.get("FilterPolicy")
    if not text:
        return "it has no FilterPolicy"
    try:
        policy = json.loads(text)
    except ValueError:
        return "its FilterPolicy is not JSON"
    scope = attributes.get("FilterPolicyScope") or "MessageAttributes"
    if scope != "MessageAttributes":
        return f"its FilterPolicyScope is {scope}; the sendTo attribute is a message attribute"
    if policy != expected:
        return f"its FilterPolicy is {json.dumps(policy)}, expected {json.dumps(expected)}"
    return ""


def _kind(published: Published) -> str | None:
    """The sendTo value of a publish (None when it has no such attribute)."""
    return published.attribute(ATTRIBUTE)


def _published(aws: Aws) -> list[Published]:
    arn = topic_arn(aws, aws.name(TOPIC))
    sent = publishes(aws.flow, arn)
    if not sent:
        raise NotAttempted(f"nothing was published to {aws.name(TOPIC)}")
    return sent


@check(
    "published",
    points=1,
    kind="flow",
    statement="Three messages were published to the topic: one with the String attribute "
    "sendTo=SQS, one with sendTo=LAMBDA and one without sendTo.",
    hint="sns.publish(TopicArn=..., Message='...', MessageAttributes={'sendTo': {'DataType': "
    "'String', 'StringValue': 'SQS'}}); then LAMBDA; then a message without MessageAttributes.",
)
def test_published(aws: Aws) -> None:
    kinds = {_kind(p) for p in _published(aws)}
    missing = [
        label
        for label, value in (
            ("sendTo=SQS", "SQS"),
            ("sendTo=LAMBDA", "LAMBDA"),
            ("no sendTo", None),
        )
        if value not in kinds
    ]
    if missing:
        raise CheckFailed("no message was published with " + ", nor with ".join(missing))


def _queue_got(aws: Aws) -> list[dict[str, Any]]:
    """Every message the queue delivered (the flow's receives) or holds now (peeked): on the
    local backend only, where a peek does not change what the lab left."""
    name = aws.name(QUEUE)
    url = queue_url(aws, name)
    got: dict[str, dict[str, Any]] = {}
    # What the notebook sent to the queue itself did not come from the topic.
    forged = {s.message_id for s in sends(aws.flow, name)}
    for received in receives(aws.flow, name):
        if received.message_id not in forged:
            answered = received.call.response.get("Messages", [])
            mid = received.message_id
            # A raw delivery carries sendTo here when the receive asked for attributes.
            attributes = [
                m.get("MessageAttributes") for m in answered if m.get("MessageId", "") == mid
            ]
            got[mid] = {"Body": received.body, "MessageAttributes": attributes[0] or {}}
    sqs = aws.client("sqs")
    for _ in range(5):  # a peek: VisibilityTimeout 0 leaves every message visible
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        new = [m for m in batch if m["MessageId"] not in got and m["MessageId"] not in forged]
        if not new:
            break
        for message in new:
            got[message["MessageId"]] = message
    return list(got.values())


def _sent_to(message: dict[str, Any], sent: list[Published]) -> tuple[bool, list[str]]:
    """Whether a queued message came from the topic, and the MessageIds of the publishes it may
    be: one, unless a raw delivery without its attributes is known only by a shared text."""
    body = str(message.get("Body", ""))
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification":
        for published in sent:
            if published.message_id == envelope.get("MessageId"):
                return True, [published.message_id]
        attribute = (envelope.get("MessageAttributes") or {}).get(ATTRIBUTE) or {}
        return True, [f"{SENDTO_PREFIX}{attribute.get('Value')}"]
    raw = (message.get("MessageAttributes") or {}).get(ATTRIBUTE) or {}
    if raw:
        return True, [f"{SENDTO_PREFIX}{raw.get('StringValue')}"]
    matching = [p.message_id for p in sent if p.message == body]
    return bool(matching), matching


def _kinds_got(aws: Aws, ids: list[list[str]], sent: list[Published], protocol: str) -> list[Any]:
    """The sendTo value of each delivery, given the MessageIds each may be."""
    kinds_of: dict[str, str | None] = {p.message_id: _kind(p) for p in sent}
    found: list[str | None] = []
    ambiguous: dict[tuple[str, ...], int] = defaultdict(int)
    for candidates in ids:
        kinds = {
            c.removeprefix(SENDTO_PREFIX) if c.startswith(SENDTO_PREFIX) else kinds_of.get(c)
            for c in candidates
        }
        if len(kinds) == 1:
            found.append(kinds.pop())
        else:
            ambiguous[tuple(candidates)] += 1
    return found + _by_count(aws, protocol, ambiguous, sent)


@check(
    "sqs-got-only-its-message",
    points=2,
    kind="state",
    statement=f"{QUEUE} got the sendTo=SQS message from the topic, and not the other two.",
    hint="The queue gets nothing until its policy lets the topic SendMessage; the notes' "
    "'delete and re-subscribe from the SQS console' fix is that policy.",
)
def test_sqs_got_only_its_message(aws: Aws) -> None:
    """Envelopes are matched by MessageId, raw deliveries by their attributes or text; when three
    publishes share one text, see ``_by_count``. Not checkable on a real account: what the
    queue got is known from the recorded receives or by peeking (a ReceiveMessage), and a check
    there only reads."""
    if not aws.is_local:
        raise NotCheckable(
            "what the queue got is read from the recorded calls, or by receiving from the "
            "queue, and a check on a real account only reads"
        )
    sent = _published(aws)
    got = [_sent_to(m, sent) for m in _queue_got(aws)]
    from_topic = _kinds_got(aws, [ids for ok, ids in got if ok], sent, "sqs")
    if not from_topic:
        raise CheckFailed(
            f"{aws.name(QUEUE)} got no message from the topic: SNS delivers to a queue only when "
            "the queue's policy allows sqs:SendMessage from the topic (and the subscription's "
            "filter matches)"
        )
    others = sorted({str(kind) for kind in from_topic if kind != "SQS"})
    if others:
        raise CheckFailed(
            f"{aws.name(QUEUE)} also got message(s) with sendTo {', '.join(others)}: its "
            'subscription needs the FilterPolicy {"sendTo": ["SQS"]}'
        )


@check(
    "lambda-logged-only-its-message",
    points=2,
    kind="state",
    statement=f"{FUNCTION}'s CloudWatch Logs (/aws/lambda/{FUNCTION}) show the sendTo=LAMBDA "
    "message, and not the other two.",
    hint="The function runs only if SNS may invoke it (AddPermission) and the subscription's "
    "filter matches; print the message (or the whole SNS record) in the handler.",
)
def test_lambda_logged_only_its_message(aws: Aws) -> None:
    if not aws.is_local:
        raise NotCheckable("which message the function logged is matched with the recorded flow")
    sent = _published(aws)
    wait_for_functions(aws)
    runs = log_invocations(aws, f"/aws/lambda/{aws.name(FUNCTION)}")
    if runs is None:
        raise CheckFailed(
            f"{aws.name(FUNCTION)} never ran: there is no log group /aws/lambda/"
            f"{aws.name(FUNCTION)} (SNS needs AddPermission to invoke it)"
        )
    logged = _kinds_got(
        aws, [ids for ids in (_printed_by(run, sent) for run in runs) if ids], sent, "lambda"
    )
    wanted = [p for p in sent if _kind(p) == "LAMBDA"]
    if "LAMBDA" not in logged:
        raise CheckFailed(
            f"the function's log does not show the sendTo=LAMBDA message ({len(wanted)} "
            "published): check AddPermission, the lambda subscription's filter, and that the "
            "handler prints the message"
        )
    extra = sorted({str(kind) for kind in logged if kind != "LAMBDA"})
    if extra:
        raise CheckFailed(
            f"the function also logged message(s) with sendTo {', '.join(extra)}: its "
            'subscription needs the FilterPolicy {"sendTo": ["LAMBDA"]}'
        )


def _printed_by(run: str, sent: list[Published]) -> list[str]:
    """The MessageIds of the publishes one run printed: by their MessageId, else by their text
    (three characters or more; several when publishes share the text)."""
    by_id = [p.message_id for p in sent if p.message_id in run]
    if by_id:
        return by_id
    return [p.message_id for p in sent if len(p.message) >= 3 and p.message in run]
