"""SNS topics as AWS runs them: the kit's fan-out in moto's ``Topic.publish``, and topic calls.

The kit's ``course.backend.sns.delivery.publish`` takes over from moto's ``Topic.publish``. Why
replace moto's method rather than hook the Publish call: every way a message reaches a topic
(Publish, PublishBatch, and other services publishing to a topic inside the backend) goes
through ``Topic.publish``; moto's validation of the request stays in place, and only the fan-out
(filtering, permissions, delivery, metrics) becomes the kit's.

Also here, as AWS documents:
- ``Publish`` refuses a Subject AWS refuses (``InvalidParameter``), and ``PublishBatch`` lists
  an entry with such a Subject in ``Failed`` (moto dropped one over 100 characters);
- ``GetTopicAttributes`` counts SubscriptionsPending / Confirmed / Deleted and returns the
  delivery-status attributes, SignatureVersion and FifoThroughputScope that were set (moto
  returns zeros and drops them);
- ``/_course/sns/<certificate>.pem`` serves the certificate that signs the messages.

https://docs.aws.amazon.com/sns/latest/api/API_GetTopicAttributes.html
"""

from __future__ import annotations

from typing import Any

from moto.sns.exceptions import InvalidParameterValue
from moto.sns.models import SNSBackend, Topic

from course.backend.core.registry import ApiRequest, Reply, after, before, page, success
from course.backend.sns import delivery as sns_delivery
from course.backend.sns import messages as sns_messages
from course.backend.sns import subscriptions as sns_subscriptions
from course.backend.sns.exceptions import InvalidParameter

FEEDBACK_ATTRIBUTES = [
    f"{prefix}{kind}"
    for prefix in ("HTTP", "Firehose", "Lambda", "Application", "SQS")
    for kind in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")
]
#: Other attributes a topic shows once they were set (moto keeps them and does not show them).
SET_ATTRIBUTES = ["SignatureVersion", "FifoThroughputScope"]


def _publish(topic: Topic, message: str, **kwargs: Any) -> str:
    """moto's ``Topic.publish``, replaced: the kit's fan-out; a message AWS refuses raises moto's
    ``InvalidParameterValue``, so moto answers the call with it."""
    try:
        return sns_delivery.publish(topic, message, **kwargs)
    except sns_delivery.InvalidPublish as exc:
        raise InvalidParameterValue(str(exc)) from None


Topic.publish = _publish  # type: ignore[method-assign,assignment]

_MOTO_BACKEND_PUBLISH = SNSBackend.publish


def _backend_publish(backend: SNSBackend, *args: Any, **kwargs: Any) -> str:
    """moto's ``SNSBackend.publish``, whose own Subject check raises a plain ``ValueError`` over
    100 characters: PublishBatch then drops the entry, in neither Successful nor Failed. The
    Subject is judged first, as AWS does, so a bad one is ``InvalidParameter`` (a batch lists
    the entry in Failed)."""
    if problem := sns_delivery.subject_problem(kwargs.get("subject")):
        raise InvalidParameterValue(problem)
    return _MOTO_BACKEND_PUBLISH(backend, *args, **kwargs)


SNSBackend.publish = _backend_publish  # type: ignore[method-assign]


@before("sns", "Publish")
def check_subject(request: ApiRequest) -> Reply | None:
    """A Subject with a line break, empty, or of 100 characters or more is InvalidParameter
    (moto accepted newlines and answered HTTP 500 to long subjects)."""
    if problem := sns_delivery.subject_problem(request.params.get("Subject")):
        raise InvalidParameter(problem)
    return None


@after("sns", "GetTopicAttributes")
def topic_attributes(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply | None:
    """Real subscription counts, and the delivery-status attributes the topic has."""
    if reply.status >= 400:
        return None
    from moto.core.utils import camelcase_to_underscores

    arn = request.params.get("TopicArn", "")
    topic = sns_subscriptions.moto_topic(arn)
    if topic is None:
        return None
    subscriptions = sns_subscriptions.of_topic(topic)
    pending = sum(1 for s in subscriptions if sns_subscriptions.is_pending(s.arn))
    attributes = dict(parsed.get("Attributes", {}))
    attributes["SubscriptionsPending"] = str(pending)
    attributes["SubscriptionsConfirmed"] = str(len(subscriptions) - pending)
    attributes["SubscriptionsDeleted"] = str(sns_subscriptions.deleted_count(arn))
    for name in FEEDBACK_ATTRIBUTES + SET_ATTRIBUTES:
        value = getattr(topic, camelcase_to_underscores(name), None)
        if value:
            attributes[name] = str(value)
    return success(request.call, {"Attributes": attributes})


@page("/_course/sns/SimpleNotificationService-")
def certificate(environ: dict[str, Any], body: bytes) -> Reply:
    """The certificate whose key signs SNS messages (the messages' ``SigningCertURL``)."""
    if environ.get("PATH_INFO", "").endswith(sns_messages.CERT_NAME):
        return Reply(
            200, sns_messages.certificate_pem(), [("Content-Type", "application/x-pem-file")]
        )
    return Reply(404, b"no such certificate", [("Content-Type", "text/plain")])
