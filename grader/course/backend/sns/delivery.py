"""SNS fan-out as AWS does it: filter policies, resource permissions, metrics, delivery logs.

moto's ``Topic.publish`` hands each message to every subscription, ignores permissions, runs
Lambda only in Docker and sends no email. The kit replaces it (``course.backend.sns.topics``
installs ``publish``): for each subscription of the topic

1. a subscription still pending confirmation gets nothing;
2. the filter policy (``course.rules.filter_policy``) decides, on attributes or on the body;
3. an SQS queue gets the message only if its policy allows ``sqs:SendMessage`` from the
   topic and, when the queue is encrypted with a KMS key (SSE-KMS), the key's policy lets
   ``sns.amazonaws.com`` use the key (``kms:GenerateDataKey`` and ``kms:Decrypt``); a Lambda
   function only if its policy allows ``sns.amazonaws.com`` to invoke it;
4. the message is delivered: SQS envelope (or raw), Lambda event (run asynchronously by
   ``course.backend.awslambda.runtime``), email to the backend's mailbox, a signed JSON POST to
   a local http/https endpoint (``course.backend.sns.http_endpoints``); other protocols as moto
   does (its own ``Subscription.publish``, kept in ``MOTO_SUBSCRIPTION_PUBLISH``).

A FIFO topic first drops a message whose deduplication id it accepted in the last five minutes
(``course.backend.sns.topic_dedup``), and passes the group and deduplication ids on to FIFO
queues only.

Each outcome is counted in CloudWatch (``AWS/SNS``, dimension ``TopicName``):
NumberOfMessagesPublished, PublishSize, NumberOfNotificationsDelivered,
NumberOfNotificationsFailed, NumberOfNotificationsFilteredOut(-NoMessageAttributes). When the
topic has ``<Protocol>FailureFeedbackRoleArn`` (or ``...SuccessFeedbackRoleArn``), the
delivery status is logged to CloudWatch Logs (``sns/<region>/<account>/<topic>[/Failure]``).

https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html
https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html
https://docs.aws.amazon.com/sns/latest/dg/sns-topic-attributes.html
https://docs.aws.amazon.com/sns/latest/dg/fifo-message-grouping.html
https://docs.aws.amazon.com/sns/latest/dg/sns-http-https-endpoint-as-subscriber.html
"""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from moto.sns.models import Subscription

from course.backend.awslambda import runtime as lambda_runtime
from course.backend.awslambda.exceptions import (
    AccessDeniedException,
    InvalidParameterValueException,
    ResourceNotFoundException,
)
from course.backend.core import clock, moto_state
from course.backend.core.errors import ServiceError
from course.backend.mail.mailbox import MAILBOX
from course.backend.sns import http_endpoints
from course.backend.sns import messages as sns_messages
from course.backend.sns import subscriptions as sns_subscriptions
from course.backend.sns import topic_dedup as sns_topic_dedup
from course.backend.sns.exceptions import InvalidParameter
from course.backend.sqs.exceptions import AccessDenied, NonExistentQueue
from course.rules import filter_policy as sns_filter
from course.rules.resource_policy import Request, allows

SNS_PRINCIPAL = "sns.amazonaws.com"
#: moto's own per-subscription delivery, kept before anything can replace it, for the protocols
#: the kit does not deliver itself (SMS, application, Firehose).
MOTO_SUBSCRIPTION_PUBLISH = Subscription.publish
_FEEDBACK_PREFIX = {"sqs": "sqs", "lambda": "lambda", "http": "http", "https": "http"}


@dataclass(frozen=True)
class Publication:
    """One published message, as every subscription of the topic sees it."""

    topic: Any  # moto's Topic
    message_id: str
    message: str
    subject: str | None
    attributes: dict[str, Any]
    group_id: str | None
    dedup_id: str | None
    structure: str | None
    sent_at: str


@dataclass(frozen=True)
class Outcome:
    """How one delivery ended: "delivered", "failed", "filtered", "pending" or "skipped"."""

    status: str
    provider_response: str = ""
    status_code: int = 200


class InvalidPublish(ValueError):
    """A Publish AWS refuses: a bad Subject, or a JSON structure without "default"."""


def subject_problem(subject: str | None) -> str | None:
    """AWS's objection to a Subject: "Subjects must be UTF-8 text with no line breaks or control
    characters, and less than 100 characters long" (API_Publish); None if it is fine."""
    if subject is None:
        return None
    if not subject or len(subject) >= 100 or any(ord(c) < 32 or ord(c) == 127 for c in subject):
        return "Invalid parameter: Subject"
    return None


def check_structure(message: str, structure: str | None) -> None:
    """AWS rejects a JSON-structured message without a "default" entry at publish time."""
    if structure != "json":
        return
    try:
        document = json.loads(message)
    except ValueError:
        raise InvalidPublish(
            "Invalid parameter: Message Structure - JSON message body failed to parse"
        ) from None
    if not isinstance(document, dict) or "default" not in document:
        raise InvalidPublish(
            "Invalid parameter: Message Structure - No default entry in JSON message body"
        )


def publish(
    topic: Any,
    message: str,
    subject: str | None = None,
    message_attributes: dict[str, Any] | None = None,
    group_id: str | None = None,
    deduplication_id: str | None = None,
    message_structure: str | None = None,
) -> str:
    """Replacement for moto's ``Topic.publish``: fan the message out; returns its MessageId."""
    check_structure(message, message_structure)
    if problem := subject_problem(subject):
        raise InvalidPublish(problem)
    # A FIFO topic's id: the explicit one, else the SHA-256 of the body under content-based
    # deduplication; a duplicate within five minutes is accepted and not delivered.
    deduplication_id = sns_topic_dedup.deduplication_id(topic, message, deduplication_id)
    message_id = str(uuid.uuid4())
    if first := sns_topic_dedup.first_copy(topic, group_id, deduplication_id, message_id):
        return first
    publication = Publication(
        topic=topic,
        message_id=message_id,
        message=message,
        subject=subject,
        attributes=dict(message_attributes or {}),
        group_id=group_id,
        dedup_id=deduplication_id,
        structure=message_structure,
        sent_at=sns_messages.timestamp(),
    )
    metrics = {"NumberOfMessagesPublished": 1.0, "PublishSize": float(len(message.encode()))}
    for subscription in sns_subscriptions.of_topic(topic):
        outcome = deliver(subscription, publication)
        for name in _metric_names(outcome, subscription, publication):
            metrics[name] = metrics.get(name, 0.0) + 1.0
    _put_metrics(topic, metrics)
    topic.sent_notifications.append(
        (publication.message_id, message, subject, message_attributes, group_id)
    )
    return publication.message_id


def _metric_names(outcome: Outcome, subscription: Any, publication: Publication) -> list[str]:
    if outcome.status == "delivered":
        return ["NumberOfNotificationsDelivered"]
    if outcome.status == "failed":
        return ["NumberOfNotificationsFailed"]
    if outcome.status == "filtered":
        names = ["NumberOfNotificationsFilteredOut"]
        if _scope(subscription) == sns_filter.ATTRIBUTES and not publication.attributes:
            names.append("NumberOfNotificationsFilteredOut-NoMessageAttributes")
        return names
    return []


def deliver(subscription: Any, publication: Publication) -> Outcome:
    """Deliver one publication to one subscription and log the delivery status."""
    if sns_subscriptions.is_pending(subscription.arn):
        return Outcome("pending")
    if not _accepts(subscription, publication):
        return Outcome("filtered")
    message = _message_for(subscription.protocol, publication)
    started = time.monotonic()
    try:
        if subscription.protocol == "sqs":
            outcome = _to_queue(subscription, publication, message)
        elif subscription.protocol == "lambda":
            outcome = _to_function(subscription, publication, message)
        elif subscription.protocol in ("email", "email-json"):
            outcome = _to_mailbox(subscription, publication, message)
        elif subscription.protocol in ("http", "https"):
            outcome = _to_endpoint(subscription, publication, message)
        else:
            outcome = _as_moto_does(subscription, publication)
    except Exception as exc:  # the endpoint refused: a failed delivery, never a failed Publish
        outcome = Outcome("failed", json.dumps({"error": repr(exc)}), 500)
    # The delivery log's dwell time is AWS time: the real time it took, on the backend's clock.
    dwell = clock.to_aws(time.monotonic() - started)
    _log_status(subscription, publication, message, outcome, dwell)
    return outcome


def _scope(subscription: Any) -> str:
    return subscription.attributes.get("FilterPolicyScope") or sns_filter.ATTRIBUTES


def _accepts(subscription: Any, publication: Publication) -> bool:
    text = subscription.attributes.get("FilterPolicy")
    if not text:
        return True
    try:
        policy = json.loads(text)
    except ValueError:
        return False
    return sns_filter.matches(
        policy, _scope(subscription), publication.message, publication.attributes
    )


def _message_for(protocol: str, publication: Publication) -> str:
    """With ``MessageStructure=json``, each protocol gets its own entry, or "default"."""
    if publication.structure != "json":
        return publication.message
    document = json.loads(publication.message)
    value = document.get(protocol, document["default"])
    return value if isinstance(value, str) else json.dumps(value)


def _base_url(subscription: Any) -> str:
    return sns_subscriptions.base_url(subscription.arn)


def _notification(publication: Publication, message: str, unsubscribe: str, base: str) -> str:
    """The signed JSON notification as text (an SQS body without raw delivery, an email-json)."""
    return sns_messages.as_json_text(
        sns_messages.notification(
            topic_arn=publication.topic.arn,
            message_id=publication.message_id,
            message=message,
            subject=publication.subject,
            sent_at=publication.sent_at,
            unsubscribe_url=unsubscribe,
            attributes=publication.attributes,
            base_url=base,
            version=sns_messages.signature_version(publication.topic),
        )
    )


# ------------------------------------------------------------------------------------ SQS


def _to_queue(subscription: Any, publication: Publication, message: str) -> Outcome:
    try:
        backend, queue = _permitted_queue(subscription.endpoint, publication)
    except ServiceError as refused:
        return Outcome("failed", _sqs_error(refused), refused.status)
    if refusal := _key_refusal(queue, publication):
        return Outcome("failed", refusal, 400)
    raw = str(subscription.attributes.get("RawMessageDelivery", "")).lower() == "true"
    if raw:
        body, attributes = message, _sqs_attributes(publication.attributes)
    else:
        base = _base_url(subscription)
        unsubscribe = sns_messages.unsubscribe_link(base, subscription.arn)
        body, attributes = _notification(publication, message, unsubscribe, base), {}
    # "The SNS FIFO topic passes the group ID to the subscribed Amazon SQS FIFO queues ...
    # Message group ID is not passed to Amazon SQS standard queues" (fifo-message-grouping).
    fifo = bool(getattr(queue, "fifo_queue", False))
    sent = backend.send_message(
        queue.name,
        body,
        message_attributes=attributes,
        deduplication_id=publication.dedup_id if fifo else None,
        group_id=publication.group_id if fifo else None,
        validate_group_id=False,
    )
    return Outcome(
        "delivered", json.dumps({"sqsRequestId": str(uuid.uuid4()), "sqsMessageId": sent.id})
    )


def _permitted_queue(endpoint: str, publication: Publication) -> tuple[Any, Any]:
    """moto's SQS backend and queue a subscription's endpoint names, if the queue's policy lets
    the topic send to it; raises what SQS answers SNS otherwise."""
    from moto.sqs.exceptions import QueueDoesNotExist

    parts = endpoint.split(":")
    if len(parts) != 6:
        raise InvalidParameter("bad queue ARN")
    backend = moto_state.sqs(parts[4], parts[3])
    try:
        queue = backend.get_queue(parts[5])
    except QueueDoesNotExist:
        raise NonExistentQueue("The queue does not exist.") from None
    request = Request(
        SNS_PRINCIPAL,
        "sqs:SendMessage",
        queue.queue_arn,
        {"aws:SourceArn": publication.topic.arn, "aws:SourceAccount": publication.topic.account_id},
    )
    if not allows(queue.policy, request):
        raise AccessDenied(
            f"Access to the resource https://sqs.{parts[3]}.amazonaws.com/{parts[4]}/"
            f"{parts[5]} is denied."
        )
    return backend, queue


def _key_refusal(queue: Any, publication: Publication) -> str | None:
    """Why SNS cannot use an SSE-KMS queue's key (its delivery-status ``providerResponse``), or
    None when the queue has no KMS key or the key's policy lets SNS generate data keys and
    decrypt. AWS (SQS key management): encrypted queues work with SNS only with a customer
    managed key whose policy allows the service principal ``kms:GenerateDataKey`` and
    ``kms:Decrypt``; "you can't modify the key policy of an AWS managed KMS key for Amazon SQS",
    whose policy admits only the account's own principals (moto's ``alias/aws/sqs`` key has the
    account-only default policy, so it refuses SNS here too)."""
    key_id = getattr(queue, "kms_master_key_id", None)
    if not key_id:
        return None
    parts = queue.queue_arn.split(":")
    try:
        key = moto_state.kms(parts[4], parts[3]).describe_key(key_id)
    except Exception:  # moto raises KeyError, NotFoundException or AttributeError
        return _provider_error("KMS.NotFoundException", f"Invalid keyId {key_id}")
    if not key.enabled:
        return _provider_error("KMS.DisabledException", f"{key.arn} is disabled.")
    source = {"aws:SourceArn": publication.topic.arn, "aws:SourceAccount": parts[4]}
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        if not allows(key.policy, Request(SNS_PRINCIPAL, action, key.arn, source)):
            return _provider_error(
                "KMS.AccessDeniedException",
                f"The key policy of {key.arn} does not allow {SNS_PRINCIPAL} {action}",
            )
    return None


def _provider_error(code: str, message: str) -> str:
    """A refusal by SQS (or its KMS key) as SNS logs it in the delivery status
    (``providerResponse``)."""
    return json.dumps({"ErrorCode": code, "ErrorMessage": message, "sqsRequestId": "Unrecoverable"})


def _sqs_error(refused: ServiceError) -> str:
    """SQS's refusal as SNS logs it in the delivery status (``providerResponse``)."""
    return _provider_error(refused.code, refused.message)


def _sqs_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """SNS attributes (``Type``/``Value``) as SQS message attributes, for raw delivery."""
    converted = {}
    for name, attribute in attributes.items():
        kind = attribute["Type"]
        if kind.startswith("Binary"):
            converted[name] = {"DataType": kind, "BinaryValue": attribute["Value"]}
        else:
            converted[name] = {"DataType": kind, "StringValue": str(attribute["Value"])}
    return converted


# --------------------------------------------------------------------------------- Lambda


def _function(endpoint: str) -> Any:
    """moto's function for a subscription endpoint ARN (with optional qualifier); raises
    ``InvalidParameterValueException`` for an endpoint that is not a function ARN and
    ``ResourceNotFoundException`` for a function that does not exist."""
    parts = endpoint.split(":")
    if len(parts) not in (7, 8) or parts[5] != "function":
        raise InvalidParameterValueException(f"{endpoint} is not a function ARN.")
    qualifier = parts[7] if len(parts) == 8 else None
    try:
        return moto_state.lambda_function(parts[4], parts[3], parts[6], qualifier)
    except Exception:
        raise ResourceNotFoundException(f"Function not found: {endpoint}") from None


def _function_policy(fn: Any) -> dict[str, Any] | None:
    statements = list(getattr(fn.policy, "statements", []) or [])
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def _to_function(subscription: Any, publication: Publication, message: str) -> Outcome:
    try:
        fn = _function(subscription.endpoint)
    except ServiceError as refused:
        # SNS logs 404 whether the endpoint names no function or a function that is gone.
        return Outcome(
            "failed", json.dumps({"lambdaRequestId": "Unrecoverable", "error": refused.code}), 404
        )
    request = Request(
        SNS_PRINCIPAL,
        "lambda:InvokeFunction",
        subscription.endpoint,
        {"aws:SourceArn": publication.topic.arn, "aws:SourceAccount": publication.topic.account_id},
    )
    policy = _function_policy(fn)
    # The endpoint may carry a qualifier; a policy may name the function's own ARN instead.
    if not allows(policy, request) and not allows(
        policy, Request(SNS_PRINCIPAL, request.action, fn.function_arn, request.context)
    ):
        refused = AccessDeniedException(
            f"User: {SNS_PRINCIPAL} is not authorized to perform: lambda:InvokeFunction on "
            f"resource: {subscription.endpoint} because no resource-based policy allows the "
            "lambda:InvokeFunction action"
        )
        document = {
            "lambdaRequestId": "Unrecoverable",
            "ErrorCode": refused.code,
            "ErrorMessage": refused.message,
        }
        return Outcome("failed", json.dumps(document), refused.status)
    event = sns_messages.lambda_event(
        subscription_arn=subscription.arn,
        topic_arn=publication.topic.arn,
        message_id=publication.message_id,
        message=message,
        subject=publication.subject,
        sent_at=publication.sent_at,
        attributes=publication.attributes,
        base_url=_base_url(subscription),
    )
    try:
        request_id = lambda_runtime.invoke_async(
            fn, event, invoked_arn=subscription.endpoint, endpoint_url=_base_url(subscription)
        )
    except lambda_runtime.UnsupportedFunction as exc:
        return Outcome(
            "failed", json.dumps({"lambdaRequestId": "Unrecoverable", "error": str(exc)}), 400
        )
    return Outcome("delivered", json.dumps({"lambdaRequestId": request_id}), 202)


# ---------------------------------------------------------------------------------- email


def _to_mailbox(subscription: Any, publication: Publication, message: str) -> Outcome:
    base = _base_url(subscription)
    unsubscribe = sns_messages.unsubscribe_link(base, subscription.arn, subscription.endpoint)
    if subscription.protocol == "email":
        text = sns_messages.notification_email(message, unsubscribe)
    else:
        text = _notification(publication, message, unsubscribe, base)
    MAILBOX.deliver(
        source="sns",
        sender=sns_messages.sender(publication.topic.display_name),
        recipients=[subscription.endpoint],
        subject=publication.subject or sns_messages.DEFAULT_SUBJECT,
        text=text,
        headers={
            "x-amz-sns-message-id": publication.message_id,
            "x-amz-sns-subscription-arn": subscription.arn,
        },
    )
    return Outcome("delivered", "email accepted")


# ------------------------------------------------------------------------------ HTTP/HTTPS


def _to_endpoint(subscription: Any, publication: Publication, message: str) -> Outcome:
    """POST the notification to a local http/https endpoint, with SNS's headers; raw delivery
    POSTs the message itself (and ``x-amz-sns-rawdelivery: true``)."""
    headers = http_endpoints.headers(
        "Notification", publication.message_id, publication.topic.arn, subscription.arn
    )
    if str(subscription.attributes.get("RawMessageDelivery", "")).lower() == "true":
        body = message
        headers["x-amz-sns-rawdelivery"] = "true"
    else:
        base = _base_url(subscription)
        unsubscribe = sns_messages.unsubscribe_link(base, subscription.arn)
        body = _notification(publication, message, unsubscribe, base)
    status, answer = http_endpoints.post(subscription.endpoint, body, headers)
    if 200 <= status < 300:
        return Outcome("delivered", answer, status)
    return Outcome("failed", answer, status or 500)


def _as_moto_does(subscription: Any, publication: Publication) -> Outcome:
    try:
        MOTO_SUBSCRIPTION_PUBLISH(
            subscription,
            publication.message,
            publication.message_id,
            subject=publication.subject,
            message_attributes=publication.attributes,
            group_id=publication.group_id,
            deduplication_id=publication.dedup_id,
            message_structure=publication.structure,
        )
    except Exception as exc:
        return Outcome("failed", str(exc), 500)
    return Outcome("delivered")


# ------------------------------------------------------------------- metrics and status logs

_METRICS_LOCK = threading.Lock()


def _put_metrics(topic: Any, metrics: dict[str, float]) -> None:
    moment = datetime.datetime.fromtimestamp(clock.now(), tz=datetime.UTC).replace(tzinfo=None)
    data = [
        {
            "MetricName": name,
            "Value": value,
            "Unit": "Bytes" if name == "PublishSize" else "Count",
            "Timestamp": moment,
            "Dimensions": [{"Name": "TopicName", "Value": topic.name}],
        }
        for name, value in metrics.items()
    ]
    region = topic.arn.split(":")[3]
    with _METRICS_LOCK:
        moto_state.cloudwatch(topic.account_id, region).put_metric_data("AWS/SNS", data)


def _feedback(topic: Any, protocol: str, kind: str) -> str | None:
    prefix = _FEEDBACK_PREFIX.get(protocol)
    if prefix is None:
        return None
    value = getattr(topic, f"{prefix}_{kind}", None)
    return str(value) if value else None


def _log_status(
    subscription: Any, publication: Publication, message: str, outcome: Outcome, dwell: float
) -> None:
    topic = publication.topic
    if outcome.status == "failed":
        if not _feedback(topic, subscription.protocol, "failure_feedback_role_arn"):
            return
        status, suffix = "FAILURE", "/Failure"
    elif outcome.status == "delivered":
        if not _feedback(topic, subscription.protocol, "success_feedback_role_arn"):
            return
        rate = _feedback(topic, subscription.protocol, "success_feedback_sample_rate") or "0"
        try:
            sampled = random.uniform(0, 100) < float(rate)
        except ValueError:
            sampled = False
        if not sampled:
            return
        status, suffix = "SUCCESS", ""
    else:
        return
    region = topic.arn.split(":")[3]
    record = {
        "notification": {
            "messageMD5Sum": hashlib.md5(message.encode()).hexdigest(),
            "messageId": publication.message_id,
            "topicArn": topic.arn,
            "timestamp": publication.sent_at.replace("T", " "),
        },
        "delivery": {
            "deliveryId": str(uuid.uuid4()),
            "destination": subscription.endpoint,
            "providerResponse": outcome.provider_response,
            "dwellTimeMs": int(dwell * 1000),
            "attempts": 1,
            "statusCode": outcome.status_code,
        },
        "status": status,
    }
    moto_state.write_log_stream(
        topic.account_id,
        region,
        f"sns/{region}/{topic.account_id}/{topic.name}{suffix}",
        uuid.uuid4().hex,
        [{"timestamp": int(clock.now() * 1000), "message": json.dumps(record)}],
    )
