"""The Python Lambda runtime's side of one invocation, run as its own process.

``course.backend.awslambda.runtime`` starts ``python -I -u bootstrap.py SPEC`` in the
function's unpacked code directory. This script imports the handler, builds the context object,
calls the handler with the event, and writes the outcome as JSON to the spec's
``result_path``: either ``{"payload": ...}`` or AWS's error document ``{"errorMessage",
"errorType", "requestId", "stackTrace"}``. Whatever the handler prints goes to stdout and
stderr, which the backend turns into CloudWatch Logs lines, as the Lambda runtime does. It
imports nothing from the kit, except on a grader's dilated clock (``time_scale`` above 1):
then ``course.timewarp`` puts the whole process on the backend's virtual time before the
handler is imported, so the function's sleeps, clocks, context and timeout are AWS time, and
the durations it reports are AWS milliseconds.

https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html
https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import threading
import time
import traceback
from typing import Any

TIMEOUT_EXIT_CODE = 124


class LambdaContext:
    """The context object the Python runtime passes to a handler."""

    def __init__(self, spec: dict[str, Any], deadline: float) -> None:
        self.function_name: str = spec["function_name"]
        self.function_version: str = spec["function_version"]
        self.invoked_function_arn: str = spec["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(spec["memory_limit_in_mb"])
        self.aws_request_id: str = spec["request_id"]
        self.log_group_name: str = spec["log_group_name"]
        self.log_stream_name: str = spec["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class HandlerError(Exception):
    """An error of the runtime itself (import, handler lookup, marshalling), with AWS's type."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _load_handler(handler: str) -> Any:
    module_name, _, function_name = handler.rpartition(".")
    module_name = module_name.replace("/", ".")
    if not module_name or not function_name:
        raise HandlerError(
            "Runtime.MalformedHandlerName", f"Bad handler '{handler}': not enough values to unpack"
        )
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        raise HandlerError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from None
    except ImportError as exc:
        raise HandlerError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    function = getattr(module, function_name, None)
    if function is None:
        raise HandlerError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return function


def _stack(exc: BaseException, task_root: str) -> list[str]:
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # drop this bootstrap's own frame
    return [line.replace(task_root, "/var/task") for line in traceback.format_list(frames)]


def _error(exc: BaseException, request_id: str, task_root: str) -> dict[str, Any]:
    if isinstance(exc, HandlerError):
        error_type, stack = exc.error_type, []
    else:
        error_type, stack = type(exc).__name__, _stack(exc, task_root)
    document = {
        "errorMessage": str(exc),
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack,
    }
    # The runtime logs the error as one entry: "[ERROR] Type: message" and the traceback.
    lines = [f"[ERROR] {error_type}: {exc}"]
    if stack:
        lines.append("Traceback (most recent call last):")
        lines.extend(s.rstrip("\n") for s in stack)
    print("\n".join(lines), file=sys.stderr, flush=True)
    return document


def _arm_timeout(seconds: float) -> None:
    """End the process when the function's timeout elapses, whatever the handler is doing."""

    def expire() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(TIMEOUT_EXIT_CODE)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


def _dilate(spec: dict[str, Any]) -> None:
    """On a backend whose clock runs ``time_scale`` times faster than the wall's, run this
    process on the same virtual time (anchored at the backend's ``time_anchor``)."""
    scale = float(spec.get("time_scale") or 1.0)
    if scale == 1:
        return
    from course.timewarp import REAL, Dilation, install

    install(Dilation(scale, float(spec["time_anchor"]), REAL.monotonic()))


def _peak_memory_mb() -> int:
    """This process's peak resident memory (``VmHWM``; ru_maxrss would count the parent's)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main(spec_path: str) -> int:
    """Run the invocation the spec file describes and write its outcome; the exit status."""
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    task_root = spec["task_root"]
    os.chdir(task_root)
    sys.path.insert(0, task_root)
    _dilate(spec)
    # On a dilated clock this is virtual time, and the timer waits that many virtual seconds.
    timeout = float(spec.get("aws_timeout", spec["timeout"]))
    deadline = time.monotonic() + timeout
    _arm_timeout(timeout)
    outcome: dict[str, Any]
    init_started = started = time.monotonic()
    init_ms = 0.0
    try:
        handler = _load_handler(spec["handler"])
        started = time.monotonic()
        init_ms = (started - init_started) * 1000
        result = handler(spec["event"], LambdaContext(spec, deadline))
        try:
            payload = json.dumps(result)
        except (TypeError, ValueError) as exc:
            raise HandlerError(
                "Runtime.MarshalError", f"Unable to marshal response: {exc}"
            ) from None
        outcome = {"payload": payload}
    except Exception as exc:
        outcome = {"error": _error(exc, spec["request_id"], task_root)}
    outcome["duration_ms"] = (time.monotonic() - started) * 1000
    outcome["init_ms"] = init_ms
    outcome["max_memory_mb"] = _peak_memory_mb()
    sys.stdout.flush()
    sys.stderr.flush()
    with open(spec["result_path"], "w", encoding="utf-8") as f:
        json.dump(outcome, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
