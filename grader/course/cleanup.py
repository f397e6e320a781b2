"""``course cleanup``: find what the course created in an account, then delete it.

The rule, the one thing that decides what is touched: a resource is **the course's** when

- its name is one the labs use (``COURSE_NAMES``: the constants of the labs' checks modules and
  the extra names the solution notebooks create), written with the learner's prefix
  (``settings().prefix``, empty on the local backend) in front, as ``Aws.name()`` writes it —
  domains and email addresses (SES identities, Route 53 zones) are compared without the prefix;
- **or** it carries a tag whose key is ``course`` (any case, any value);
- an event source mapping is the course's when its function or its queue is; a log group when
  it is ``/aws/lambda/<a course function>``; DNS records when their zone is.

Everything else is listed as *left*, with the reason, and never touched. ``find()`` only reads
(list, describe, tag calls); ``delete()`` deletes the plan's items in dependency order
(mappings before functions, records before zones, keys and policies before users and roles)
and reports each failure with AWS's error instead of stopping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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

TAG = "course"
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


def clients_for(backend: str, region: str, endpoint_url: str | None) -> Clients:
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


def _tag_keys(read: Callable[[], Any]) -> set[str]:
    """The lower-cased tag keys ``read()`` returns (a dict, or Key/Value pairs); none on error."""
    try:
        tags = read()
    except (BotoCoreError, ClientError):
        return set()
    keys = tags.keys() if isinstance(tags, dict) else (t.get("Key", "") for t in tags or [])
    return {str(key).lower() for key in keys}


class _Finder:
    """Walks one account service by service, sorting each resource into the plan or left."""

    def __init__(self, client: Clients, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.plan = Plan()
        self.functions: set[str] = set()
        self.queues: set[str] = set()  # ARNs of the course's queues

    def named(self, kind: str, name: str) -> bool:
        return any(name == self.prefix + base for base in COURSE_NAMES[kind])

    def sort(
        self,
        service: str,
        kind: str,
        name: str,
        ours: bool,
        tags: Callable[[], Any],
        remove: Callable[[], None],
    ) -> bool:
        """Put one resource into the plan (named, or tagged ``course``) or into left."""
        if ours or TAG in _tag_keys(tags):
            self.plan.items.append(Item(service, kind, name, remove))
            return True
        self.plan.left.append(Left(service, kind, name, NOT_OURS))
        return False

    def listing(self, service: str, kind: str, walk: Callable[[], None]) -> None:
        """Run one service's walk; a listing that fails is left as a failure, not fatal."""
        try:
            walk()
        except (BotoCoreError, ClientError) as exc:
            self.plan.left.append(Left(service, kind, "*", f"could not list: {_error(exc)}", True))

    def pages(self, service: str, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
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

    def sqs_queues(self) -> list[tuple[str, str]]:
        sqs = self.client("sqs")
        found = []
        for url in self.pages("sqs", "list_queues", "QueueUrls"):
            name = url.rstrip("/").rsplit("/", 1)[-1]
            ours = self.sort(
                "sqs",
                "queue",
                name,
                self.named("queue", name),
                lambda url=url: sqs.list_queue_tags(QueueUrl=url).get("Tags", {}),
                lambda url=url: sqs.delete_queue(QueueUrl=url),
            )
            found.append((url, name))
            if ours:
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
                self.queues.add(arn["Attributes"]["QueueArn"])
        return found

    def lambda_functions(self) -> None:
        aws_lambda = self.client("lambda")
        for function in self.pages("lambda", "list_functions", "Functions"):
            name, arn = function["FunctionName"], function["FunctionArn"]
            if self.sort(
                "lambda",
                "function",
                name,
                self.named("function", name),
                lambda arn=arn: aws_lambda.list_tags(Resource=arn).get("Tags", {}),
                lambda name=name: aws_lambda.delete_function(FunctionName=name),
            ):
                self.functions.add(name)

    def event_source_mappings(self) -> list[Item]:
        """The course's mappings (deleted first: before their functions and queues)."""
        aws_lambda = self.client("lambda")
        mappings = []
        for mapping in self.pages("lambda", "list_event_source_mappings", "EventSourceMappings"):
            function = mapping.get("FunctionArn", "").rsplit(":", 1)[-1]
            source = mapping.get("EventSourceArn", "")
            label = f"{source.rsplit(':', 1)[-1]} -> {function} ({mapping['UUID']})"
            if function in self.functions or source in self.queues:
                mappings.append(
                    Item(
                        "lambda",
                        "event source mapping",
                        label,
                        lambda uuid=mapping["UUID"]: aws_lambda.delete_event_source_mapping(
                            UUID=uuid
                        ),
                    )
                )
            else:
                self.plan.left.append(Left("lambda", "event source mapping", label, NOT_OURS))
        return mappings

    def log_groups(self) -> None:
        logs = self.client("logs")
        for group in self.pages("logs", "describe_log_groups", "logGroups"):
            name = group["logGroupName"]
            function = name[len(LAMBDA_LOGS) :] if name.startswith(LAMBDA_LOGS) else None
            self.sort(
                "logs",
                "log group",
                name,
                function is not None
                and (function in self.functions or self.named("function", function)),
                lambda name=name: logs.list_tags_log_group(logGroupName=name).get("tags", {}),
                lambda name=name: logs.delete_log_group(logGroupName=name),
            )

    def topics(self) -> None:
        sns = self.client("sns")
        for topic in self.pages("sns", "list_topics", "Topics"):
            arn = topic["TopicArn"]
            name = arn.rsplit(":", 1)[-1]
            self.sort(
                "sns",
                "topic",
                name,
                self.named("topic", name),
                lambda arn=arn: sns.list_tags_for_resource(ResourceArn=arn).get("Tags", []),
                lambda arn=arn: sns.delete_topic(TopicArn=arn),
            )

    def alarms(self) -> None:
        cloudwatch = self.client("cloudwatch")
        for alarm in self.pages("cloudwatch", "describe_alarms", "MetricAlarms"):
            name, arn = alarm["AlarmName"], alarm["AlarmArn"]
            self.sort(
                "cloudwatch",
                "alarm",
                name,
                self.named("alarm", name),
                lambda arn=arn: cloudwatch.list_tags_for_resource(ResourceARN=arn).get("Tags", []),
                lambda name=name: cloudwatch.delete_alarms(AlarmNames=[name]),
            )

    def ses(self, arn_base: str) -> None:
        ses = self.client("sesv2")

        def tags(arn: str) -> Callable[[], Any]:
            return lambda: ses.list_tags_for_resource(ResourceArn=arn).get("Tags", [])

        for name in self.pages("sesv2", "list_configuration_sets", "ConfigurationSets"):
            self.sort(
                "ses",
                "configuration set",
                name,
                self.named("configuration set", name),
                tags(f"{arn_base}:configuration-set/{name}"),
                lambda name=name: ses.delete_configuration_set(ConfigurationSetName=name),
            )
        for identity in self.pages("sesv2", "list_email_identities", "EmailIdentities"):
            name = identity["IdentityName"]
            self.sort(
                "ses",
                "identity",
                name,
                name in COURSE_IDENTITIES,
                tags(f"{arn_base}:identity/{name}"),
                lambda name=name: ses.delete_email_identity(EmailIdentity=name),
            )

    def hosted_zones(self) -> None:
        route53 = self.client("route53")
        for zone in self.pages("route53", "list_hosted_zones", "HostedZones"):
            zone_id = zone["Id"].rsplit("/", 1)[-1]
            name = zone["Name"].rstrip(".")
            self.sort(
                "route53",
                "hosted zone",
                name,
                name in COURSE_DOMAINS,
                lambda zone_id=zone_id: route53.list_tags_for_resource(
                    ResourceType="hostedzone", ResourceId=zone_id
                )["ResourceTagSet"].get("Tags", []),
                lambda zone_id=zone_id, name=name: _delete_zone(route53, zone_id, name),
            )

    def iam(self) -> None:
        iam = self.client("iam")
        for user in self.pages("iam", "list_users", "Users"):
            name = user["UserName"]
            self.sort(
                "iam",
                "user",
                name,
                self.named("user", name),
                lambda name=name: iam.list_user_tags(UserName=name).get("Tags", []),
                lambda name=name: _delete_user(iam, name),
            )
        for role in self.pages("iam", "list_roles", "Roles"):
            name = role["RoleName"]
            self.sort(
                "iam",
                "role",
                name,
                self.named("role", name),
                lambda name=name: iam.list_role_tags(RoleName=name).get("Tags", []),
                lambda name=name: _delete_role(iam, name),
            )


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
    finder = _Finder(client, prefix)
    finder.listing("sqs", "queue", finder.sqs_queues)
    finder.listing("lambda", "function", finder.lambda_functions)
    mappings: list[Item] = []
    finder.listing(
        "lambda", "event source mapping", lambda: mappings.extend(finder.event_source_mappings())
    )
    finder.listing("logs", "log group", finder.log_groups)
    finder.listing("sns", "topic", finder.topics)
    finder.listing("cloudwatch", "alarm", finder.alarms)
    try:
        account = client("sts").get_caller_identity()["Account"]
    except (BotoCoreError, ClientError):
        account = "*"
    finder.listing("ses", "identity", lambda: finder.ses(f"arn:aws:ses:{region}:{account}"))
    finder.listing("route53", "hosted zone", finder.hosted_zones)
    finder.listing("iam", "user", finder.iam)
    order = ["event source mapping", "function", "log group", "topic", "queue", "alarm"]
    rank = {kind: n for n, kind in enumerate(order)}
    items = sorted(mappings + finder.plan.items, key=lambda item: rank.get(item.kind, len(order)))
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
