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
import re
from collections.abc import Callable
from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from course.cellwatch import watch_cells
from course.client import BackendClient
from course.i18n import _

LOCAL = "local"
AWS = "aws"
DEFAULT_REGION = "us-east-1"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
#: The domain labs 08 and 09 send from on the local backend, whose Route 53 answers for it.
LOCAL_DOMAIN = "example.com"
#: Where a real-account prefix comes from when ``COURSE_PREFIX`` does not set one.
PREFIX_CHARS = 16
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
    #: Put in front of every name a lab creates (``name()``); empty on the local backend.
    prefix: str = ""
    #: The learner's own address on a real account (``COURSE_EMAIL``); None on the local one.
    email: str | None = None
    #: The domain labs 08 and 09 send from: example.com locally, ``COURSE_DOMAIN`` (a domain
    #: the learner owns) on a real account, None there when it is not set.
    domain: str | None = LOCAL_DOMAIN

    @property
    def is_local(self) -> bool:
        return self.backend == LOCAL

    def name(self, base: str) -> str:
        """``base`` as the labs create it here: with the learner's prefix on a real account."""
        return f"{self.prefix}{base}"

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
    email: str | None = None  # the learner's own address, for a real account (COURSE_EMAIL)
    domain: str | None = None  # a domain the learner owns, for a real account (COURSE_DOMAIN)
    smtp: str | None = None  # host:port of an emulator's SMTP interface (COURSE_SMTP_ENDPOINT)

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
        email=os.environ.get("COURSE_EMAIL") or None,
        domain=os.environ.get("COURSE_DOMAIN") or None,
        smtp=os.environ.get("COURSE_SMTP_ENDPOINT") or None,
    )


def name(base: str) -> str:
    """``base`` as the labs create it now: with the learner's prefix (``COURSE_PREFIX``, which
    ``connect("aws")`` sets) on a real account, as it is on the local backend."""
    return f"{settings().prefix}{base}"


def learner_prefix(identity_arn: str) -> str:
    """The name prefix for the caller ``identity_arn`` (from STS GetCallerIdentity): its user
    or session name, lower case, letters, digits and dashes, then a dash; ``course-`` for the
    account's root user.

    ``arn:aws:iam::123456789012:user/Ana.Le`` gives ``ana-le-``.
    """
    resource = identity_arn.split(":", 5)[-1]
    last = resource.rsplit("/", 1)[-1] if "/" in resource else ""
    cleaned = re.sub(r"[^a-z0-9]+", "-", last.lower()).strip("-")[:PREFIX_CHARS].strip("-")
    return f"{cleaned or 'course'}-"


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


def _forget_local_backend() -> None:
    """Undo what an earlier ``connect("local")`` in this process set, and nothing else.

    An ``AWS_ENDPOINT_URL`` the user set (LocalStack, another AWS-compatible service) stays,
    and so do credentials that are not the local backend's.
    """
    kit_endpoint = os.environ.pop("COURSE_ENDPOINT", None)
    if not kit_endpoint:
        return
    if os.environ.get("AWS_ENDPOINT_URL", "").rstrip("/") == kit_endpoint.rstrip("/"):
        del os.environ["AWS_ENDPOINT_URL"]
    for name, value in LOCAL_CREDENTIALS.items():
        if os.environ.get(name) == value:
            del os.environ[name]


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
        _forget_local_backend()
        os.environ["COURSE_BACKEND"] = AWS
        region = region or boto3.session.Session().region_name or DEFAULT_REGION
        os.environ["AWS_DEFAULT_REGION"] = region
        endpoint = None
    boto3.DEFAULT_SESSION = None  # later boto3.client() calls read the new environment
    try:
        identity = boto3.client("sts", region_name=region).get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        if choice == AWS:
            raise ConnectionProblem(
                "could not reach your AWS account: configure credentials (aws configure, or "
                f"AWS_PROFILE) or use the local backend with connect('local'). AWS said: {exc}"
            ) from None
        raise ConnectionProblem(f"the local backend at {endpoint} does not answer: {exc}") from None
    if choice == LOCAL:
        connection = Connection(LOCAL, region, identity["Account"], endpoint, current.prefix)
    else:
        connection = _real_account(region, identity)
    if not quiet:
        print(_(connection.describe()))  # in COURSE_LANG
        if choice == AWS:
            _explain_real_account(connection)
    return connection


def use_real_account() -> str:
    """Point this process's checks at the account boto3's own configuration names, with the
    learner's prefix (``COURSE_PREFIX``, else made from the caller's name); the prefix.
    Raises ``ConnectionProblem`` when the prefix must be made and the account does not answer."""
    _forget_local_backend()
    os.environ["COURSE_BACKEND"] = AWS

    def caller_arn() -> str:
        try:
            return boto3.client("sts").get_caller_identity()["Arn"]
        except (BotoCoreError, ClientError) as exc:
            raise ConnectionProblem(f"your AWS account does not answer: {exc}") from None

    return _choose_prefix(caller_arn)


def _choose_prefix(caller_arn: Callable[[], str]) -> str:
    """The learner's prefix, kept in ``COURSE_PREFIX``: the one set there (even empty), else
    the one made from the caller's name (``caller_arn`` is asked only then)."""
    prefix = os.environ.get("COURSE_PREFIX")
    if prefix is None:
        prefix = learner_prefix(caller_arn())
    os.environ["COURSE_PREFIX"] = prefix
    return prefix


def _real_account(region: str, identity: dict[str, str]) -> Connection:
    """The connection to a real account: the learner's prefix chosen (``_choose_prefix``) and
    the ``course`` tag installed."""
    from course.tagging import install_course_tag

    prefix = _choose_prefix(lambda: identity.get("Arn", ""))
    boto3.setup_default_session(region_name=region)
    install_course_tag(boto3.DEFAULT_SESSION, prefix)
    where = settings()
    return Connection(AWS, region, identity["Account"], None, prefix, where.email, where.domain)


def _explain_real_account(connection: Connection) -> None:
    """What real-account mode does differently, in a few lines under the connection."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        print(_(f"AWS calls go to the endpoint you set: AWS_ENDPOINT_URL={endpoint}"))
    shown = connection.prefix or _("(none: COURSE_PREFIX is empty)")
    print(
        _(
            f"Real-account mode: every name a lab creates starts with your prefix {shown} "
            f"(name('lab-standard-queue') is {connection.name('lab-standard-queue')!r}), and "
            f"everything is tagged 'course', so `course cleanup --backend aws` finds it."
        )
    )
    from course.rules.estimates import current_lab, estimate_text

    print(
        _(
            estimate_text(current_lab(settings().lab, os.environ.get("JPY_SESSION_NAME", "")))
            or "Within the free tier a lab costs nothing; beyond it, SQS and SNS cost $0.40-0.50 "
            "per million requests and SES $0.10 per 1,000 emails. check() shows what yours cost."
        )
    )
    if connection.email is None:
        print(_("Set COURSE_EMAIL to your own address: labs 06, 08 and 09 send mail to it."))
    if connection.domain is None:
        print(
            _(
                "No COURSE_DOMAIN: labs 08 and 09 skip the parts that need a domain you own "
                "(their checks say 'not checkable here')."
            )
        )
