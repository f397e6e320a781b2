"""The one accessor to moto's state: every moto backend object the kit reads or changes.

moto keeps each service's state in one backend object per account and region
(``sqs_backends[account][region]``), and a global service's (IAM, Route 53) per account and
partition. The extensions reach those objects only through these functions, so what the kit
touches of moto's internals is listed in one place (and checked there when moto's minor version
moves). Each function raises what moto's mapping raises for an account or region it does not
know (``KeyError``), so callers keep deciding what that means for them.

moto is imported inside each function: importing this module (as ``course.backend.core`` does)
stays light, and a backend process imports moto anyway. moto's *types* and exception classes
(``Queue``, ``QueueDoesNotExist``) may still be imported where they are used.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.iam.models import IAMBackend
    from moto.kms.models import KmsBackend
    from moto.logs.models import LogsBackend
    from moto.route53.models import Route53Backend
    from moto.ses.models import SESBackend
    from moto.sns.models import SNSBackend
    from moto.sqs.models import SQSBackend

#: moto's default account: every credential the kit hands out maps to it.
DEFAULT_ACCOUNT_ID = "123456789012"
#: The partition under which moto keeps a global service's backend (IAM, Route 53).
PARTITION = "aws"

_LOGS_LOCK = threading.Lock()


def sqs(account_id: str, region: str) -> SQSBackend:
    """moto's SQS backend of ``account_id`` in ``region``."""
    from moto.sqs.models import sqs_backends

    return sqs_backends[account_id][region]


def sns(account_id: str, region: str) -> SNSBackend:
    """moto's SNS backend of ``account_id`` in ``region``."""
    from moto.sns.models import sns_backends

    return sns_backends[account_id][region]


def ses(account_id: str, region: str) -> SESBackend:
    """moto's SES backend (v1; SES v2 keeps its state there too) of ``account_id`` in ``region``."""
    from moto.ses.models import ses_backends

    return ses_backends[account_id][region]


def ses_templates(account_id: str, region: str) -> dict[str, dict[str, Any]]:
    """moto's store of SES email templates (v1's shape, by name), which the kit changes in place."""
    return ses(account_id, region).templates


def awslambda(account_id: str, region: str) -> LambdaBackend:
    """moto's Lambda backend of ``account_id`` in ``region``."""
    from moto.awslambda.models import lambda_backends

    return lambda_backends[account_id][region]


def lambda_function(
    account_id: str, region: str, name: str, qualifier: str | None
) -> LambdaFunction:
    """moto's function named ``name`` (a name or an ARN) at ``qualifier`` (a version or alias;
    None for $LATEST); raises what moto raises when there is no such function."""
    storage = awslambda(account_id, region)._lambdas
    return storage.get_function_by_name_or_arn_with_qualifier(name, qualifier)


def logs(account_id: str, region: str) -> LogsBackend:
    """moto's CloudWatch Logs backend of ``account_id`` in ``region``."""
    from moto.logs.models import logs_backends

    return logs_backends[account_id][region]


def write_log_stream(
    account_id: str, region: str, group: str, stream: str, events: list[dict[str, Any]]
) -> None:
    """Create log stream ``stream`` in ``group`` (the group too, if new) and put ``events``
    (``{"timestamp": ms, "message": text}``) in it, one writer at a time."""
    backend = logs(account_id, region)
    with _LOGS_LOCK:
        backend.ensure_log_group(group)
        backend.create_log_stream(group, stream)
        backend.put_log_events(group, stream, events)


def cloudwatch(account_id: str, region: str) -> CloudWatchBackend:
    """moto's CloudWatch (metrics) backend of ``account_id`` in ``region``."""
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account_id][region]


def route53(account_id: str) -> Route53Backend:
    """moto's Route 53 backend of ``account_id`` (a global service, kept under the partition)."""
    from moto.route53.models import route53_backends

    return route53_backends[account_id][PARTITION]


def iam(account_id: str) -> IAMBackend:
    """moto's IAM backend of ``account_id`` (a global service, kept under the partition)."""
    from moto.iam.models import iam_backends

    return iam_backends[account_id][PARTITION]


def kms(account_id: str, region: str) -> KmsBackend:
    """moto's KMS backend of ``account_id`` in ``region``."""
    from moto.kms.models import kms_backends

    return kms_backends[account_id][region]


def reset() -> None:
    """Wipe every resource of every moto service, in every account and region."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
