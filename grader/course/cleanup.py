"""``course cleanup``: find what the course created in an account, then delete it.

The rule, the one thing that decides what is touched: a resource is **the course's** when

- its name is one the labs use (``COURSE_NAMES``: the constants of the labs' checks modules and
  the extra names the solution notebooks create), written with the learner's prefix
  (``settings().prefix``: ``COURSE_PREFIX``, usually empty) in front, as ``Aws.name()`` writes it —
  domains and email addresses (SES identities, Route 53 zones) are compared without the prefix;
- **or** it carries a tag whose key is ``course`` (any case): with a prefix, of the value
  ``connect("aws")`` tags with (``course.tagging``), so another learner's on a shared account
  stays; without a prefix, any value;
- an event source mapping is the course's when its function or its queue is; a log group when
  it is ``/aws/lambda/<a course function>``; DNS records when their zone is.

Everything else is listed as *left*, with the reason, and never touched. ``find()`` only reads
(list, describe, tag calls); ``delete()`` deletes the plan's items in dependency order
(mappings before functions, records before zones, keys and policies before users and roles)
and reports each failure with AWS's error instead of stopping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from course.checks.labs import (
    lab01,
    lab02,
    lab03,
    lab04,
    lab05,
    lab06,
    lab07,
    lab08,
    lab09,
    lab10,
    lab11,
)
from course.connection import LOCAL_CREDENTIALS
from course.tagging import TAG_KEY as TAG
from course.tagging import tag_value

LAMBDA_LOGS = "/aws/lambda/"

#: The names the labs create, by kind (the checks' constants, then the solutions' own extras).
COURSE_NAMES: dict[str, frozenset[str]] = {
    "queue": frozenset(
        {
            lab01.QUEUE,
            lab02.QUEUE,
            lab03.SHORT_QUEUE,
            lab03.LONG_QUEUE,
            lab04.MAIN,
            lab04.DLQ,
            lab05.FIFO,
            lab05.STANDARD,
            lab07.QUEUE,
            lab09.QUEUE,
            lab10.QUEUE,
            lab11.QUEUE,
            lab11.DLQ,
            lab11.OUTPUT,
            "encrypted-queue",
            "delay-queue",
            "orders-without-suffix",
            "filter-extensions-queue",
            "filter-encrypted-queue",
            "limits-queue",
            "etl-scratch",
            "etl-demo-queue",
        }
    ),
    "topic": frozenset({lab06.TOPIC, lab07.TOPIC, lab09.TOPIC, "filter-extensions"}),
    "function": frozenset({lab07.FUNCTION, lab11.FUNCTION, "etl-demo-slow"}),
    "role": frozenset({f"{lab07.FUNCTION}-role", f"{lab11.FUNCTION}-role"}),
    "user": frozenset({"ses-smtp-user"}),
    "configuration set": frozenset({lab09.CONFIG_SET}),
    "alarm": frozenset({"monitored-queue-oldest-message", "ses-bounce-rate", "ses-complaint-rate"}),
}
#: Domains and addresses: compared as they are (a prefix does not go into a domain).
COURSE_DOMAINS = frozenset({lab08.DOMAIN, lab08.MAIL_FROM})
COURSE_IDENTITIES = frozenset({lab08.DOMAIN, lab08.SENDER, lab08.RECIPIENT})

#: Kinds deleted first, in this order (what uses a thing goes before it); the rest follow.
DELETION_ORDER = ("event source mapping", "function", "log group", "topic", "queue", "alarm")
NOT_OURS = "not the course's: a name no lab uses and no 'course' tag"


@dataclass(frozen=True)
class Item:
    """One resource the plan deletes; ``remove`` deletes it (and what must go first)."""

    service: str
    kind: str
    name: str
    remove: Callable[[], None] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Left:
    """One resource (or a whole listing) cleanup did not delete, and why."""

    service: str
    kind: str
    name: str
    reason: str
    failed: bool = False  # True for an error (a listing or a delete), False for "not ours"


@dataclass
class Plan:
    """What ``find()`` saw: the course's resources in deletion order, and the rest."""

    items: list[Item] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)


@dataclass
class Outcome:
    """What ``delete()`` did: the items deleted, and what was left (with the failures)."""

    deleted: list[Item]
    left: list[Left]

    @property
    def ok(self) -> bool:
        """True when nothing failed (resources left because they are not ours are fine)."""
        return not any(entry.failed for entry in self.left)


Clients = Callable[[str], Any]


def clients_for(region: str, endpoint_url: str | None) -> Clients:
    """A factory of plain boto3 clients: on the local backend at ``endpoint_url`` with its
    credentials, or (``endpoint_url`` None) with whatever boto3's environment says."""
    config = Config(retries={"max_attempts": 3, "mode": "standard"})
    cache: dict[str, Any] = {}
    session = boto3.session.Session()  # one session: its loader reads each service model once

    def client(service: str) -> Any:
        if service not in cache:
            kwargs: dict[str, Any] = {"region_name": region, "config": config}
            if endpoint_url:
                kwargs["endpoint_url"] = endpoint_url
                kwargs["aws_access_key_id"] = LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"]
                kwargs["aws_secret_access_key"] = LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
            cache[service] = session.client(service, **kwargs)
        return cache[service]

    return client


def _error(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
    return str(exc)


def _course_tag(read: Callable[[], Any]) -> str | None:
    """The value of the ``course`` tag (key in any case) ``read()`` returns (a dict, or
    Key/Value pairs); None without one, or on error."""
    try:
        tags = read()
    except (BotoCoreError, ClientError):
        return None
    pairs = (
        tags.items()
        if isinstance(tags, dict)
        else (
            (t.get("Key", t.get("TagKey", "")), t.get("Value", t.get("TagValue", "")))
            for t in tags or []
        )
    )
    return next((str(value) for key, value in pairs if str(key).lower() == TAG), None)


#: One resource as a walk sees it: its name, whether its name is the course's, how to read its
#: tags (only asked when the name is not), how to delete it.
Seen = tuple[str, bool, Callable[[], Any], Callable[[], None]]


class _Finder:
    """Walks one account service by service, sorting each resource into the plan or left."""

    def __init__(self, client: Clients, prefix: str, arn_base: str) -> None:
        self.client = client
        self.prefix = prefix
        self.arn_base = arn_base  # arn:aws:ses:<region>:<account>, for SES's tag calls
        self.plan = Plan()
        self.functions: set[str] = set()  # names of the course's functions
        self.queues: set[str] = set()  # ARNs of the course's queues

    def named(self, kind: str, name: str) -> bool:
        """True when ``name`` is one the labs give a ``kind``, with the learner's prefix."""
        return any(name == self.prefix + base for base in COURSE_NAMES[kind])

    def tagged(self, tags: Callable[[], Any]) -> bool:
        """True when the ``course`` tag marks the resource as this learner's: with a prefix, a
        tag of that prefix's value (another learner's tag on a shared account is theirs);
        without one, any value."""
        value = _course_tag(tags)
        if value is None:
            return False
        return not self.prefix or value == tag_value(self.prefix)

    def walk(self, service: str, kind: str, seen: Callable[[], Iterable[Seen]]) -> set[str]:
        """Sort what one listing sees into the plan (named, or tagged ``course``) or into left;
        the names planned. A listing that fails is left as a failure, not fatal."""
        planned: set[str] = set()
        try:
            for name, ours, tags, remove in seen():
                if ours or self.tagged(tags):
                    self.plan.items.append(Item(service, kind, name, remove))
                    planned.add(name)
                else:
                    self.plan.left.append(Left(service, kind, name, NOT_OURS))
        except (BotoCoreError, ClientError) as exc:
            self.plan.left.append(Left(service, kind, "*", f"could not list: {_error(exc)}", True))
        return planned

    def pages(self, service: str, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
        """Every entry under ``key`` of every page of a list call."""
        client = self.client(service)
        if client.can_paginate(operation):
            for page in client.get_paginator(operation).paginate(**kwargs):
                yield from page.get(key, [])
            return
        while True:  # SES v2's lists have a NextToken but no paginator in botocore
            page = getattr(client, operation)(**kwargs)
            yield from page.get(key, [])
            if not page.get("NextToken"):
                return
            kwargs = {**kwargs, "NextToken": page["NextToken"]}

    # ----------------------------------------------------------------------- services

    def sqs_queues(self) -> Iterator[Seen]:
        sqs = self.client("sqs")
        for url in self.pages("sqs", "list_queues", "QueueUrls"):
            name = url.rstrip("/").rsplit("/", 1)[-1]
            yield (
                name,
                self.named("queue", name),
                lambda url=url: sqs.list_queue_tags(QueueUrl=url).get("Tags", {}),
                lambda url=url: sqs.delete_queue(QueueUrl=url),
            )

    def queue_arns(self, names: set[str]) -> None:
        """Note the ARNs of the course's queues (their event source mappings are the course's)."""
        sqs = self.client("sqs")
        for name in names:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            self.queues.add(answer["Attributes"]["QueueArn"])

    def lambda_functions(self) -> Iterator[Seen]:
        aws_lambda = self.client("lambda")
        for function in self.pages("lambda", "list_functions", "Functions"):
            name, arn = function["FunctionName"], function["FunctionArn"]
            yield (
                name,
                self.named("function", name),
                lambda arn=arn: aws_lambda.list_tags(Resource=arn).get("Tags", {}),
                lambda name=name: aws_lambda.delete_function(FunctionName=name),
            )

    def event_source_mappings(self) -> Iterator[Seen]:
        """Mappings: the course's when their function or their queue is (they have no tags)."""
        aws_lambda = self.client("lambda")
        for mapping in self.pages("lambda", "list_event_source_mappings", "EventSourceMappings"):
            function = mapping.get("FunctionArn", "").rsplit(":", 1)[-1]
            source = mapping.get("EventSourceArn", "")
            yield (
                f"{source.rsplit(':', 1)[-1]} -> {function} ({mapping['UUID']})",
                function in self.functions or source in self.queues,
                dict,
                lambda uuid=mapping["UUID"]: aws_lambda.delete_event_source_mapping(UUID=uuid),
            )

    def log_groups(self) -> Iterator[Seen]:
        logs = self.client("logs")
        for group in self.pages("logs", "describe_log_groups", "logGroups"):
            name = group["logGroupName"]
            function = name.removeprefix(LAMBDA_LOGS) if name.startswith(LAMBDA_LOGS) else ""
            yield (
                name,
                function in self.functions or (function != "" and self.named("function", function)),
                lambda name=name: logs.list_tags_log_group(logGroupName=name).get("tags", {}),
                lambda name=name: logs.delete_log_group(logGroupName=name),
            )

    def topics(self) -> Iterator[Seen]:
        sns = self.client("sns")
        for topic in self.pages("sns", "list_topics", "Topics"):
            arn = topic["TopicArn"]
            yield (
                arn.rsplit(":", 1)[-1],
                self.named("topic", arn.rsplit(":", 1)[-1]),
                lambda arn=arn: sns.list_tags_for_resource(ResourceArn=arn).get("Tags", []),
                lambda arn=arn: sns.delete_topic(TopicArn=arn),
            )

    def alarms(self) -> Iterator[Seen]:
        cloudwatch = self.client("cloudwatch")
        for alarm in self.pages("cloudwatch", "describe_alarms", "MetricAlarms"):
            name, arn = alarm["AlarmName"], alarm["AlarmArn"]
            yield (
                name,
                self.named("alarm", name),
                lambda arn=arn: cloudwatch.list_tags_for_resource(ResourceARN=arn).get("Tags", []),
                lambda name=name: cloudwatch.delete_alarms(AlarmNames=[name]),
            )

    def _ses_tags(self, path: str) -> Callable[[], Any]:
        ses = self.client("sesv2")
        arn = f"{self.arn_base}:{path}"
        return lambda: ses.list_tags_for_resource(ResourceArn=arn).get("Tags", [])

    def configuration_sets(self) -> Iterator[Seen]:
        ses = self.client("sesv2")
        for name in self.pages("sesv2", "list_configuration_sets", "ConfigurationSets"):
            yield (
                name,
                self.named("configuration set", name),
                self._ses_tags(f"configuration-set/{name}"),
                lambda name=name: ses.delete_configuration_set(ConfigurationSetName=name),
            )

    def identities(self) -> Iterator[Seen]:
        ses = self.client("sesv2")
        for identity in self.pages("sesv2", "list_email_identities", "EmailIdentities"):
            name = identity["IdentityName"]
            yield (
                name,
                name in COURSE_IDENTITIES,
                self._ses_tags(f"identity/{name}"),
                lambda name=name: ses.delete_email_identity(EmailIdentity=name),
            )

    def hosted_zones(self) -> Iterator[Seen]:
        route53 = self.client("route53")
        for zone in self.pages("route53", "list_hosted_zones", "HostedZones"):
            zone_id, name = zone["Id"].rsplit("/", 1)[-1], zone["Name"].rstrip(".")
            yield (
                name,
                name in COURSE_DOMAINS,
                lambda zone_id=zone_id: route53.list_tags_for_resource(
                    ResourceType="hostedzone", ResourceId=zone_id
                )["ResourceTagSet"].get("Tags", []),
                lambda zone_id=zone_id, name=name: _delete_zone(route53, zone_id, name),
            )

    def users(self) -> Iterator[Seen]:
        iam = self.client("iam")
        for name in (user["UserName"] for user in self.pages("iam", "list_users", "Users")):
            yield (
                name,
                self.named("user", name),
                lambda name=name: iam.list_user_tags(UserName=name).get("Tags", []),
                lambda name=name: _delete_user(iam, name),
            )

    def kms_keys(self) -> Iterator[Seen]:
        """Customer managed keys: the course's by the alias ``alias/<a course queue's name>``
        (lab 07's extension) or the tag. A key cannot be deleted at once: its deletion is
        scheduled (7 days, AWS's shortest) and its aliases go; one already scheduled is left."""
        kms = self.client("kms")
        aliases: dict[str, list[str]] = {}
        for alias in self.pages("kms", "list_aliases", "Aliases"):
            if alias.get("TargetKeyId") and not alias["AliasName"].startswith("alias/aws/"):
                aliases.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
        for key in self.pages("kms", "list_keys", "Keys"):
            key_id = key["KeyId"]
            meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
            if meta.get("KeyManager") == "AWS" or meta.get("KeyState") == "PendingDeletion":
                continue  # AWS's own keys, and keys on their way out, are nobody's to delete
            names = aliases.get(key_id, [])
            yield (
                names[0] if names else key_id,
                any(self.named("queue", n.removeprefix("alias/")) for n in names),
                lambda key_id=key_id: kms.list_resource_tags(KeyId=key_id).get("Tags", []),
                lambda key_id=key_id, names=names: _delete_key(kms, key_id, names),
            )

    def roles(self) -> Iterator[Seen]:
        iam = self.client("iam")
        for name in (role["RoleName"] for role in self.pages("iam", "list_roles", "Roles")):
            yield (
                name,
                self.named("role", name),
                lambda name=name: iam.list_role_tags(RoleName=name).get("Tags", []),
                lambda name=name: _delete_role(iam, name),
            )


def _delete_key(kms: Any, key_id: str, aliases: list[str]) -> None:
    """Delete a key's aliases and schedule the key's deletion in 7 days (AWS's shortest wait)."""
    for alias in aliases:
        kms.delete_alias(AliasName=alias)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)


def _delete_zone(route53: Any, zone_id: str, name: str) -> None:
    """Delete a hosted zone's records (all but its own SOA and NS), then the zone."""
    apex = f"{name}."
    changes = [
        {"Action": "DELETE", "ResourceRecordSet": record}
        for page in route53.get_paginator("list_resource_record_sets").paginate(
            HostedZoneId=zone_id
        )
        for record in page["ResourceRecordSets"]
        if not (record["Type"] in ("SOA", "NS") and record["Name"] == apex)
    ]
    if changes:
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    route53.delete_hosted_zone(Id=zone_id)


def _delete_user(iam: Any, name: str) -> None:
    """Delete a user's access keys and policies (inline and attached), then the user."""
    for key in iam.list_access_keys(UserName=name).get("AccessKeyMetadata", []):
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    for policy in iam.list_user_policies(UserName=name).get("PolicyNames", []):
        iam.delete_user_policy(UserName=name, PolicyName=policy)
    for policy in iam.list_attached_user_policies(UserName=name).get("AttachedPolicies", []):
        iam.detach_user_policy(UserName=name, PolicyArn=policy["PolicyArn"])
    iam.delete_user(UserName=name)


def _delete_role(iam: Any, name: str) -> None:
    """Delete a role's policies (inline and attached), then the role."""
    for policy in iam.list_role_policies(RoleName=name).get("PolicyNames", []):
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for policy in iam.list_attached_role_policies(RoleName=name).get("AttachedPolicies", []):
        iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=name)


def find(client: Clients, region: str, prefix: str = "") -> Plan:
    """Read the account and plan the clean-up: the course's resources in the order they can be
    deleted, and every other resource seen, left with its reason. Makes no write call."""
    try:
        account = client("sts").get_caller_identity()["Account"]
    except (BotoCoreError, ClientError):
        account = "*"
    finder = _Finder(client, prefix, f"arn:aws:ses:{region}:{account}")
    planned = finder.walk("sqs", "queue", finder.sqs_queues)
    try:
        finder.queue_arns(planned)
    except (BotoCoreError, ClientError) as exc:  # a queue gone since: its mappings stay unknown
        finder.plan.left.append(Left("sqs", "queue", "*", f"could not read: {_error(exc)}", True))
    finder.functions = finder.walk("lambda", "function", finder.lambda_functions)
    finder.walk("lambda", "event source mapping", finder.event_source_mappings)
    finder.walk("logs", "log group", finder.log_groups)
    finder.walk("sns", "topic", finder.topics)
    finder.walk("cloudwatch", "alarm", finder.alarms)
    finder.walk("ses", "configuration set", finder.configuration_sets)
    finder.walk("ses", "identity", finder.identities)
    finder.walk("route53", "hosted zone", finder.hosted_zones)
    finder.walk("kms", "key", finder.kms_keys)
    finder.walk("iam", "user", finder.users)
    finder.walk("iam", "role", finder.roles)
    rank = {kind: n for n, kind in enumerate(DELETION_ORDER)}
    items = sorted(finder.plan.items, key=lambda item: rank.get(item.kind, len(rank)))
    return Plan(items, finder.plan.left)


def delete(plan: Plan) -> Outcome:
    """Delete each item of ``plan`` in order; an item whose delete fails is left with AWS's
    error (the rest still go)."""
    deleted: list[Item] = []
    left = list(plan.left)
    for item in plan.items:
        try:
            item.remove()
        except (BotoCoreError, ClientError) as exc:
            left.append(Left(item.service, item.kind, item.name, _error(exc), True))
        else:
            deleted.append(item)
    return Outcome(deleted, left)
