"""The local AWS backend's server: moto's WSGI app behind the kit's middleware, and ``main()``.

Run as its own process (``python -m course.backend``, which passes ``main`` the extension
modules of ``course.backend.extensions`` by name); the kit talks to it over HTTP. For each AWS
call the middleware (``CourseApp``) lets the extensions' routers give it today's HTTP shape
(``course.backend.core.registry.run_routes``), identifies the service and action
(``course.backend.core.protocol``), refuses a malformed call with the 4xx AWS gives for it
(``course.backend.core.validation``), lets the registry run the extensions' hooks around moto
(``course.backend.core.registry.run_before`` and ``run_after``), and records the call, request
and response in boto3's shape, in the format of ``course.flow`` (``call_entry``), so the grader
never depends on code running in the student's kernel. The server imports no service package:
it loads the extensions by name, and hands them what it fixes at start through
``course.backend.core.settings`` (the SMTP port).

The kit's own endpoints live under ``/_course/``:

- ``GET /_course/health``: liveness, the process id and the loaded extensions;
- ``GET /_course/flow?since=N&limit=M``: a page of the recorded calls with sequence number
  above N (``more`` says whether later ones remain; ``course.flow``, ``FlowRecorder``);
- ``POST /_course/reset``: wipe every resource and the flow (needs the admin token);
- ``GET /_course/clock``, ``POST /_course/clock?advance=S``: read or advance the backend's clock
  (advancing needs the admin token): ``{"now", "offset", "scale", "anchor"}``, where ``scale``
  is AWS seconds per real second from the wall-clock time ``anchor`` on (``--time-scale``,
  ``--time-anchor``; ``course.backend.core.clock``);
- ``POST /_course/shutdown``: stop the server (needs the admin token).

moto's own ``/moto-api/`` (reset, time travel, state) also needs the admin token, so a
submission cannot rewrite what the grader will read.
"""

from __future__ import annotations

import argparse
import bisect
import io
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from course.backend.core import clock, moto_state, registry, validation
from course.backend.core.errors import ServiceError
from course.backend.core.gate import open_gate
from course.backend.core.moto_state import DEFAULT_ACCOUNT_ID
from course.backend.core.protocol import Call, identify, parse_response
from course.backend.core.registry import ApiRequest, Reply, Wire, error_reply, json_reply
from course.backend.core.settings import SETTINGS
from course.client import ADMIN_HEADER
from course.flow import PRINCIPAL_HEADER, call_entry, encode_entry, flow_page, page_bytes

#: How WSGI names the admin header in a request's environ.
ADMIN_ENVIRON_KEY = "HTTP_" + ADMIN_HEADER.upper().replace("-", "_")
PRINCIPAL_ENVIRON_KEY = "HTTP_" + PRINCIPAL_HEADER.upper().replace("-", "_")
MAX_FLOW_ENTRIES = 100_000
#: The largest request body the backend reads: a Lambda function's 50 MB zip, base64 in JSON.
MAX_REQUEST_BYTES = 70 << 20
#: Bytes the flow record may hold (encoded entries, each within ``course.flow.ENTRY_CAP``).
MAX_FLOW_BYTES = 256 << 20
#: Calls in one page of ``GET /_course/flow`` without ``limit``, and the most with it.
FLOW_PAGE = 1_000
MAX_FLOW_PAGE = 10_000
#: Bytes after which a page ends early (it always holds at least one call).
FLOW_PAGE_BYTES = 8 << 20


class FlowRecorder:
    """Thread-safe, append-only record of API calls, numbered from 1; entries in the format of
    ``course.flow``, kept encoded (``encode_entry``) in sequence order.

    It holds at most ``limit`` calls and ``max_bytes`` bytes; calls past either are counted as
    dropped. Reading a page copies a slice of it under the lock and joins it outside, so a
    reader of a long record never holds up the API calls being recorded.
    """

    def __init__(self, limit: int = MAX_FLOW_ENTRIES, max_bytes: int = MAX_FLOW_BYTES) -> None:
        self._lock = threading.Lock()
        self._seqs: list[int] = []  # sequence numbers, ascending
        self._blobs: list[bytes] = []  # the encoded entry of each, in the same order
        self._bytes = 0
        self._next = 1
        self._dropped = 0
        self._limit = limit
        self._max_bytes = max_bytes
        self._epoch = 0  # how many times the record was cleared

    def start(self) -> tuple[int, int]:
        """Reserve the next sequence number for a call that has just begun; with it, the
        record's epoch, which ``add`` is given back."""
        with self._lock:
            seq = self._next
            self._next += 1
            return seq, self._epoch

    def add(self, seq: int, entry: dict[str, Any], epoch: int = 0) -> None:
        """Keep the entry of call ``seq``, begun in ``epoch``; a full record counts it as dropped
        instead, and a call begun before the record was last cleared (a long poll in flight at a
        reset) is forgotten: its number may already be another call's."""
        blob = encode_entry(entry)  # outside the lock: the caller's thread pays for its entry
        with self._lock:
            if epoch != self._epoch:
                return
            if len(self._seqs) >= self._limit or self._bytes + len(blob) > self._max_bytes:
                self._dropped += 1
                return
            if not self._seqs or seq > self._seqs[-1]:
                self._seqs.append(seq)
                self._blobs.append(blob)
            else:  # a call that began earlier ended later (a long poll)
                at = bisect.bisect_left(self._seqs, seq)
                self._seqs.insert(at, seq)
                self._blobs.insert(at, blob)
            self._bytes += len(blob)

    def page(self, seq: int, limit: int = FLOW_PAGE) -> bytes:
        """The ``GET /_course/flow`` document (``course.flow.page_bytes``) of the first
        ``limit`` calls numbered above ``seq``, in order, ending early past
        ``FLOW_PAGE_BYTES``."""
        with self._lock:
            at = bisect.bisect_right(self._seqs, seq)
            blobs = self._blobs[at : at + limit]
            remaining = len(self._seqs) - at
            dropped, next_seq = self._dropped, self._next
        size = 0
        for count, blob in enumerate(blobs):
            size += len(blob)
            if size > FLOW_PAGE_BYTES and count:
                blobs = blobs[:count]
                break
        return page_bytes(blobs, dropped, next_seq, more=remaining > len(blobs))

    def since(self, seq: int) -> dict[str, Any]:
        """Every call numbered above ``seq``, in order, as one ``course.flow.flow_page``
        document: for code in the backend's process; HTTP readers page."""
        with self._lock:
            blobs = self._blobs[bisect.bisect_right(self._seqs, seq) :]
            dropped, next_seq = self._dropped, self._next
        return flow_page([json.loads(b) for b in blobs], dropped, next_seq)

    def clear(self) -> None:
        """Forget every call and start numbering from 1 again."""
        with self._lock:
            self._seqs.clear()
            self._blobs.clear()
            self._bytes = 0
            self._epoch += 1
            self._next = 1
            self._dropped = 0


class CourseApp:
    """WSGI middleware: admin endpoints, extension hooks and flow recording around moto."""

    def __init__(self, moto_app: Any, admin_token: str, loaded: list[str]) -> None:
        self.moto_app = moto_app
        self.admin_token = admin_token
        self.loaded = loaded
        self.flow = FlowRecorder()
        self.shutdown_requested = threading.Event()

    # -- WSGI entry point
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        length = _content_length(environ)
        if isinstance(length, Reply):  # refused before reading: the connection closes after
            start_response(_status_line(length.status), length.headers)
            return [length.body]
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)

        if handler := registry.find_page(path):
            reply = handler(environ, body)
        elif path.startswith("/_course/") or path.startswith("/moto-api"):
            reply = self._admin(environ, path, body)
            if reply is None:
                return self.moto_app(environ, start_response)
        else:
            reply = self._api(environ, body)
        start_response(_status_line(reply.status), reply.headers)
        return [reply.body]

    # -- the kit's own endpoints
    def _admin(self, environ: dict[str, Any], path: str, body: bytes) -> Reply | None:
        authorized = environ.get(ADMIN_ENVIRON_KEY) == self.admin_token
        if path == "/_course/health":
            return json_reply(200, {"ok": True, "pid": os.getpid(), "extensions": self.loaded})
        if path == "/_course/flow":
            return self._flow_page(environ)
        if path == "/_course/clock" and environ["REQUEST_METHOD"] == "GET":
            return json_reply(200, clock.describe())
        if not authorized:
            return json_reply(403, {"error": "this endpoint needs the backend's admin token"})
        if path == "/_course/reset":
            self.reset()
            return json_reply(200, {"reset": True})
        if path == "/_course/clock":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            try:
                clock.advance(float(query.get("advance", ["0"])[0]))
            except ValueError as exc:
                return json_reply(400, {"error": str(exc)})
            return json_reply(200, clock.describe())
        if path == "/_course/shutdown":
            self.shutdown_requested.set()
            return json_reply(200, {"stopping": True})
        if path.startswith("/moto-api"):
            return None
        return json_reply(404, {"error": f"no such endpoint {path}"})

    def _flow_page(self, environ: dict[str, Any]) -> Reply:
        """``GET /_course/flow?since=N&limit=M``: the first M calls (``FLOW_PAGE`` by default,
        at most ``MAX_FLOW_PAGE``) numbered above N (default 0); 400 for a bad number."""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        try:
            since = int(query.get("since", ["0"])[0])
            limit = int(query.get("limit", [str(FLOW_PAGE)])[0])
        except ValueError:
            return json_reply(400, {"error": "since and limit must be whole numbers"})
        if limit < 1:
            return json_reply(400, {"error": "limit must be at least 1"})
        body = self.flow.page(since, min(limit, MAX_FLOW_PAGE))
        return Reply(200, body, [("Content-Type", "application/json")])

    def reset(self) -> None:
        """Wipe moto's state, the extensions' state and the flow record."""
        moto_state.reset()
        clock.reset()
        registry.reset_all()
        self.flow.clear()

    # -- AWS API calls
    def _api(self, environ: dict[str, Any], body: bytes) -> Reply:
        refused: ServiceError | None = None
        try:
            headers, body = _route(environ, _headers(environ), body)
        except ServiceError as error:  # a router knows no operation of that shape
            headers, refused = _headers(environ), error
        path = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            path = f"{path}?{environ['QUERY_STRING']}"
        call = identify(environ["REQUEST_METHOD"], path, headers, body)
        if call is None or not call.action:
            return self._moto_reply(environ, body)
        refused = refused or validation.problem(call)  # malformed: no hook sees it

        seq, epoch = self.flow.start()
        started = clock.now()
        principal = self._principal(environ)
        # Every credential the kit hands out maps to moto's default account.
        request = ApiRequest(call, DEFAULT_ACCOUNT_ID, environ, body)
        try:
            reply, parsed = self._answer(request, refused)
        except Exception as exc:  # a crash in a hook, moto or a parser is recorded too
            reply, parsed = _crashed(call, exc)
        entry = _entry(seq, call, started, reply.status, parsed, principal)
        self.flow.add(seq, entry, epoch)
        return reply

    def _answer(
        self, request: ApiRequest, refused: ServiceError | None
    ) -> tuple[Reply, dict[str, Any]]:
        """The reply to an identified call, and its response in boto3's shape: a router's
        refusal, a hook's answer, or moto's with the hooks around it."""
        call, environ, body = request.call, request.environ, request.body
        reply = error_reply(call, refused) if refused else registry.run_before(request)
        if reply is None:
            reply = self._moto_reply(environ, body)
            parsed = parse_response(call, reply.status, reply.header_dict, reply.body)
            reply, parsed = registry.run_after(request, reply, parsed)
        else:
            parsed = parse_response(call, reply.status, reply.header_dict, reply.body)
        registry.run_observers(request, reply.status, parsed)
        return reply, parsed

    def _principal(self, environ: dict[str, Any]) -> str:
        """The principal the backend's own client names (``PRINCIPAL_HEADER``), believed only
        with the admin token: a submission cannot pass its calls off as the poller's."""
        if not self.admin_token or environ.get(ADMIN_ENVIRON_KEY) != self.admin_token:
            return ""
        return str(environ.get(PRINCIPAL_ENVIRON_KEY, ""))

    def _moto_reply(self, environ: dict[str, Any], body: bytes) -> Reply:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = int(status.split()[0])
            captured["headers"] = list(headers)
            return lambda chunk: None

        environ["wsgi.input"] = io.BytesIO(body)
        chunks = self.moto_app(environ, capture)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return Reply(captured["status"], data, captured["headers"])


class _InternalFailure(ServiceError):
    """AWS's answer to a request it failed to process."""

    code = "InternalFailure"
    status = 500
    sender = False


def _crashed(call: Call, exc: Exception) -> tuple[Reply, dict[str, Any]]:
    """The HTTP 500 AWS answers a request that failed on its side with, and the response the
    flow records for it: ``InternalFailure`` with the exception that broke it. The traceback
    goes to the server's standard error."""
    traceback.print_exception(exc, file=sys.stderr)
    reply = error_reply(
        call,
        _InternalFailure(
            "The request processing has failed because of an unknown error, exception or failure."
        ),
    )
    detail = f"{type(exc).__name__}: {exc}"[:1000]
    return reply, {"Error": {"Code": _InternalFailure.code, "Message": detail}}


def _entry(
    seq: int, call: Call, started: float, status: int, parsed: dict[str, Any], principal: str = ""
) -> dict[str, Any]:
    """The flow record's entry for ``call``, which ends now."""
    return call_entry(
        seq=seq,
        service=call.service,
        action=call.action,
        region=call.region,
        protocol=call.protocol,
        started=started,
        ended=clock.now(),
        status=status,
        request=call.params,
        response=parsed,
        principal=principal,
    )


def _route(
    environ: dict[str, Any], headers: dict[str, str], body: bytes
) -> tuple[dict[str, str], bytes]:
    """Run the routers (``registry.route``) on an API request; one they rewrote replaces it in
    ``environ``, where moto reads it, and its headers and body are returned."""
    wire = Wire(
        environ["REQUEST_METHOD"],
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        headers,
        body,
    )
    routed = registry.run_routes(wire)
    if routed is wire:
        return headers, body
    environ.update(
        REQUEST_METHOD=routed.method,
        PATH_INFO=routed.path,
        QUERY_STRING=routed.query,
        CONTENT_LENGTH=str(len(routed.body)),
    )
    for key in ("RAW_URI", "REQUEST_URI"):
        if key in environ:
            environ[key] = quote(routed.path) + (f"?{routed.query}" if routed.query else "")
    if "content-type" in routed.headers:
        environ["CONTENT_TYPE"] = routed.headers["content-type"]
    return routed.headers, routed.body


def _content_length(environ: dict[str, Any]) -> int | Reply:
    """The request's body length, or the HTTP error refusing it unread (and closing the
    connection, whose framing is lost): 400 for a ``Content-Length`` that is not a whole number
    of bytes (a negative one would read until the client hangs up), 413 past
    ``MAX_REQUEST_BYTES``."""
    text = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not (text.isascii() and text.isdigit()):
        return _refused(400, f"Content-Length must be a whole number of bytes, not {text!r}")
    if int(text) > MAX_REQUEST_BYTES:
        return _refused(413, f"the request is larger than {MAX_REQUEST_BYTES} bytes")
    return int(text)


def _refused(status: int, message: str) -> Reply:
    """An HTTP error for a request refused before its body is read; the connection closes."""
    body = f"{_status_line(status)}: {message}\n".encode()
    return Reply(status, body, [("Content-Type", "text/plain"), ("Connection", "close")])


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return headers


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def build_app(admin_token: str, extensions: Iterable[str] = ()) -> CourseApp:
    """The full backend WSGI app: moto's dispatcher behind the kit's middleware, with the
    ``extensions`` modules loaded in order."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    clock.install()
    SETTINGS.admin_token = admin_token
    loaded = registry.load_extensions(extensions)
    return CourseApp(DomainDispatcherApplication(create_backend_app), admin_token, loaded)


def main(argv: list[str] | None = None, extensions: Iterable[str] = ()) -> None:
    """Start the backend with ``extensions`` loaded; write ``{"port", "pid"}`` to
    ``--ready-file`` once it accepts requests."""
    parser = argparse.ArgumentParser(prog="python -m course.backend", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--ready-file", type=Path, help="where to write the port once ready")
    parser.add_argument(
        "--gate", type=Path, help="also serve a gate for sandboxes at this Unix socket path"
    )
    parser.add_argument(
        "--parent-pid", type=int, help="exit when this process (the grader) is gone"
    )
    parser.add_argument(
        "--memory-limit", type=int, help="bytes of memory the server may use (RLIMIT_DATA)"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="AWS seconds per real second on the backend's clock (default 1: real time)",
    )
    parser.add_argument(
        "--time-anchor",
        type=float,
        help="wall-clock time (seconds since the epoch) the dilation counts from (default: now)",
    )
    args = parser.parse_args(argv)
    # Before moto is imported: every time it reads, from its first, is on the dilated clock.
    try:
        clock.set_dilation(args.time_scale, args.time_anchor)
    except ValueError as exc:
        parser.error(str(exc))
    if args.memory_limit:
        # A submission that floods its backend (millions of messages) gets errors from it, and
        # the grader a backend that fails its health check, not a machine out of memory.
        import resource

        resource.setrlimit(resource.RLIMIT_DATA, (args.memory_limit, args.memory_limit))

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *a: Any, **k: Any) -> None:  # one line a request is noise
            pass

    app = build_app(os.environ.get("COURSE_ADMIN_TOKEN", ""), extensions)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=QuietHandler)
    port = server.server_port
    os.environ.setdefault("MOTO_PORT", str(port))
    threading.Thread(target=_stop_when_asked, args=(app, server), daemon=True).start()
    # SIGTERM (`kill`, a service manager, `Backend.stop` when HTTP fails) stops it as a shutdown
    # request does: promptly, and through the exit handlers that remove its temporary folders.
    signal.signal(signal.SIGTERM, lambda signum, frame: app.shutdown_requested.set())
    ready: dict[str, Any] = {"port": port, "pid": os.getpid()}
    if args.gate:
        # A sandbox learns the backend's ports when it is made, so SMTP's port is fixed now
        # (the server itself still starts on first use).
        smtp_port = _free_port(args.host)
        SETTINGS.smtp_port = smtp_port
        open_gate(args.gate, [port, smtp_port])
        ready["smtp_port"] = smtp_port
    if args.parent_pid:
        threading.Thread(target=_stop_with_parent, args=(args.parent_pid,), daemon=True).start()
    if args.ready_file:
        tmp = args.ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(ready))
        tmp.replace(args.ready_file)
    print(f"course backend listening on http://{args.host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)  # shutdown() waits up to one interval
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _stop_with_parent(parent: int) -> None:
    """No orphans: a grader killed outright takes its backends with it within half a second."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _stop_when_asked(app: CourseApp, server: Any) -> None:
    app.shutdown_requested.wait()
    time.sleep(0.05)  # let the shutdown reply leave first
    server.shutdown()


if __name__ == "__main__":
    main()
