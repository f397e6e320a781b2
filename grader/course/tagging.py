"""The ``course`` tag on what a notebook creates in a real account.

boto3 has no "default tags" setting (Terraform's AWS provider has ``default_tags``; boto3 and
botocore do not), so this module adds one by hand: ``install_course_tag`` registers a
``before-parameter-build`` handler on a boto3 session for each create call of the services the
labs use, which adds the tag unless the call already sets one with that key. Every client of
that session — ``boto3.client(...)`` and ``boto3.resource(...)`` on the default session —
then tags what it creates, so ``course cleanup`` can tell the course's resources from the
account's others. Route 53 hosted zones take no tags at creation: an ``after-call`` handler
tags a zone once CreateHostedZone has made it, so cleanup never mistakes a zone the learner
had before (for a domain they own) for the course's.
"""

from __future__ import annotations

from typing import Any

TAG_KEY = "course"

#: (botocore event service id, operation) -> (tag parameter, its shape: "map", "list" or "kms").
TAGGED_CALLS: dict[tuple[str, str], tuple[str, str]] = {
    ("sqs", "CreateQueue"): ("tags", "map"),
    ("sns", "CreateTopic"): ("Tags", "list"),
    ("lambda", "CreateFunction"): ("Tags", "map"),
    ("lambda", "CreateEventSourceMapping"): ("Tags", "map"),
    ("iam", "CreateRole"): ("Tags", "list"),
    ("iam", "CreateUser"): ("Tags", "list"),
    ("sesv2", "CreateEmailIdentity"): ("Tags", "list"),
    ("sesv2", "CreateConfigurationSet"): ("Tags", "list"),
    ("sesv2", "CreateContactList"): ("Tags", "list"),
    ("cloudwatch", "PutMetricAlarm"): ("Tags", "list"),
    ("cloudwatch-logs", "CreateLogGroup"): ("tags", "map"),
    ("kms", "CreateKey"): ("Tags", "kms"),
}


def tag_value(prefix: str) -> str:
    """The tag's value: the learner's prefix without its dash, or the course's name."""
    return prefix.rstrip("-") or "aws-messaging-course"


def add_tag(params: dict[str, Any], parameter: str, shape: str, value: str) -> None:
    """Add ``course=value`` to a create call's ``params`` in the parameter's own shape, unless
    the call already carries a tag with the key ``course``."""
    if shape == "map":
        tags = dict(params.get(parameter) or {})
        tags.setdefault(TAG_KEY, value)
        params[parameter] = tags
        return
    key, val = ("TagKey", "TagValue") if shape == "kms" else ("Key", "Value")
    tags = list(params.get(parameter) or [])
    if not any(tag.get(key) == TAG_KEY for tag in tags):
        tags.append({key: TAG_KEY, val: value})
    params[parameter] = tags


def install_course_tag(session: Any, prefix: str) -> None:
    """Make every client of the boto3 ``session`` tag what its create calls make (see the
    module's docstring). Calling it again on the same session changes nothing more."""
    value = tag_value(prefix)
    for (service, operation), (parameter, shape) in TAGGED_CALLS.items():

        def handler(
            params: dict[str, Any],
            model: Any = None,
            _p: str = parameter,
            _s: str = shape,
            **_: Any,
        ) -> None:
            members = getattr(getattr(model, "input_shape", None), "members", {})
            if _p in members:  # an older botocore may lack the parameter
                add_tag(params, _p, _s, value)

        session.events.register(
            f"before-parameter-build.{service}.{operation}",
            handler,
            unique_id=f"course-tag-{service}-{operation}",
        )

    def tag_zone(parsed: dict[str, Any], **_: Any) -> None:
        zone = (parsed or {}).get("HostedZone", {}).get("Id", "")
        if zone:
            session.client("route53").change_tags_for_resource(
                ResourceType="hostedzone",
                ResourceId=zone.rsplit("/", 1)[-1],
                AddTags=[{"Key": TAG_KEY, "Value": value}],
            )

    session.events.register(
        "after-call.route-53.CreateHostedZone", tag_zone, unique_id="course-tag-route53"
    )
