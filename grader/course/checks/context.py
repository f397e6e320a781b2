"""``Aws``: what a check may read — the backend's resources, the flow and the notebook's answers."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from course.checks.api import NotAttempted, NotCheckable
from course.checks.cells import CellRecord
from course.client import BackendClient
from course.connection import DEFAULT_REGION, LOCAL, LOCAL_CREDENTIALS, settings
from course.flow import Flow

_CLIENT_CONFIG = Config(
    retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30
)


class Aws:
    """The view a check has of one run.

    ``endpoint_url`` None means a real AWS account: there is no flow record, so flow checks
    report "not checkable". ``answers`` holds the notebook's answer variables, when read.
    ``cells`` says which notebook cell made each call and whether it raised
    (``course.checks.cells``); None where no one recorded the cells.
    """

    def __init__(
        self,
        endpoint_url: str | None,
        *,
        region: str = DEFAULT_REGION,
        prefix: str = "",
        answers: dict[str, Any] | None = None,
        flow_loader: Callable[[], Flow] | None = None,
        cells: CellRecord | None = None,
        email: str | None = None,
        domain: str | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self._email = email
        self._domain = domain
        self.region = region
        self.prefix = prefix
        self._answers = answers
        self._clients: dict[str, Any] = {}
        self._flow: Flow | None = None
        if flow_loader is None and endpoint_url:
            flow_loader = lambda: fetch_flow(endpoint_url)  # noqa: E731
        self._flow_loader = flow_loader
        self.cells = cells

    @classmethod
    def from_environment(
        cls, answers: dict[str, Any] | None = None, cells: CellRecord | None = None
    ) -> Aws:
        """The context for the current process's connection (as ``connect()`` left it)."""
        where = settings()
        if where.backend == LOCAL and not where.is_local:
            raise RuntimeError("not connected: run the lab's first cell (connect()) first")
        endpoint = where.endpoint_url if where.is_local else None
        return cls(
            endpoint,
            region=where.region,
            prefix=where.prefix,
            answers=answers,
            cells=cells,
            email=where.email,
            domain=where.domain,
        )

    @property
    def is_local(self) -> bool:
        return self.endpoint_url is not None

    @property
    def backend(self) -> BackendClient:
        """The local backend's own API (mailbox, stored messages...); "not checkable" on a real
        account, where there is none."""
        if self.endpoint_url is None:
            raise NotCheckable("the kit's own records exist only on the local backend")
        return BackendClient(self.endpoint_url)

    def name(self, base: str) -> str:
        """A resource name as the lab creates it (with the learner's prefix on a shared account)."""
        return f"{self.prefix}{base}"

    def learner_email(self, local: str) -> str:
        """The address a lab mails: ``local`` on the local backend, the learner's own
        (``COURSE_EMAIL``) on a real account, where without one it is "not checkable"."""
        if self.is_local:
            return local
        if not self._email:
            raise NotCheckable("no COURSE_EMAIL: set it to your address to check this part")
        return self._email

    def learner_domain(self, local: str) -> str:
        """The domain labs 08 and 09 send from: ``local`` on the local backend, the learner's
        own (``COURSE_DOMAIN``) on a real account, where without one it is "not checkable"."""
        if self.is_local:
            return local
        if not self._domain:
            raise NotCheckable("no COURSE_DOMAIN: this part needs a domain you own")
        return self._domain

    def client(self, service: str) -> Any:
        """A boto3 client on this run's backend (cached)."""
        if service not in self._clients:
            kwargs: dict[str, Any] = {"region_name": self.region, "config": _CLIENT_CONFIG}
            if self.endpoint_url:
                kwargs["endpoint_url"] = self.endpoint_url
                kwargs["aws_access_key_id"] = LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"]
                kwargs["aws_secret_access_key"] = LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
            self._clients[service] = _session(local=bool(self.endpoint_url)).client(
                service, **kwargs
            )
        return self._clients[service]

    @property
    def flow(self) -> Flow:
        """The recorded API calls of this run; "not checkable" where nothing records them."""
        if self._flow_loader is None:
            raise NotCheckable("the API calls are recorded only by the local backend")
        if self._flow is None:
            self._flow = self._flow_loader()
        return self._flow

    def answer(self, name: str) -> Any:
        """The value the notebook left in variable ``name``; "not attempted" if it has none."""
        if self._answers is None or name not in self._answers:
            raise NotAttempted(f"the notebook has no variable `{name}` yet")
        return self._answers[name]


def _session(local: bool) -> boto3.session.Session:
    """A boto3 session; for the local backend, one that ignores the caller's AWS profile."""
    return _local_session() if local else boto3.session.Session()


@cache
def _local_session() -> boto3.session.Session:
    # One session for every local client: building a session loads botocore's models again,
    # which cost 50-170 ms per client. No environment variable names the profile here, so
    # the caller's AWS_PROFILE never reaches the checks.
    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    return boto3.session.Session(botocore_session=core)


def fetch_flow(endpoint_url: str, since: int = 0) -> Flow:
    """Read the flow record (the calls numbered above ``since``) from a local backend over
    HTTP, page by page (``BackendClient.flow``)."""
    return Flow.from_json(BackendClient(endpoint_url).flow(since))
