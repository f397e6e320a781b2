"""SQS event source mappings run asynchronously, as Lambda's pollers do (``poller.Poller``).

moto stores event source mappings, and for an SQS queue it runs the function synchronously
inside ``SendMessage``: one message at a time, with made-up attributes, in the sender's
request; a deleted mapping keeps invoking, and ``ReportBatchItemFailures`` is ignored. The kit
takes the queue away from moto's path and gives each mapping its own poller instead:

- ``CreateEventSourceMapping`` on an SQS queue checks AWS's rule that "Your function's timeout
  must be less than or equal to the queue's visibility timeout. Lambda validates this
  requirement when you create or update an event source mapping"
  (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html), refusing with
  ``InvalidParameterValueException`` "Queue visibility timeout: 30 seconds is less than Function
  timeout: 60 seconds" as Lambda words it; then it starts the poller and answers State
  ``Creating``;
- Get/List report the poller's state (Creating, Enabling, Enabled, Disabling, Disabled: "The
  state of the event source mapping. It can be one of the following: Creating, Enabling,
  Enabled, Disabling, Disabled, Updating, or Deleting",
  https://docs.aws.amazon.com/lambda/latest/api/API_GetEventSourceMapping.html) and its
  ``LastProcessingResult``;
- ``UpdateEventSourceMapping`` checks the same rule, and ``Enabled`` false/true stops and
  resumes polling (Disabling, then Disabled; Enabling, then Enabled);
- ``DeleteEventSourceMapping`` stops the poller (State ``Deleting``).

Pollers stop on backend reset and at exit.
"""

from __future__ import annotations

import atexit
import json
import threading
import time
from typing import Any

from course.backend.awslambda.exceptions import InvalidParameterValueException
from course.backend.awslambda.poller import Poller
from course.backend.core import moto_state
from course.backend.core.registry import ApiRequest, Reply, after, base_url, before, on_reset

#: Real seconds a reset waits, in all, for the pollers' threads to leave their loops.
STOP_WAIT = 0.5
_POLLERS: dict[str, Poller] = {}
_LOCK = threading.Lock()


def _is_sqs(arn: Any) -> bool:
    return str(arn or "").startswith("arn:aws:sqs:")


def _queue(account_id: str, arn: str) -> Any | None:
    region = arn.split(":")[3]
    for queue in moto_state.sqs(account_id, region).queues.values():
        if queue.queue_arn == arn:
            return queue
    return None


def _function(account_id: str, region: str, name: str) -> Any | None:
    try:
        return moto_state.lambda_function(account_id, region, name, None)
    except Exception:
        return None


def _check_timeouts(account_id: str, region: str, queue_arn: str, function: str) -> None:
    """AWS's rule: the function's timeout at most the queue's visibility timeout."""
    queue = _queue(account_id, queue_arn)
    fn = _function(account_id, region, function)
    if queue is None or fn is None:
        return  # moto answers for a queue or function that does not exist
    visibility, timeout = int(queue.visibility_timeout), int(fn.timeout)
    if visibility < timeout:
        raise InvalidParameterValueException(
            f"Queue visibility timeout: {visibility} seconds is less than Function timeout: "
            f"{timeout} seconds"
        )


def _mapping(request: ApiRequest, uuid: str) -> Any | None:
    backend = moto_state.awslambda(request.account_id, request.call.region or "us-east-1")
    return backend.get_event_source_mapping(uuid)


def _described(reply: Reply, change: Any) -> Reply:
    """``reply`` with its JSON document passed through ``change`` (which edits it in place)."""
    try:
        document = json.loads(reply.body)
    except ValueError:
        return reply
    change(document)
    headers = [(k, v) for k, v in reply.headers if k.lower() != "content-length"]
    return Reply(reply.status, json.dumps(document).encode(), headers)


def _report(configuration: dict[str, Any]) -> None:
    """Put the poller's state and last result in one mapping's configuration."""
    with _LOCK:
        poller = _POLLERS.get(str(configuration.get("UUID")))
    if poller is not None:
        configuration["State"] = poller.state
        configuration["LastProcessingResult"] = poller.last_result


@before("lambda", "CreateEventSourceMapping")
def check_create(request: ApiRequest) -> None:
    """Refuse an SQS mapping whose function's timeout exceeds the queue's visibility timeout."""
    arn = request.params.get("EventSourceArn")
    if _is_sqs(arn):
        region = request.call.region or "us-east-1"
        _check_timeouts(request.account_id, region, str(arn), str(request.params["FunctionName"]))


@after("lambda", "CreateEventSourceMapping")
def start_poller(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply | None:
    """Take the queue from moto's synchronous path and start the mapping's own poller."""
    if reply.status >= 300 or not _is_sqs(parsed.get("EventSourceArn")):
        return None
    uuid = str(parsed["UUID"])
    mapping = _mapping(request, uuid)
    if mapping is None:
        return None
    queue = _queue(request.account_id, mapping.event_source_arn)
    if queue is not None:
        queue.lambda_event_source_mappings.pop(mapping.function_arn, None)
    region = request.call.region or "us-east-1"
    poller = Poller(uuid, request.account_id, region, base_url(request.environ))
    with _LOCK:
        _POLLERS[uuid] = poller
    poller.start()
    return _described(reply, lambda doc: doc.update(State="Creating"))


@before("lambda", "UpdateEventSourceMapping")
def check_update(request: ApiRequest) -> None:
    """The timeout rule again, with the function the update names (or the mapping's own)."""
    mapping = _mapping(request, str(request.params.get("UUID", "")))
    if mapping is None or not _is_sqs(mapping.event_source_arn):
        return
    function = request.params.get("FunctionName") or mapping.function_arn
    region = request.call.region or "us-east-1"
    _check_timeouts(request.account_id, region, mapping.event_source_arn, str(function))


@after("lambda", "UpdateEventSourceMapping")
def update_poller(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply | None:
    """Enabling or disabling: the state in between until the poller has acted on it."""
    with _LOCK:
        poller = _POLLERS.get(str(request.params.get("UUID", "")))
    if reply.status >= 300 or poller is None:
        return None
    if "Enabled" in request.params:
        enabled = bool(request.params["Enabled"])
        if enabled and poller.state in ("Disabled", "Disabling"):
            poller.state = "Enabling"
        elif not enabled and poller.state in ("Enabled", "Enabling", "Creating"):
            poller.state = "Disabling"
    poller.wake()
    return _described(reply, _report)


@after("lambda", "GetEventSourceMapping")
def get_state(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply | None:
    """The mapping's state as its poller has it."""
    return _described(reply, _report) if reply.status < 300 else None


@after("lambda", "ListEventSourceMappings")
def list_states(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply | None:
    """Every mapping's state as its poller has it."""
    if reply.status >= 300:
        return None

    def each(document: dict[str, Any]) -> None:
        for configuration in document.get("EventSourceMappings") or []:
            _report(configuration)

    return _described(reply, each)


@after("lambda", "DeleteEventSourceMapping")
def stop_poller(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply | None:
    """Stop the mapping's poller; the answer's state is ``Deleting``."""
    with _LOCK:
        poller = _POLLERS.pop(str(request.params.get("UUID", "")), None)
    if reply.status >= 300 or poller is None:
        return None
    poller.stop()
    return _described(reply, lambda doc: doc.update(State="Deleting"))


def stop_all() -> None:
    """Stop every poller (backend reset, exit), and give each a moment to leave its loop, so
    that none starts a call after the reset."""
    with _LOCK:
        pollers = list(_POLLERS.values())
        _POLLERS.clear()
    for poller in pollers:
        poller.stop()
    deadline = time.monotonic() + STOP_WAIT
    for poller in pollers:
        poller.join(max(0.0, deadline - time.monotonic()))


on_reset(stop_all)
atexit.register(stop_all)
