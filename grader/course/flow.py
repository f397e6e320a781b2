"""The flow record's format, written by the backend and read by the checks: one module for both.

The backend records every API call it answers, server side: ``call_entry`` builds the entry of
one call, ``encode_entry`` the bytes the record keeps of it, and ``page_bytes`` (or
``flow_page``) the document ``GET /_course/flow`` answers with (``course.backend.core.server``
calls them). ``Flow.from_json`` reads that document back: each ``ApiCall`` holds a request and
its response in boto3's shape, and ``Flow.calls_to`` filters them; the readers in
``course.checks.readers`` build on it. Only the standard library is imported here, so the checks
read the flow without the backend's dependencies.

Size bound. The record keeps what the checks read, not every byte a client sent:

- a string of up to ``TEXT_CAP`` characters is kept as it is;
- JSON text (an object or an array: an SNS envelope, an SES event, a Lambda event) is kept
  whole up to ``DOCUMENT_CAP`` characters; a longer one keeps its structure, each string in it
  cut to its first ``TEXT_CAP`` characters, where that fits in ``DOCUMENT_CAP``;
- any other longer string keeps its first ``TEXT_CAP`` characters.

A value cut so is written as ``{"truncated": true, "kept": "prefix" | "json", "size": N,
"sha256": ..., "md5": ..., "text": ...}`` (``size`` in UTF-8 bytes, the digests of the UTF-8
bytes of the whole value, ``text`` what was kept) and its entry gets ``"clipped": true``;
``ApiCall.from_json`` turns it back into a ``Clipped`` string: the kept text, which equals the
whole value (by size and SHA-256) and any other ``Clipped`` of the same value, so two records of
one large message body still compare equal. ``utf8_size`` and ``sha256_hex`` give a recorded
value's size and digest whether it was cut or not. An entry still over ``ENTRY_CAP`` bytes after
that (a request of thousands of values) keeps its outline only: empty request and response, and
``"truncated": {"bytes": N}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: The header by which the backend's own clients (an SQS event source mapping's poller) name
#: the principal a call is recorded under; the server honours it only with the admin token.
PRINCIPAL_HEADER = "X-Course-Principal"

#: Characters of a string the record keeps whole (``clip``).
TEXT_CAP = 4096
#: Characters of JSON text the record keeps whole, or keeps the structure of.
DOCUMENT_CAP = 65536
#: Bytes of one encoded entry beyond which it keeps its outline only (``encode_entry``).
ENTRY_CAP = 1 << 20
#: Nesting the record follows; anything deeper is recorded as ``NESTED``.
MAX_DEPTH = 32
NESTED = "(nested too deep to record)"
_MARKER_KEYS = frozenset({"truncated", "kept", "size", "sha256", "md5", "text"})


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class Clipped(str):
    """A recorded string that was longer than the record keeps: its text is what was kept (a
    prefix, or JSON text with its own long strings cut), ``size`` the whole value's length in
    UTF-8 bytes and ``sha256`` / ``md5`` the hex digests of those bytes (SQS's MD5OfMessageBody
    is that MD5).

    It equals the whole value it stands for, and another ``Clipped`` of the same value, by size
    and SHA-256; its hash is its digest's, so sets and dicts of recorded values work, but not
    ones mixing recorded and whole values.
    """

    size: int
    sha256: str
    md5: str
    kept: str

    def __new__(cls, text: str, *, size: int, sha256: str, md5: str, kept: str) -> Clipped:
        value = super().__new__(cls, text)
        value.size, value.sha256, value.md5, value.kept = size, sha256, md5, kept
        return value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Clipped):
            return self.sha256 == other.sha256 and self.size == other.size
        if isinstance(other, str):
            if not len(other) <= self.size <= 4 * len(other):  # UTF-8: 1 to 4 bytes a character
                return False
            if self.kept == "prefix" and not other.startswith(str(self)):
                return False
            return sha256_hex(other) == self.sha256 and utf8_size(other) == self.size
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(("clipped", self.sha256))

    def __repr__(self) -> str:
        return f"Clipped({str.__repr__(self[:40])}..., size={self.size}, sha256={self.sha256})"

    def __reduce__(self) -> Any:
        return (_clipped, (str(self), self.size, self.sha256, self.md5, self.kept))


def _clipped(text: str, size: int, sha256: str, md5: str, kept: str) -> Clipped:
    return Clipped(text, size=size, sha256=sha256, md5=md5, kept=kept)


def utf8_size(value: Any) -> int:
    """A recorded value's length in UTF-8 bytes, whole even where the record cut it (0 for
    None; other values as their ``str``)."""
    if isinstance(value, Clipped):
        return value.size
    if value is None:
        return 0
    return len(_utf8(value if isinstance(value, str) else str(value)))


def sha256_hex(value: str) -> str:
    """The hex SHA-256 of a recorded string's UTF-8 bytes, of the whole value even where the
    record cut it."""
    if isinstance(value, Clipped):
        return value.sha256
    return hashlib.sha256(_utf8(value)).hexdigest()


def _marker(text: str, kept: str, keep: str) -> dict[str, Any]:
    whole = _utf8(text)
    return {
        "truncated": True,
        "kept": kept,
        "size": len(whole),
        "sha256": hashlib.sha256(whole).hexdigest(),
        "md5": hashlib.md5(whole, usedforsecurity=False).hexdigest(),
        "text": keep,
    }


class _Clipper:
    """One pass of the size bound over a request or response (``clip``)."""

    def __init__(self) -> None:
        self.changed = False

    def value(self, value: Any, depth: int = 0, inner: bool = False) -> Any:
        if isinstance(value, str):
            return self.text(value, depth, inner) if len(value) > TEXT_CAP else value
        if isinstance(value, (dict, list, tuple)) and depth >= MAX_DEPTH:
            self.changed = True
            return NESTED
        if isinstance(value, dict):
            return {
                self.value(str(k), depth, True): self.value(v, depth + 1, inner)
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.value(v, depth + 1, inner) for v in value]
        return value

    def text(self, text: str, depth: int, inner: bool) -> Any:
        if inner:  # a string inside kept JSON text stays a string: its prefix
            self.changed = True
            return text[:TEXT_CAP]
        document = _json_document(text)
        if document is not None and len(text) <= DOCUMENT_CAP:
            return text
        self.changed = True
        if document is not None:
            reduced = json.dumps(self.value(document, depth + 1, True), separators=(",", ":"))
            if len(reduced) <= DOCUMENT_CAP:
                return _marker(text, "json", reduced)
        return _marker(text, "prefix", text[:TEXT_CAP])


def _json_document(text: str) -> Any:
    """The object or array ``text`` is the JSON text of, or None."""
    if text.lstrip()[:1] not in ("{", "["):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def clip(value: Any) -> tuple[Any, bool]:
    """``value`` (a request or a response in boto3's shape) within the record's size bound (see
    the module's docstring), and whether anything had to be cut."""
    clipper = _Clipper()
    try:
        bounded = clipper.value(value)
    except RecursionError:
        return ({} if isinstance(value, dict) else NESTED), True
    return bounded, clipper.changed


def _restore(value: Any) -> Any:
    """A recorded value with its cut strings (``clip``'s markers) as ``Clipped`` strings."""
    if isinstance(value, dict):
        if value.keys() == _MARKER_KEYS and value.get("truncated") is True:
            return Clipped(
                str(value["text"]),
                size=int(value["size"]),
                sha256=str(value["sha256"]),
                md5=str(value["md5"]),
                kept=str(value["kept"]),
            )
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


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
    backend's clock, the HTTP status, and request and response in boto3's shape, within the
    record's size bound (``clip``; ``"clipped": true`` where something was cut). An error status
    adds ``error``: the code and message of the response's ``Error``; a call the backend made
    itself adds ``principal`` (``"lambda"`` for an event source mapping's poller)."""
    request, cut_request = clip(request)
    response, cut_response = clip(response)
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
    if cut_request or cut_response:
        entry["clipped"] = True
    return entry


def encode_entry(entry: dict[str, Any]) -> bytes:
    """The bytes the record keeps of an entry (``call_entry``): its JSON, or, over
    ``ENTRY_CAP`` bytes, the JSON of its outline (empty request and response, and
    ``"truncated": {"bytes": N}``)."""
    data = json.dumps(entry, separators=(",", ":"), default=str).encode()
    if len(data) <= ENTRY_CAP:
        return data
    outline = {**entry, "request": {}, "response": {}, "truncated": {"bytes": len(data)}}
    return json.dumps(outline, separators=(",", ":"), default=str).encode()


def page_bytes(entries: list[bytes], dropped: int, next_seq: int, more: bool) -> bytes:
    """``flow_page``'s document from encoded entries (``encode_entry``), as bytes, with
    ``more``: whether the record holds calls after the last of ``entries``."""
    tail = json.dumps({"dropped": dropped, "next": next_seq, "more": more}).encode()
    return b'{"calls":[' + b",".join(entries) + b"]," + tail[1:]


def flow_page(
    calls: list[dict[str, Any]], dropped: int, next_seq: int, more: bool = False
) -> dict[str, Any]:
    """The document ``GET /_course/flow`` answers, as ``Flow.from_json`` reads it: the entries
    (``call_entry``) in sequence order, how many calls were not recorded (the record was full),
    the sequence number the next call will get, and whether calls after these are recorded
    (``more``: the page ended at its limit; ask again with ``since`` its last call's number)."""
    return {"calls": calls, "dropped": dropped, "next": next_seq, "more": more}


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
        """The call an entry of the record (``call_entry``) describes; values the record cut are
        ``Clipped`` strings."""
        if data.get("clipped"):
            data = {
                **data,
                "request": _restore(data.get("request")),
                "response": _restore(data.get("response")),
            }
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
