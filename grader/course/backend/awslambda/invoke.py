"""Lambda ``Invoke`` runs the function's Python handler (``course.backend.awslambda.runtime``).

moto's Invoke needs Docker; without it, it answers a canned string. The kit answers Invoke
itself, as the Lambda API does:

- ``RequestResponse`` (default): 200 with the handler's JSON result as the payload; a failed run
  adds ``X-Amz-Function-Error: Unhandled`` and the payload is the error document; with
  ``LogType=Tail`` the last 4 KB of the log come back base64-encoded in ``X-Amz-Log-Result``;
- ``Event``: 202 at once, the run is queued;
- ``DryRun``: 204 without running;
- an unknown function is ``ResourceNotFoundException`` (404); a payload that is not JSON is
  ``InvalidRequestContentException`` (400).

``GET /_course/lambda/idle?timeout=S`` waits until queued runs have finished (the grader uses it
before reading CloudWatch Logs). moto's Docker runner is replaced by the kit's for any other
path that invokes a function inside the backend.

https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from moto.awslambda.models import LambdaFunction

from course.backend.awslambda import runtime as lambda_runtime
from course.backend.awslambda.exceptions import (
    InvalidRequestContentException,
    InvalidRuntimeException,
    ResourceNotFoundException,
)
from course.backend.core import moto_state
from course.backend.core.registry import ApiRequest, Reply, base_url, before, on_reset, page


def _function(request: ApiRequest) -> Any | None:
    name = str(request.params.get("FunctionName", ""))
    qualifier = request.params.get("Qualifier")
    region = request.call.region or "us-east-1"
    if name.startswith("arn:"):
        parts = name.split(":")
        region = parts[3] if len(parts) > 3 else region
        if len(parts) == 8 and not qualifier:
            name, qualifier = ":".join(parts[:7]), parts[7]
    try:
        return moto_state.lambda_function(request.account_id, region, name, qualifier)
    except Exception:
        return None


@before("lambda", "Invoke")
def invoke(request: ApiRequest) -> Reply:
    """Run the function's handler (RequestResponse), queue it (Event) or only check (DryRun)."""
    fn = _function(request)
    if fn is None:
        name = request.params.get("FunctionName", "")
        arn = (
            name
            if str(name).startswith("arn:")
            else (f"arn:aws:lambda:{request.call.region}:{request.account_id}:function:{name}")
        )
        raise ResourceNotFoundException(f"Function not found: {arn}")
    try:
        event = json.loads(request.body) if request.body.strip() else {}
    except ValueError as exc:
        raise InvalidRequestContentException(
            f"Could not parse request body into json: {exc}"
        ) from None
    kind = request.params.get("InvocationType") or "RequestResponse"
    version = [("X-Amz-Executed-Version", str(fn.version))]
    if kind == "DryRun":
        return Reply(204, b"", version)
    endpoint = base_url(request.environ)
    try:
        if kind == "Event":
            request_id = lambda_runtime.invoke_async(fn, event, endpoint_url=endpoint)
            return Reply(202, b"", [*version, ("x-amzn-RequestId", request_id)])
        result = lambda_runtime.invoke(fn, event, endpoint_url=endpoint)
    except lambda_runtime.UnsupportedFunction as exc:
        raise InvalidRuntimeException(str(exc)) from None
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-RequestId", result.request_id),
        *version,
    ]
    if result.function_error:
        headers.append(("X-Amz-Function-Error", result.function_error))
    if request.params.get("LogType") == "Tail":
        headers.append(("X-Amz-Log-Result", result.log_tail))
    return Reply(200, result.payload, headers)


def _without_docker(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """moto's Docker runner, replaced: (payload, failed, log) for moto's internal callers."""
    if isinstance(event, str):
        event = json.loads(event or "{}")
    try:
        result = lambda_runtime.invoke(self, event if event is not None else {})
    except lambda_runtime.UnsupportedFunction as exc:
        return str(exc), True, ""
    return result.payload.decode("utf-8"), result.function_error is not None, result.log


LambdaFunction._invoke_lambda = _without_docker  # type: ignore[method-assign]


@page("/_course/lambda/idle")
def idle(environ: dict[str, Any], body: bytes) -> Reply:
    """Wait (up to ``timeout`` seconds, default 10) until no asynchronous run is pending."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    try:
        timeout = min(60.0, float(query.get("timeout", ["10"])[0]))
    except ValueError:
        timeout = 10.0
    done = lambda_runtime.wait_idle(timeout)
    return Reply(
        200 if done else 504,
        json.dumps({"idle": done}).encode(),
        [("Content-Type", "application/json")],
    )


on_reset(lambda_runtime.reset)
