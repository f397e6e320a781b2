"""The one client of the local backend's own HTTP API, ``/_course/``.

Everything outside the backend process that reads or drives the kit's additions goes through
``BackendClient``: the launcher (health, reset, clock, shutdown), the checks (flow, mailbox,
stored messages, SMTP log, Lambda idle wait) and the notebook helpers (mailbox, SMTP endpoint,
timeline). AWS's own APIs are reached with plain boto3, never through this.

It uses only the standard library, so the sandbox's small tools and a student's kernel import it
cheaply.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

#: The header that carries the admin token the backend's starting process holds.
ADMIN_HEADER = "X-Course-Admin"

#: Read timeouts, in seconds: quick questions, and reads of a possibly long record.
QUICK = 10.0
LONG = 30.0

#: Calls in one page of the flow record (the backend answers at most 10,000).
FLOW_PAGE = 2_000


class BackendApiError(OSError):
    """The backend answered a ``/_course/`` request with an HTTP error status.

    An ``OSError``, as urllib's own HTTP errors are, so a caller that treats "unreachable" and
    "refused" alike catches one exception.
    """

    def __init__(self, path: str, status: int, body: bytes) -> None:
        super().__init__(f"{path} answered {status}: {body[:200]!r}")
        self.path = path
        self.status = status


class BackendClient:
    """The kit's own API of one local backend at ``url``.

    Admin requests (reset, clock, shutdown) need ``admin_token``; the rest do not. Network
    failures raise ``OSError`` (as urllib does); error statuses raise ``BackendApiError``, an
    ``OSError`` too.
    """

    def __init__(self, url: str, admin_token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.admin_token = admin_token

    # -- anyone
    def health(self, timeout: float = 2.0) -> dict[str, Any]:
        """The server's health document: ``ok``, its process id and its extensions in order."""
        return dict(self._get("/_course/health", timeout=timeout))

    def flow(self, since: int = 0, timeout: float = LONG, page: int = FLOW_PAGE) -> dict[str, Any]:
        """The flow record after sequence number ``since``, read ``page`` calls at a time (each
        request within ``timeout``): ``{"calls": [...], "dropped": D, "next": N}`` as
        ``course.flow.flow_page`` describes it, every page's calls in one list.

        A call still in progress when its page was read (a long poll) joins the record later
        with its earlier number, so it is in a later read only if that read starts before it.
        """
        calls: list[dict[str, Any]] = []
        while True:
            found = self.flow_page(since, page, timeout)
            calls.extend(found["calls"])
            if not found.get("more") or not found["calls"]:
                return {**found, "calls": calls, "more": False}
            since = int(found["calls"][-1]["seq"])

    def flow_page(
        self, since: int = 0, limit: int = FLOW_PAGE, timeout: float = LONG
    ) -> dict[str, Any]:
        """One page of the flow record: at most ``limit`` calls numbered above ``since``, and
        ``more``, whether later ones remain (``course.flow.flow_page``)."""
        return dict(self._get("/_course/flow", {"since": since, "limit": limit}, timeout))

    def flow_mark(self) -> int:
        """The sequence number of the last call recorded so far."""
        return int(self.flow_page(10**12, 1, QUICK)["next"]) - 1

    @property
    def mailbox_page(self) -> str:
        """The mailbox's address for a browser."""
        return f"{self.url}/_course/mailbox"

    def mailbox(self, to: str | None = None, timeout: float = QUICK) -> list[dict[str, Any]]:
        """Every mail the backend delivered (to ``to`` if given), oldest first."""
        return list(self._get("/_course/mailbox/messages", {"to": to} if to else None, timeout))

    def smtp_endpoint(self) -> tuple[str, int]:
        """(host, port) where the backend's SES SMTP interface listens (started on first ask)."""
        found = self._get("/_course/ses/smtp")
        return str(found["host"]), int(found["port"])

    def smtp_log(self) -> list[dict[str, Any]]:
        """Every SMTP session the backend's SES SMTP interface has had."""
        return list(self._get("/_course/ses/smtp/log"))

    def queue_messages(self, queue: str, region: str) -> list[dict[str, Any]] | None:
        """The messages a queue holds now, in flight or not, without their bodies: ``MessageId``,
        ``ApproximateReceiveCount``, ``InFlight``, ``Delayed`` (None if there is no such queue)."""
        try:
            found = self._get("/_course/sqs/messages", {"queue": queue, "region": region}, LONG)
        except BackendApiError as exc:
            if exc.status == 404:
                return None
            raise
        return list(found["messages"])

    def clock(self) -> dict[str, float]:
        """The backend's clock: ``now`` (AWS time), ``offset``, ``scale`` (AWS seconds per real
        second: above 1 when a grader runs it on dilated time) and ``anchor``."""
        return {k: float(v) for k, v in self._get("/_course/clock").items()}

    def receivers(self) -> dict[str, str]:
        """For each receipt handle ReceiveMessage gave out, the name of the client it went to."""
        return dict(self._get("/_course/sqs/receivers"))

    def wait_for_lambda_idle(self, timeout: float) -> bool:
        """Wait until no Lambda run is in progress (True) or ``timeout`` seconds pass (False)."""
        try:
            self._get("/_course/lambda/idle", {"timeout": timeout}, timeout + QUICK)
        except BackendApiError as exc:
            if exc.status == 504:
                return False
            raise
        return True

    # -- admin
    def reset(self) -> None:
        """Wipe every resource, the extensions' state and the flow record."""
        self._post("/_course/reset")

    def advance_clock(self, seconds: float) -> float:
        """Move the backend's clock forward by ``seconds``; returns its total offset."""
        return float(self._post("/_course/clock", {"advance": seconds})["offset"])

    def shutdown(self, timeout: float = 1.0) -> None:
        """Ask the server to stop."""
        self._post("/_course/shutdown", timeout=timeout)

    # -- HTTP
    def _get(self, path: str, query: dict[str, Any] | None = None, timeout: float = QUICK) -> Any:
        return self._send(urllib.request.Request(self._address(path, query)), path, timeout)

    def _post(
        self, path: str, query: dict[str, Any] | None = None, timeout: float = LONG
    ) -> dict[str, Any]:
        headers = {ADMIN_HEADER: self.admin_token} if self.admin_token else {}
        request = urllib.request.Request(
            self._address(path, query), data=b"", method="POST", headers=headers
        )
        return dict(self._send(request, path, timeout))

    def _address(self, path: str, query: dict[str, Any] | None) -> str:
        return self.url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")

    @staticmethod
    def _send(request: urllib.request.Request, path: str, timeout: float) -> Any:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise BackendApiError(path, exc.code, exc.read()) from exc
