"""SNS, Lambda and mailbox reading helpers shared by the SNS labs' checks.

State is read with read-only API calls (ListTopics, ListSubscriptionsByTopic, GetPolicy,
FilterLogEvents...), publishes from the flow (Publish and PublishBatch alike), and mail from the
local backend's mailbox through its client.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from course.checks.api import NotAttempted, NotCheckable
from course.flow import ApiCall, Flow


@dataclass(frozen=True)
class Published:
    """A message SNS accepted for a topic."""

    message_id: str
    message: str
    subject: str | None
    call: ApiCall
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def attribute(self, name: str) -> str | None:
        """The string value of a message attribute, or None."""
        value = self.attributes.get(name)
        return None if value is None else value.get("StringValue")


def is_string_type(data_type: str) -> bool:
    """Whether a message attribute's DataType is a String: ``String`` or ``String.<label>``
    (a custom type label), but not ``String.Array``.
    https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html
    """
    return data_type == "String" or (
        data_type.startswith("String.") and data_type != "String.Array"
    )


def topic_arn(aws: Any, name: str) -> str:
    """The ARN of topic ``name``; "not attempted" if there is none."""
    paginator = aws.client("sns").get_paginator("list_topics")
    for page in paginator.paginate():
        for topic in page.get("Topics", []):
            if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                return str(topic["TopicArn"])
    raise NotAttempted(f"there is no SNS topic named {name}")


def subscriptions(aws: Any, arn: str) -> list[dict[str, Any]]:
    """Every subscription of a topic (pending ones show SubscriptionArn "PendingConfirmation")."""
    paginator = aws.client("sns").get_paginator("list_subscriptions_by_topic")
    return [s for page in paginator.paginate(TopicArn=arn) for s in page.get("Subscriptions", [])]


def is_pending(subscription: dict[str, Any]) -> bool:
    arn = subscription.get("SubscriptionArn", "")
    return arn.replace(" ", "").lower() in ("pendingconfirmation", "")


def subscription_attributes(aws: Any, subscription: dict[str, Any]) -> dict[str, str]:
    if is_pending(subscription):
        return {"PendingConfirmation": "true"}
    return aws.client("sns").get_subscription_attributes(
        SubscriptionArn=subscription["SubscriptionArn"]
    )["Attributes"]


def publishes(flow: Flow, arn: str) -> list[Published]:
    """Every message SNS accepted for the topic, from Publish and PublishBatch, in order."""
    found: list[Published] = []
    for call in flow.calls_to("sns", "Publish", "PublishBatch", ok=True):
        if call.action == "Publish":
            if arn not in (call.request.get("TopicArn"), call.request.get("TargetArn")):
                continue
            entries = [(call.request, call.response)]
        else:
            if call.request.get("TopicArn") != arn:
                continue
            by_id = {e.get("Id"): e for e in call.request.get("PublishBatchRequestEntries", [])}
            entries = [(by_id.get(r.get("Id"), {}), r) for r in call.response.get("Successful", [])]
        for request, response in entries:
            found.append(
                Published(
                    message_id=response.get("MessageId", ""),
                    message=str(request.get("Message", "")),
                    subject=request.get("Subject"),
                    call=call,
                    attributes=request.get("MessageAttributes") or {},
                )
            )
    return found


def mailbox(aws: Any, to: str) -> list[dict[str, Any]]:
    """The mail the local backend delivered to ``to``; "not checkable" on a real account."""
    if not aws.is_local:
        raise NotCheckable("mail on a real account goes to a real inbox the grader cannot read")
    return aws.backend.mailbox(to, timeout=30)


def delivered_message_ids(aws: Any) -> set[str]:
    """The MessageIds of every notification SNS emailed, to any address, on the local backend
    (the ``x-amz-sns-message-id`` header of each mail)."""
    return {
        str(m["headers"]["x-amz-sns-message-id"])
        for m in aws.backend.mailbox()
        if "x-amz-sns-message-id" in (m.get("headers") or {})
    }


def wait_for_functions(aws: Any, timeout: float = 20.0) -> None:
    """On the local backend, wait until asynchronous Lambda runs (from SNS) have finished."""
    if not aws.is_local:
        return
    with contextlib.suppress(OSError):  # the check reads what has been logged so far
        aws.backend.wait_for_lambda_idle(timeout)


def function_policy(aws: Any, name: str) -> dict[str, Any] | None:
    """A function's resource-based policy, or None if it has none."""
    client = aws.client("lambda")
    try:
        return json.loads(client.get_policy(FunctionName=name)["Policy"])
    except client.exceptions.ResourceNotFoundException:
        return None


def log_invocations(aws: Any, group: str) -> list[str] | None:
    """What each run of a function printed, one text per run (its lines between ``START`` and
    ``END``, in order), read from its CloudWatch Logs group; None if the group does not exist.

    Runs are told apart per log stream (one stream's runs never overlap), so runs of parallel
    execution environments do not mix. Lines outside any START/END pair form a run of their own.
    """
    client = aws.client("logs")
    try:
        paginator = client.get_paginator("filter_log_events")
        events = [e for page in paginator.paginate(logGroupName=group) for e in page["events"]]
    except client.exceptions.ResourceNotFoundException:
        return None
    streams: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        streams.setdefault(str(event.get("logStreamName", "")), []).append(event)
    runs: list[str] = []
    for stream in streams.values():
        current: list[str] | None = None
        for event in sorted(stream, key=lambda e: (e["timestamp"], e.get("eventId"))):
            message = str(event["message"])
            if message.startswith("START RequestId:"):
                current = []
                runs.append("")
            elif message.startswith(("END RequestId:", "REPORT RequestId:")):
                current = None
            else:
                if current is None:
                    current = []
                    runs.append("")
                current.append(message)
                runs[-1] = "\n".join(current)
    return runs
