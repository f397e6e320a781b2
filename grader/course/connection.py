"""The one place that decides where AWS calls go: the local backend or a real account.

``connect()`` is the first cell of every lab. It sets the standard AWS environment variables
(``AWS_ENDPOINT_URL`` and credentials for the local backend; nothing extra for a real account),
so every later cell is plain ``boto3.client("sqs")``, identical for both backends. The grader sets
the same variables in the kernel's environment, so a notebook that never imports the kit is
graded exactly like one that does.

It is also the one reader of the ``COURSE_*`` variables that say where this process's calls go
(``settings()``): the checks, the mailbox, the SMTP endpoint and the timeline ask it, never the
environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from course.cellwatch import watch_cells
from course.client import BackendClient

LOCAL = "local"
AWS = "aws"
DEFAULT_REGION = "us-east-1"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
#: Variables that would send calls elsewhere or sign them as someone else.
SCRUBBED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
)


class ConnectionProblem(RuntimeError):
    """The chosen backend cannot be reached; the message says what to do."""


@dataclass(frozen=True)
class Connection:
    """Where this notebook's AWS calls go."""

    backend: str  # "local" or "aws"
    region: str
    account_id: str
    endpoint_url: str | None = None

    @property
    def is_local(self) -> bool:
        return self.backend == LOCAL

    def client(self, service: str):
        """A boto3 client for ``service`` on this connection."""
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint_url)

    def describe(self) -> str:
        where = (
            f"the local backend at {self.endpoint_url}" if self.is_local else "a real AWS account"
        )
        return f"Connected to {where}: account {self.account_id}, region {self.region}"


@dataclass(frozen=True)
class Settings:
    """Where this process's calls go, as ``connect()`` (or the grader) left the environment."""

    backend: str  # "local" or "aws"
    endpoint_url: str | None  # the local backend's address, if one was set
    region: str
    prefix: str  # the learner's prefix for resource names on a shared account
    lab: str  # the lab a graded kernel runs ("" in a student's own kernel)

    @property
    def is_local(self) -> bool:
        """True when calls go to a local backend this process knows the address of."""
        return self.backend == LOCAL and self.endpoint_url is not None

    def local_backend(self) -> BackendClient | None:
        """The client of the local backend's own API; None on a real account or unconnected."""
        return BackendClient(self.endpoint_url) if self.is_local and self.endpoint_url else None


def settings() -> Settings:
    """What the environment says now about where this process's calls go."""
    endpoint = os.environ.get("COURSE_ENDPOINT")
    return Settings(
        backend=os.environ.get("COURSE_BACKEND") or LOCAL,
        endpoint_url=endpoint.rstrip("/") if endpoint else None,
        region=os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
        prefix=os.environ.get("COURSE_PREFIX", ""),
        lab=os.environ.get("COURSE_LAB", ""),
    )


def local_environment(endpoint_url: str, region: str = DEFAULT_REGION) -> dict[str, str]:
    """The environment variables that point plain boto3 at a local backend."""
    return {
        "COURSE_BACKEND": LOCAL,
        "COURSE_ENDPOINT": endpoint_url,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        **LOCAL_CREDENTIALS,
    }


def scrubbed_environment(base: dict[str, str], endpoint_url: str) -> dict[str, str]:
    """``base`` without any AWS credentials or endpoints, pointed at a local backend.

    Used for graded kernels: the instructor's own credentials never reach a submission.
    """
    env = {k: v for k, v in base.items() if not k.startswith("AWS_") and k not in SCRUBBED}
    env = {k: v for k, v in env.items() if not k.startswith("COURSE_")}
    env.update(local_environment(endpoint_url))
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_CONFIG_FILE"] = os.devnull
    return env


def connect(
    backend: str | None = None, *, region: str | None = None, quiet: bool = False
) -> Connection:
    """Connect this process's boto3 to the local backend (default) or a real AWS account.

    ``backend`` is ``"local"`` or ``"aws"``; when omitted, ``COURSE_BACKEND`` decides, and
    ``local`` is the default. The local backend is started if none is running. Prints which
    backend, the account id and the region, unless ``quiet``.
    """
    current = settings()
    choice = (backend or current.backend).lower()
    if choice not in (LOCAL, AWS):
        raise ValueError(f"backend must be 'local' or 'aws', not {choice!r}")
    if choice == LOCAL:
        endpoint = current.endpoint_url
        if not endpoint:
            from course.backend.process import shared_backend

            endpoint = shared_backend()[0].url
        region = region or DEFAULT_REGION
        for name in SCRUBBED:
            os.environ.pop(name, None)
        os.environ.update(local_environment(endpoint, region))
        watch_cells(endpoint)  # which cell makes each call, for the checks of handled errors
    else:
        for name in ("AWS_ENDPOINT_URL", "COURSE_ENDPOINT"):
            os.environ.pop(name, None)
        os.environ["COURSE_BACKEND"] = AWS
        region = region or boto3.session.Session().region_name or DEFAULT_REGION
        os.environ["AWS_DEFAULT_REGION"] = region
        endpoint = None
    boto3.DEFAULT_SESSION = None  # later boto3.client() calls read the new environment
    try:
        account = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as exc:
        if choice == AWS:
            raise ConnectionProblem(
                "could not reach your AWS account: configure credentials (aws configure, or "
                f"AWS_PROFILE) or use the local backend with connect('local'). AWS said: {exc}"
            ) from None
        raise ConnectionProblem(f"the local backend at {endpoint} does not answer: {exc}") from None
    connection = Connection(choice, region, account, endpoint)
    if not quiet:
        print(connection.describe())
        if choice == AWS:
            print(
                "Real-account mode: the labs create only resources named in the syllabus, and the "
                "clean-up cell deletes them. Within the free tier a lab costs nothing; beyond it, "
                "SQS and SNS cost $0.40-0.50 per million requests and SES $0.10 per 1,000 emails."
            )
    return connection
