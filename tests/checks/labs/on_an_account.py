"""The checks' view of a learner's real account, for check tests: ``AccountAws``.

Built as ``course check --backend aws`` builds it (no endpoint: no flow record, no kit records,
the learner's prefix), except that its clients reach the test's backend, standing in for AWS, and
note every operation they make, so that a test can say the checks only read there.
"""

from __future__ import annotations

from typing import Any

from course.backend.process import Backend
from course.checks.api import CheckResult, run_check
from course.checks.catalog import resolve_lab
from course.checks.context import Aws

from tests.conftest import make_client

PREFIX = "ana-"
#: Operations a check may make on a real account: reading only.
READ_PREFIXES = ("Get", "List", "Describe", "Head")


class AccountAws(Aws):
    """A real account (``endpoint_url`` None) whose clients reach ``backend`` and record calls."""

    def __init__(self, backend: Backend, prefix: str = PREFIX, **settings: Any) -> None:
        super().__init__(None, prefix=prefix, **settings)
        self._standin = backend
        self.operations: list[str] = []

    def client(self, service: str) -> Any:
        """A client on the stand-in backend that notes each operation it makes (cached)."""
        if service not in self._clients:
            client = make_client(self._standin, service, region=self.region)
            client.meta.events.register("before-call", self._note)
            self._clients[service] = client
        return self._clients[service]

    def _note(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)

    @property
    def writes(self) -> list[str]:
        """The operations made so far that are not reads."""
        return [op for op in self.operations if not op.startswith(READ_PREFIXES)]


def account_results(lab: str, aws: AccountAws) -> dict[str, CheckResult]:
    """Every check of ``lab`` on the account; results keyed by short id."""
    return {c.id: run_check(c, aws) for c in resolve_lab(lab).checks}


def outcomes_by_kind(results: dict[str, CheckResult]) -> dict[str, set[str]]:
    """The outcomes of the state (and answer) checks and of the flow checks, apart."""
    found: dict[str, set[str]] = {"flow": set(), "state": set()}
    for result in results.values():
        found["flow" if result.kind == "flow" else "state"].add(result.outcome)
    return found
