"""AWS managed IAM policies in the backend from the start (``iam/managed_policies.py``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.iam.managed_policies import MANAGED_POLICIES, arn
from course.backend.process import Backend

from tests import conftest

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _iam(backend: Backend) -> Any:
    return conftest.make_client(backend, "iam")


def _role(backend: Backend, name: str = "lambda-role") -> str:
    return _iam(backend).create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))[
        "Role"
    ]["RoleName"]


def _document(iam: Any, policy_arn: str) -> dict[str, Any]:
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"][
        "Document"
    ]
    return json.loads(document) if isinstance(document, str) else document


def test_the_issue_s_policies_and_those_aws_s_examples_attach_are_listed() -> None:
    for name in (
        "service-role/AWSLambdaBasicExecutionRole",
        "service-role/AWSLambdaSQSQueueExecutionRole",
        "AmazonSESFullAccess",
        "AmazonSNSFullAccess",
        "AmazonSQSFullAccess",
        "AWSLambdaExecute",
        "AWSLambda_FullAccess",
        "CloudWatchLogsFullAccess",
        "AWSXRayDaemonWriteAccess",
    ):
        assert name in MANAGED_POLICIES


@pytest.mark.parametrize("path_name", MANAGED_POLICIES)
def test_each_managed_policy_exists_at_its_aws_arn_and_attaches_to_a_role(
    backend: Backend, path_name: str
) -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html
    #aws-managed-policies: "An AWS managed policy is a standalone policy that is created and
    administered by AWS" with an ARN in the ``aws`` account; the managed policy reference
    (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/) gives each one's ARN,
    e.g. ``arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole``."""
    iam, role = _iam(backend), _role(backend)
    policy = iam.get_policy(PolicyArn=arn(path_name))["Policy"]
    name = path_name.rsplit("/", 1)[-1]
    assert policy["PolicyName"] == name
    assert policy["Arn"] == arn(path_name)
    assert policy["Path"] == ("/service-role/" if path_name.startswith("service-role/") else "/")
    assert policy["IsAttachable"]
    assert _document(iam, arn(path_name))["Statement"]

    iam.attach_role_policy(RoleName=role, PolicyArn=arn(path_name))
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert attached == [{"PolicyName": name, "PolicyArn": arn(path_name)}]
    assert iam.get_policy(PolicyArn=arn(path_name))["Policy"]["AttachmentCount"] == 1
    iam.detach_role_policy(RoleName=role, PolicyArn=arn(path_name))
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_the_lambda_basic_execution_role_has_aws_s_document(backend: Backend) -> None:
    """https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html:
    "Policy version: v1 (default)" ... ``"Action" : [ "logs:CreateLogGroup",
    "logs:CreateLogStream", "logs:PutLogEvents" ], "Resource" : "*"``."""
    iam = _iam(backend)
    policy_arn = arn("service-role/AWSLambdaBasicExecutionRole")
    assert iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"] == "v1"
    (statement,) = _document(iam, policy_arn)["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "*"
    assert sorted(statement["Action"]) == [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]


def test_the_sqs_queue_execution_role_lets_lambda_read_and_delete_messages(
    backend: Backend,
) -> None:
    """https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaSQSQueueExecutionRole.html:
    the policy allows ``sqs:ReceiveMessage``, ``sqs:DeleteMessage``, ``sqs:GetQueueAttributes``
    and the CloudWatch Logs writes, which an SQS event source mapping's function needs."""
    document = _document(_iam(backend), arn("service-role/AWSLambdaSQSQueueExecutionRole"))
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} <= actions
    assert {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"} <= actions


def test_the_policies_are_aws_scoped_and_survive_a_reset(backend: Backend) -> None:
    """ListPolicies with ``Scope=AWS`` lists AWS managed policies only; ``Local`` the
    account's own (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicies.html)."""
    iam = _iam(backend)
    own = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
    }
    iam.create_policy(PolicyName="mine", PolicyDocument=json.dumps(own))
    aws = {p["Arn"] for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]}
    local = {p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]}
    assert {arn(p) for p in MANAGED_POLICIES} <= aws
    assert local == {"mine"}
    backend.reset()
    assert _iam(backend).get_policy(PolicyArn=arn("AmazonSQSFullAccess"))["Policy"]


def test_a_policy_aws_does_not_have_is_no_such_entity(backend: Backend) -> None:
    """A misspelt ARN (the ``service-role/`` path left out) is refused as AWS refuses it:
    ``NoSuchEntity`` (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html)."""
    iam, role = _iam(backend), _role(backend)
    with pytest.raises(ClientError) as raised:
        iam.attach_role_policy(RoleName=role, PolicyArn=arn("AWSLambdaBasicExecutionRole"))
    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"
