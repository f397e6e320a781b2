"""The flow record's format, written by the backend and read by the checks: one module for both.

The backend records every API call it answers, server side: ``call_entry`` builds the entry of
one call and ``flow_page`` the document ``GET /_course/flow`` answers with
(``course.backend.core.server`` calls both). ``Flow.from_json`` reads that document back: each
``ApiCall`` holds a request and its response in boto3's shape, and ``Flow.calls_to`` filters
them; the readers in ``course.checks.readers`` build on it. Only the standard library is
imported here, so the checks read the flow without the backend's dependencies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: The header by which the backend's own clients (an SQS event source mapping's poller) name
#: the principal a call is recorded under; the server honours it only with the admin token.
PRINCIPAL_HEADER = "X-Course-Principal"


def call_entry(
    *,
    seq: int,
    service: str,
    action: str,
    region: str,
    protocol: str,
    started: float,
    ended: float,
    status: int,
    request: dict[str, Any],
    response: dict[str, Any],
    principal: str = "",
) -> dict[str, Any]:
    """The flow record's entry for one API call, as ``ApiCall.from_json`` reads it: the call's
    sequence number, service, action, region and wire protocol, when it started and ended on the
    backend's clock, the HTTP status, and request and response in boto3's shape. An error status
    adds ``error``: the code and message of the response's ``Error``; a call the backend made
    itself adds ``principal`` (``"lambda"`` for an event source mapping's poller)."""
    entry: dict[str, Any] = {
        "seq": seq,
        "service": service,
        "action": action,
        "region": region,
        "protocol": protocol,
        "started": started,
        "ended": ended,
        "status": status,
        "request": request,
        "response": response,
    }
    if status >= 400:
        err = response.get("Error", {}) if isinstance(response, dict) else {}
        entry["error"] = {"code": err.get("Code", ""), "message": err.get("Message", "")}
    if principal:
        entry["principal"] = principal
    return entry


def flow_page(calls: list[dict[str, Any]], dropped: int, next_seq: int) -> dict[str, Any]:
    """The document ``GET /_course/flow`` answers, as ``Flow.from_json`` reads it: the entries
    (``call_entry``) in sequence order, how many calls were not recorded (the record was full),
    and the sequence number the next call will get."""
    return {"calls": calls, "dropped": dropped, "next": next_seq}


@dataclass(frozen=True)
class ApiCall:
    """One recorded API call."""

    seq: int
    service: str
    action: str
    region: str
    started: float
    ended: float
    status: int
    request: dict[str, Any]
    response: dict[str, Any]
    error: dict[str, str] | None = None
    #: "" for a call from outside (the student's code, a Lambda handler); "lambda" for one an
    #: SQS event source mapping's poller made.
    principal: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ApiCall:
        """The call an entry of the record (``call_entry``) describes."""
        return cls(
            seq=data["seq"],
            service=data["service"],
            action=data["action"],
            region=data.get("region", ""),
            started=data["started"],
            ended=data["ended"],
            status=data["status"],
            request=data.get("request") or {},
            response=data.get("response") or {},
            error=data.get("error"),
            principal=str(data.get("principal") or ""),
        )

    @property
    def ok(self) -> bool:
        """Whether the call succeeded (an HTTP status below 400)."""
        return self.status < 400

    @property
    def duration(self) -> float:
        """Seconds from the call's start to its end, on the backend's clock."""
        return self.ended - self.started

    @property
    def error_code(self) -> str:
        """The AWS error code of a failed call; "" for a call that succeeded."""
        return (self.error or {}).get("code", "")

    @property
    def queue_name(self) -> str | None:
        """The SQS queue this call is about, from its QueueUrl or QueueName."""
        if url := self.request.get("QueueUrl"):
            return str(url).rstrip("/").rsplit("/", 1)[-1]
        if name := self.request.get("QueueName"):
            return str(name)
        return None


@dataclass
class Flow:
    """All recorded calls of one run, in the order they began."""

    calls: list[ApiCall] = field(default_factory=list)
    dropped: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Flow:
        """The flow a ``GET /_course/flow`` document (``flow_page``) describes."""
        # The backend answers in sequence order (the order the calls began).
        calls = [ApiCall.from_json(c) for c in data.get("calls", [])]
        return cls(calls, int(data.get("dropped", 0)))

    def __iter__(self) -> Iterator[ApiCall]:
        return iter(self.calls)

    def __len__(self) -> int:
        return len(self.calls)

    def calls_to(
        self,
        service: str,
        *actions: str,
        queue: str | None = None,
        ok: bool | None = None,
    ) -> list[ApiCall]:
        """Calls to ``service`` (any of ``actions``), optionally on one queue and by outcome."""
        found = []
        for call in self.calls:
            if call.service != service or (actions and call.action not in actions):
                continue
            if queue is not None and call.queue_name != queue:
                continue
            if ok is not None and call.ok != ok:
                continue
            found.append(call)
        return found
