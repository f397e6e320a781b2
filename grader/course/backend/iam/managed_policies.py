"""The AWS managed policies that Lambda, SQS, SNS and SES examples attach, there from the start.

AWS's own examples attach AWS managed policies by ARN before they create a function
(``arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`` in most Lambda examples,
``AWSLambdaSQSQueueExecutionRole`` for an SQS trigger, ``AmazonSQSFullAccess`` and the SES and
SNS full-access policies in the cross-service ones). moto creates AWS managed policies only when
the server starts with ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``, and then all ~1,600 of them,
which adds over a second to the first IAM call; without it ``AttachRolePolicy`` answers
``NoSuchEntity``. Here the policies of ``MANAGED_POLICIES`` (with the path AWS gives them) are
added to the account's IAM state before any IAM call is answered, once per account and again
after a reset, from the documents moto ships (``moto.iam.aws_managed_policies``), parsed on the
first IAM call of the process: GetPolicy, GetPolicyVersion, ListPolicies, AttachRolePolicy,
ListAttachedRolePolicies and the rest see them as AWS has them.
"""

from __future__ import annotations

import json
import threading
from functools import cache
from typing import TYPE_CHECKING, Any

from course.backend.core import moto_state
from course.backend.core.protocol import service_model
from course.backend.core.registry import ApiRequest, Reply, before

if TYPE_CHECKING:
    from moto.iam.models import IAMBackend

#: path/name of each AWS managed policy the backend has: those AWS's SQS, SNS, SES and Lambda
#: examples (awsdocs/aws-doc-sdk-examples) and the course's notebooks attach or read.
MANAGED_POLICIES: tuple[str, ...] = (
    "service-role/AWSLambdaBasicExecutionRole",
    "service-role/AWSLambdaSQSQueueExecutionRole",
    "service-role/AWSLambdaVPCAccessExecutionRole",
    "service-role/AWSLambdaRole",
    "service-role/AmazonSNSRole",
    "AWSLambdaExecute",
    "AWSLambda_FullAccess",
    "AWSLambda_ReadOnlyAccess",
    "AmazonSQSFullAccess",
    "AmazonSQSReadOnlyAccess",
    "AmazonSNSFullAccess",
    "AmazonSNSReadOnlyAccess",
    "AmazonSESFullAccess",
    "AmazonSESReadOnlyAccess",
    "CloudWatchLogsFullAccess",
    "AWSXRayDaemonWriteAccess",
)

#: Set on a moto IAM backend once it has the policies; a reset makes a fresh backend state.
_INSTALLED = "_course_managed_policies"
_LOCK = threading.Lock()


def arn(path_name: str) -> str:
    """The ARN AWS gives the managed policy ``path_name`` (``service-role/Name`` or ``Name``)."""
    return f"arn:aws:iam::aws:policy/{path_name}"


@cache
def documents() -> dict[str, dict[str, Any]]:
    """moto's record (path, default version, dates, document) of each of ``MANAGED_POLICIES``,
    by name; parsed once. Raises ``KeyError`` if moto lacks one or keeps it on another path."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    every = json.loads(aws_managed_policies_data)
    found = {}
    for path_name in MANAGED_POLICIES:
        path, _, name = path_name.rpartition("/")
        data = every[name]
        if data["Path"] != f"/{path}/".replace("//", "/"):
            raise KeyError(f"moto keeps {name} on {data['Path']}, AWS on /{path}")
        found[name] = data
    return found


def install(backend: IAMBackend) -> None:
    """Give moto's IAM ``backend`` every policy of ``MANAGED_POLICIES`` it lacks (all of them
    unless the server loads moto's); at most once per backend state."""
    if getattr(backend, _INSTALLED, False):
        return
    from moto.iam.models import AWSManagedPolicy

    with _LOCK:
        if getattr(backend, _INSTALLED, False):
            return
        for name, data in documents().items():
            policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
            if policy.arn not in backend.managed_policies:
                backend.managed_policies[policy.arn] = policy
                backend.aws_managed_policies.append(policy)
        setattr(backend, _INSTALLED, True)


def with_managed_policies(request: ApiRequest) -> Reply | None:
    """Before moto answers any IAM call: the account's IAM state has the managed policies."""
    install(moto_state.iam(request.account_id))
    return None


for _operation in service_model("iam").operation_names:
    before("iam", _operation)(with_managed_policies)
