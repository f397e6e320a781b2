"""The flow: the backend's server-side record of every API call, as the checks read it.

Each ``ApiCall`` holds a request and its response in boto3's shape. ``Flow.calls_to`` filters
them; the SQS helpers in ``course.checks.readers.sqs`` build on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


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

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ApiCall:
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
        )

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def duration(self) -> float:
        return self.ended - self.started

    @property
    def error_code(self) -> str:
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
