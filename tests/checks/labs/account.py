"""A learner's real account, as the checks see it, played by a local backend.

``AccountAws`` is ``Aws`` on a real account (no flow record, no mailbox, no kit records: those
are "not checkable") whose AWS calls reach ``backend`` as plain boto3 would reach AWS; the
learner's prefix, settings (``COURSE_EMAIL``, ``COURSE_DOMAIN``) and answers are given.
``calls_since`` lists what the checks then asked of the backend, to show that they only read;
``account_checks`` runs a lab's checks there and says which calls were not reads.
"""

from __future__ import annotations

from typing import Any

from course.backend.process import Backend
from course.checks.api import CheckResult, run_check
from course.checks.catalog import resolve_lab
from course.checks.context import Aws

from tests.conftest import make_client

#: Operations a check may make on a real account: reading only.
READS = ("Get", "List", "Describe", "Head")


class AccountAws(Aws):
    """The checks' view of a real account whose API is ``backend``'s."""

    def __init__(
        self,
        backend: Backend,
        *,
        prefix: str = "",
        email: str | None = None,
        domain: str | None = None,
        answers: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(None, prefix=prefix, email=email, domain=domain, answers=answers)
        self._account = backend

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = make_client(self._account, service)
        return self._clients[service]


def writes_since(backend: Backend, mark: int) -> list[str]:
    """The calls after ``mark`` that are not reads (``service.Action``)."""
    calls = backend.api.flow(mark)["calls"]
    return [
        f"{c['service']}.{c['action']}" for c in calls if not str(c["action"]).startswith(READS)
    ]


def account_checks(lab: str, aws: AccountAws) -> tuple[dict[str, CheckResult], list[str]]:
    """Every check of ``lab`` run on the account ``aws``, keyed by short id, and the calls they
    made there that are not reads."""
    mark = aws._account.api.flow_mark()
    results = {c.id: run_check(c, aws) for c in resolve_lab(lab).checks}
    return results, writes_since(aws._account, mark)
