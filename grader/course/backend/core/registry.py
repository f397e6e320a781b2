"""The registry through which the kit's backend adds to, or corrects, what moto does.

An extension module (listed, in order, in ``course.backend.extensions``) registers functions
with these decorators:

- ``@before(service, action)``: runs before moto sees the call; returns a ``Reply`` to answer it
  itself (an operation moto lacks, or one it answers wrongly), or None to let moto answer.
- ``@after(service, action)``: runs once moto has answered; sees the parsed response and may
  return a new ``Reply`` or act on the result (deliver a notification, say).
- ``@observe(service, action)``: runs once the call is answered, whoever answered it (moto or
  a ``@before`` hook), with the final parsed response; it cannot change the answer (the
  CloudWatch metrics count what every call did).
- ``@page(prefix)``: serves a non-AWS HTTP path of the backend (the mailbox, a confirm link).
- ``@route(prefix)``: sees an API request whose path starts with ``prefix`` before it is
  identified, and may give it another HTTP shape (an older client's binding of an operation,
  rewritten to the one botocore's model has today) or refuse it (an operation no client has).
- ``@on_reset``: clears the extension's own state when the backend is reset.

A hook refuses a call by raising a ``course.backend.core.errors.ServiceError`` (each service's
``exceptions.py`` has one class per AWS error code); ``run_before`` and ``run_after``, which the
server calls, answer with that error in the call's wire protocol (``error_reply``). Hooks on the
same call run in the order they were registered, which is the order of ``EXTENSIONS``: only
modules listed there register ``@before`` and ``@after`` hooks, and no module imports one that
does (a state module they import may register ``@page`` and ``@on_reset``, whose order does not
matter). ``success`` builds a successful reply in the call's protocol, ``json_reply`` one of the
kit's own pages.

Each extension pins the AWS behaviour it adds with a test that cites AWS's documentation.
"""

from __future__ import annotations

import importlib
import json
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import Shape

from course.backend.core.errors import ServiceError
from course.backend.core.protocol import Call, parse_response


@dataclass
class Reply:
    """An HTTP answer produced by the kit rather than by moto."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def header_dict(self) -> dict[str, str]:
        """The headers by lower-case name."""
        return {k.lower(): v for k, v in self.headers}


@dataclass
class ApiRequest:
    """The call an extension sees: identified call plus the raw HTTP request."""

    call: Call
    account_id: str
    environ: dict[str, Any]
    body: bytes

    @property
    def params(self) -> dict[str, Any]:
        """The call's parameters, in boto3's shape."""
        return self.call.params


@dataclass(frozen=True)
class Wire:
    """An API request as it came over HTTP, before it is identified: method, path (decoded, as
    WSGI's ``PATH_INFO``, without the query string), query string, headers (lower-case names)
    and body."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


Router = Callable[[Wire], Wire | None]
BeforeHook = Callable[[ApiRequest], Reply | None]
AfterHook = Callable[[ApiRequest, Reply, dict[str, Any]], Reply | None]
PageHandler = Callable[[dict[str, Any], bytes], Reply]
Observer = Callable[[ApiRequest, int, dict[str, Any]], None]

_before: dict[tuple[str, str], list[BeforeHook]] = {}
_after: dict[tuple[str, str], list[AfterHook]] = {}
_observers: dict[tuple[str, str], list[Observer]] = {}
_pages: dict[str, PageHandler] = {}
_routes: list[tuple[str, Router]] = []
_resets: list[Callable[[], None]] = []


def before(service: str, action: str) -> Callable[[BeforeHook], BeforeHook]:
    """Register a hook that runs before moto answers ``service``'s ``action``."""

    def register(fn: BeforeHook) -> BeforeHook:
        _before.setdefault((service, action), []).append(fn)
        return fn

    return register


def after(service: str, action: str) -> Callable[[AfterHook], AfterHook]:
    """Register a hook that runs after moto has answered ``service``'s ``action``."""

    def register(fn: AfterHook) -> AfterHook:
        _after.setdefault((service, action), []).append(fn)
        return fn

    return register


def observe(service: str, action: str) -> Callable[[Observer], Observer]:
    """Register a function that sees ``service``'s ``action`` once it is answered (its HTTP
    status and parsed response), whoever answered it."""

    def register(fn: Observer) -> Observer:
        _observers.setdefault((service, action), []).append(fn)
        return fn

    return register


def page(prefix: str) -> Callable[[PageHandler], PageHandler]:
    """Serve every request whose path starts with ``prefix`` (e.g. ``/_course/mailbox``)."""

    def register(fn: PageHandler) -> PageHandler:
        _pages[prefix] = fn
        return fn

    return register


def route(prefix: str) -> Callable[[Router], Router]:
    """Register a router for API requests whose path starts with ``prefix``: it returns the
    request as the backend should see it, or None to leave it as it is; raising a
    ``ServiceError`` answers the request with that AWS error."""

    def register(fn: Router) -> Router:
        _routes.append((prefix, fn))
        return fn

    return register


def run_routes(wire: Wire) -> Wire:
    """The request as the routers whose prefix it matches leave it, in the order they
    registered (each sees the previous one's result); a router's ``ServiceError`` propagates."""
    for prefix, fn in _routes:
        if wire.path.startswith(prefix):
            wire = fn(wire) or wire
    return wire


def on_reset(fn: Callable[[], None]) -> Callable[[], None]:
    """Register a function that clears an extension's state on backend reset."""
    _resets.append(fn)
    return fn


def json_reply(status: int, document: Any) -> Reply:
    """A JSON answer for one of the kit's own pages."""
    return Reply(status, json.dumps(document).encode(), [("Content-Type", "application/json")])


def base_url(environ: dict[str, Any] | None = None) -> str:
    """The backend's own address, for links in mail and for code it runs (Lambda handlers):
    as the client reached it when a request is at hand, else the port the server listens on."""
    if environ:
        host = environ.get("HTTP_HOST")
        if not host and environ.get("SERVER_NAME"):
            host = f"{environ['SERVER_NAME']}:{environ.get('SERVER_PORT')}"
        if host:
            return f"{environ.get('wsgi.url_scheme', 'http')}://{host}"
    return f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '5000')}"


def run_before(request: ApiRequest) -> Reply | None:
    """Run the call's ``@before`` hooks in order: the first that returns a reply answers the
    call, and one that raises a ``ServiceError`` answers with that AWS error; None when every
    hook lets moto answer."""
    for hook in _before.get((request.call.service, request.call.action), []):
        try:
            reply = hook(request)
        except ServiceError as refused:
            return error_reply(request.call, refused)
        if reply is not None:
            return reply
    return None


def run_after(
    request: ApiRequest, reply: Reply, parsed: dict[str, Any]
) -> tuple[Reply, dict[str, Any]]:
    """Run the call's ``@after`` hooks in order on moto's reply; a hook's new reply (or the AWS
    error of a ``ServiceError`` it raises) replaces it for the hooks that follow. Returns the
    final reply and its parsed response."""
    for hook in _after.get((request.call.service, request.call.action), []):
        try:
            replaced = hook(request, reply, parsed)
        except ServiceError as refused:
            replaced = error_reply(request.call, refused)
        if replaced is not None:
            reply = replaced
            parsed = parse_response(request.call, reply.status, reply.header_dict, reply.body)
    return reply, parsed


def run_observers(request: ApiRequest, status: int, parsed: dict[str, Any]) -> None:
    """Show the answered call to its ``@observe`` functions, in order; they cannot change it."""
    for fn in _observers.get((request.call.service, request.call.action), []):
        fn(request, status, parsed)


def hooked_operations() -> list[tuple[str, str]]:
    """Every ``(service, action)`` some ``@before`` or ``@after`` hook is registered on, sorted."""
    return sorted(set(_before) | set(_after))


def find_page(path: str) -> PageHandler | None:
    """The page handler with the longest prefix matching ``path``, if any."""
    matches = [p for p in _pages if path.startswith(p)]
    return _pages[max(matches, key=len)] if matches else None


def reset_all() -> None:
    """Clear every extension's own state (``@on_reset``), in the order they registered."""
    for fn in _resets:
        fn()


def load_extensions(modules: Iterable[str]) -> list[str]:
    """Import each extension module, in order; returns their names as loaded."""
    loaded = []
    for name in modules:
        importlib.import_module(name)
        loaded.append(name)
    return loaded


# ---------------------------------------------------------------- replies in each protocol


def error_reply(call: Call, refused: ServiceError) -> Reply:
    """``refused`` as an AWS error reply in the wire protocol the call came in, as boto3 parses
    it: its code, message and HTTP status, and "Sender" or "Receiver" as its fault."""
    code, message, status = refused.code, refused.message, refused.status
    fault = "Sender" if refused.sender else "Receiver"
    request_id = str(uuid.uuid4())
    if call.protocol == "json":
        prefix = call.operation.metadata.get("targetPrefix", "") if call.operation else ""
        namespace = {"AmazonSQS": "com.amazonaws.sqs"}.get(prefix, prefix)
        body = json.dumps({"__type": f"{namespace}#{code}", "message": message}).encode()
        return Reply(
            status,
            body,
            [
                ("Content-Type", "application/x-amz-json-1.0"),
                ("x-amzn-query-error", f"{code};{fault}"),
                ("x-amzn-RequestId", request_id),
            ],
        )
    if call.protocol in ("rest-json", "rest"):
        body = json.dumps({"message": message, "Message": message}).encode()
        return Reply(
            status,
            body,
            [
                ("Content-Type", "application/json"),
                ("x-amzn-ErrorType", code),
                ("x-amzn-RequestId", request_id),
            ],
        )
    xml = (
        f"<ErrorResponse><Error><Type>{fault}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId>"
        "</ErrorResponse>"
    )
    return Reply(status, xml.encode(), [("Content-Type", "text/xml")])


def success(call: Call, output: dict[str, Any], status: int = 200) -> Reply:
    """A successful reply carrying ``output`` (boto3's shape) in the call's wire protocol."""
    if call.protocol in ("json", "rest-json"):
        content_type = (
            "application/x-amz-json-1.0" if call.protocol == "json" else "application/json"
        )
        return Reply(
            status,
            json.dumps(output, default=str).encode(),
            [("Content-Type", content_type), ("x-amzn-RequestId", str(uuid.uuid4()))],
        )
    assert call.operation is not None
    shape = call.operation.output_shape
    result_wrapper = shape.serialization.get("resultWrapper") if shape else None
    inner = _to_xml(output, shape) if shape is not None else ""
    ns = call.operation.metadata.get("xmlNamespace", {})
    ns_attr = f' xmlns="{ns["uri"]}"' if isinstance(ns, dict) and "uri" in ns else ""
    result = f"<{result_wrapper}>{inner}</{result_wrapper}>" if result_wrapper else inner
    xml = (
        f"<{call.action}Response{ns_attr}>{result}<ResponseMetadata><RequestId>"
        f"{uuid.uuid4()}</RequestId></ResponseMetadata></{call.action}Response>"
    )
    return Reply(status, xml.encode(), [("Content-Type", "text/xml")])


def _to_xml(value: Any, shape: Shape) -> str:
    """Serialize a boto3-shaped value as query-protocol response XML (inside its element)."""
    kind = shape.type_name
    if kind == "structure":
        parts = []
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                tag = member.serialization.get("name", name)
                if member.type_name in ("list", "map") and member.serialization.get("flattened"):
                    parts.append(_to_xml(value[name], member).replace("<member>", f"<{tag}>"))
                else:
                    parts.append(f"<{tag}>{_to_xml(value[name], member)}</{tag}>")
        return "".join(parts)
    if kind == "list":
        tag = shape.member.serialization.get("name", "member")
        return "".join(f"<{tag}>{_to_xml(v, shape.member)}</{tag}>" for v in value)
    if kind == "map":
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        return "".join(
            f"<entry><{key_tag}>{escape(str(k))}</{key_tag}>"
            f"<{value_tag}>{_to_xml(v, shape.value)}</{value_tag}></entry>"
            for k, v in value.items()
        )
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp" and hasattr(value, "isoformat"):
        return value.isoformat()
    return escape(str(value))
