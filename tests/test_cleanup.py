"""``course cleanup``: deletes exactly what the course created, lists the rest with the reason,
reports a failing delete without stopping. Run through the real command on a real backend."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from click.testing import CliRunner, Result
from course.backend.process import Backend
from course.cleanup import Clients, clients_for, delete, find
from course.cli import EXIT_FAILED, main

from tests.conftest import make_client

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
HANDLER = "def handler(event, context):\n    return None\n"
#: (service, kind, name) of everything ``course_account`` makes that is the course's.
COURSE = {
    ("sqs", "queue", "lab-standard-queue"),
    ("sqs", "queue", "filtered-queue"),
    ("sqs", "queue", "ses-events-queue"),
    ("sqs", "queue", "etl-queue"),
    ("sqs", "queue", "etl-dlq"),
    ("sqs", "queue", "etl-output"),
    ("sqs", "queue", "tagged-extra"),  # the course's by its tag only
    ("sns", "topic", "filter-topic"),
    ("sns", "topic", "ses-events"),
    ("lambda", "function", "sns-printer"),
    ("lambda", "function", "etl-worker"),
    ("logs", "log group", "/aws/lambda/sns-printer"),
    ("iam", "role", "sns-printer-role"),
    ("iam", "role", "etl-worker-role"),
    ("iam", "user", "ses-smtp-user"),
    ("ses", "identity", "example.com"),
    ("ses", "identity", "learner@example.net"),
    ("ses", "configuration set", "course-events"),
    ("route53", "hosted zone", "example.com"),
    ("cloudwatch", "alarm", "ses-bounce-rate"),
}
WIDE = {"COLUMNS": "200"}  # the table's rows on one line each, as the assertions read them
UNRELATED = {("sqs", "queue", "my-own-queue"), ("iam", "role", "my-own-role")}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", HANDLER)
    return buffer.getvalue()


def _queue(backend: Backend, name: str, **kwargs: Any) -> str:
    sqs = make_client(backend, "sqs")
    url = sqs.create_queue(QueueName=name, **kwargs)["QueueUrl"]
    return str(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )


def _function(backend: Backend, name: str) -> str:
    iam = make_client(backend, "iam")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=TRUST)["Role"]
    iam.put_role_policy(RoleName=f"{name}-role", PolicyName="write-logs", PolicyDocument=POLICY)
    iam.attach_role_policy(
        RoleName=f"{name}-role",
        PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    )
    return str(
        make_client(backend, "lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role["Arn"],
            Handler="lambda_function.handler",
            Code={"ZipFile": _zip()},
        )["FunctionArn"]
    )


@pytest.fixture
def course_account(backend: Backend) -> Backend:
    """What labs 01, 07, 08, 09 and 11 leave in an account, a tagged extra, and two of the
    account owner's own resources."""
    _queue(backend, "lab-standard-queue")  # lab 01
    sns = make_client(backend, "sns")  # lab 07
    topic = sns.create_topic(Name="filter-topic")["TopicArn"]
    printer = _function(backend, "sns-printer")
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=printer)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=_queue(backend, "filtered-queue"))
    make_client(backend, "logs").create_log_group(logGroupName="/aws/lambda/sns-printer")
    route53 = make_client(backend, "route53")  # lab 08
    zone = route53.create_hosted_zone(Name="example.com", CallerReference="lab08")["HostedZone"]
    route53.change_resource_record_sets(
        HostedZoneId=zone["Id"],
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": "abc._domainkey.example.com",
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": "abc.dkim.amazonses.com"}],
                    },
                }
            ]
        },
    )
    ses = make_client(backend, "sesv2")
    ses.create_email_identity(EmailIdentity="example.com")
    ses.create_email_identity(EmailIdentity="learner@example.net")
    iam = make_client(backend, "iam")
    iam.create_user(UserName="ses-smtp-user")
    iam.put_user_policy(
        UserName="ses-smtp-user", PolicyName="AmazonSesSendingAccess", PolicyDocument=POLICY
    )
    iam.create_access_key(UserName="ses-smtp-user")
    ses.create_configuration_set(ConfigurationSetName="course-events")  # lab 09
    events = sns.create_topic(Name="ses-events")["TopicArn"]
    sns.subscribe(TopicArn=events, Protocol="sqs", Endpoint=_queue(backend, "ses-events-queue"))
    make_client(backend, "cloudwatch").put_metric_alarm(
        AlarmName="ses-bounce-rate",
        Namespace="AWS/SES",
        MetricName="Reputation.BounceRate",
        Statistic="Average",
        Period=300,
        EvaluationPeriods=1,
        Threshold=0.05,
        ComparisonOperator="GreaterThanThreshold",
    )
    dlq = _queue(backend, "etl-dlq")  # lab 11
    policy = json.dumps({"deadLetterTargetArn": dlq, "maxReceiveCount": "2"})
    source = _queue(backend, "etl-queue", Attributes={"RedrivePolicy": policy})
    _queue(backend, "etl-output")
    _function(backend, "etl-worker")
    make_client(backend, "lambda").create_event_source_mapping(
        EventSourceArn=source, FunctionName="etl-worker", BatchSize=5
    )
    _queue(backend, "tagged-extra", tags={"Course": "aws-messaging"})
    _queue(backend, "my-own-queue")  # the owner's own
    iam.create_role(RoleName="my-own-role", AssumeRolePolicyDocument=TRUST)
    return backend


def _cleanup(backend: Backend, *args: str) -> Result:
    env = {"COURSE_BACKEND": "local", "COURSE_ENDPOINT": backend.url, "COURSE_PREFIX": "", **WIDE}
    return CliRunner().invoke(main, ["cleanup", *args], env=env)


_CLIENTS: dict[str, Clients] = {}  # one factory per backend: its clients are made once


def _inventory(backend: Backend) -> set[tuple[str, str, str]]:
    """Everything in the account now, as (service, kind, name), read by the plan's own walk."""
    if backend.url not in _CLIENTS:
        _CLIENTS[backend.url] = clients_for("us-east-1", backend.url)
    plan = find(_CLIENTS[backend.url], "us-east-1")
    found = {(i.service, i.kind, i.name) for i in plan.items}
    return found | {(e.service, e.kind, e.name) for e in plan.left if not e.failed}


def test_help_answers() -> None:
    result = CliRunner().invoke(main, ["cleanup", "--help"])
    assert result.exit_code == 0 and "--dry-run" in result.output


def test_dry_run_lists_the_courses_resources_and_deletes_nothing(course_account: Backend) -> None:
    before = _inventory(course_account)
    result = _cleanup(course_account, "--dry-run")
    assert result.exit_code == 0, result.output
    assert _inventory(course_account) == before
    for _, _, name in COURSE:
        assert name in result.output
    assert "would delete" in result.output and "etl-queue -> etl-worker" in result.output
    assert "my-own-queue" in result.output and "no 'course' tag" in result.output


def test_cleanup_deletes_exactly_the_courses_and_says_what_it_left(
    course_account: Backend,
) -> None:
    assert _inventory(course_account) >= COURSE | UNRELATED
    result = _cleanup(course_account)
    assert result.exit_code == 0, result.output
    after = _inventory(course_account)
    assert after & COURSE == set()
    assert after >= UNRELATED
    assert (
        make_client(course_account, "lambda").list_event_source_mappings()["EventSourceMappings"]
        == []
    )
    for name in ("my-own-queue", "my-own-role"):
        (line,) = [line for line in result.output.splitlines() if f" {name} " in line]
        assert "│ left " in line and "no 'course' tag" in line
    assert "0 failed" in result.output
    again = _cleanup(course_account, "--dry-run")
    assert "0 would delete" in again.output


def test_a_failing_delete_is_reported_and_the_rest_still_goes(backend: Backend) -> None:
    """AWS refuses DeleteRole while the role is in an instance profile (DeleteConflict); the
    course never makes one, so cleanup reports it instead of removing it."""
    iam = make_client(backend, "iam")
    iam.create_role(RoleName="etl-worker-role", AssumeRolePolicyDocument=TRUST)
    iam.create_instance_profile(InstanceProfileName="not-the-courses")
    iam.add_role_to_instance_profile(
        InstanceProfileName="not-the-courses", RoleName="etl-worker-role"
    )
    _queue(backend, "etl-queue")
    result = _cleanup(backend)
    assert result.exit_code == EXIT_FAILED, result.output
    assert "FAILED" in result.output and "DeleteConflict" in result.output
    assert "1 failed" in result.output
    assert _inventory(backend) == {("iam", "role", "etl-worker-role")}


def test_the_prefix_and_the_aws_mode_pick_only_the_learners_names(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a shared account (``--backend aws``, boto3 configured by its own environment) only
    names with the learner's prefix are the course's; another learner's stay."""
    _queue(backend, "ana-lab-standard-queue")
    _queue(backend, "ben-lab-standard-queue")
    env = {
        "COURSE_BACKEND": "aws",
        "COURSE_PREFIX": "ana-",
        "COURSE_ENDPOINT": "",
        "AWS_ENDPOINT_URL": backend.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        **WIDE,
    }
    result = CliRunner().invoke(main, ["cleanup", "--backend", "aws"], env=env)
    assert result.exit_code == 0, result.output
    assert _inventory(backend) == {("sqs", "queue", "ben-lab-standard-queue")}


def test_delete_keeps_going_after_a_failure(course_account: Backend) -> None:
    """A queue deleted behind the plan's back fails alone (SQS: "does not exist"); what comes
    after it in the plan (alarms, zones, identities, users, roles) is still deleted."""
    plan = find(clients_for("us-east-1", course_account.url), "us-east-1")
    sqs = make_client(course_account, "sqs")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName="etl-output")["QueueUrl"])
    outcome = delete(plan)
    assert not outcome.ok
    assert [(e.kind, e.name) for e in outcome.left if e.failed] == [("queue", "etl-output")]
    assert "does not exist" in next(e.reason for e in outcome.left if e.failed)
    assert len(outcome.deleted) == len(plan.items) - 1
    assert _inventory(course_account) == UNRELATED


def test_a_course_key_loses_its_alias_and_is_scheduled_for_deletion(backend: Backend) -> None:
    """Lab 07's customer managed key (found by its alias, or by the tag): AWS deletes a key no
    sooner than 7 days after it is scheduled, so cleanup schedules it and removes its alias; a
    key of the account's own stays as it was."""
    kms = make_client(backend, "kms")
    course_key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/filter-encrypted-queue", TargetKeyId=course_key)
    tagged_key = kms.create_key(Tags=[{"TagKey": "course", "TagValue": "x"}])["KeyMetadata"][
        "KeyId"
    ]
    own_key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/payments", TargetKeyId=own_key)
    result = _cleanup(backend)
    assert result.exit_code == 0, result.output
    states = {
        k: kms.describe_key(KeyId=k)["KeyMetadata"]["KeyState"]
        for k in (course_key, tagged_key, own_key)
    }
    assert states == {
        course_key: "PendingDeletion",
        tagged_key: "PendingDeletion",
        own_key: "Enabled",
    }
    names = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    assert "alias/filter-encrypted-queue" not in names and "alias/payments" in names
    again = _cleanup(backend, "--dry-run")  # a scheduled key is not the course's to delete again
    assert "filter-encrypted-queue" not in again.output
