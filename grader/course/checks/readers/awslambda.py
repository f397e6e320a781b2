"""Lambda reading helpers: a function's configuration, its event source mappings, and the batches
an SQS event source mapping's poller handed it.

The poller's calls are in the flow under the principal ``"lambda"`` (``ApiCall.principal``):
its ``Invoke`` of the function (the event's records in the request's ``Payload``, the function's
answer and ``FunctionError`` in the response) and its ``DeleteMessageBatch`` of what succeeded.
A student's own calls, and a handler's, have no principal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from course.checks.api import NotAttempted
from course.flow import ApiCall, Flow

POLLER = "lambda"


@dataclass(frozen=True)
class Batch:
    """One invocation of a function by an event source mapping's poller."""

    call: ApiCall
    records: list[dict[str, Any]]

    @property
    def message_ids(self) -> list[str]:
        """The SQS MessageIds of the batch, in the event's order."""
        return [str(r.get("messageId", "")) for r in self.records]

    def handle(self, message_id: str) -> str:
        """The receipt handle the batch carried for ``message_id``."""
        return next(
            (
                str(r.get("receiptHandle", ""))
                for r in self.records
                if r.get("messageId") == message_id
            ),
            "",
        )


def _names_function(requested: Any, name: str) -> bool:
    text = str(requested or "")
    return text == name or text.endswith(f":function:{name}") or f":function:{name}:" in text


def poller_batches(flow: Flow, function: str) -> list[Batch]:
    """Every batch a poller invoked ``function`` with, in the order the invocations began."""
    found = []
    for call in flow.calls_to("lambda", "Invoke"):
        if call.principal != POLLER or not _names_function(
            call.request.get("FunctionName"), function
        ):
            continue
        payload = call.request.get("Payload")
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except ValueError:
                payload = {}
        records = payload.get("Records") if isinstance(payload, dict) else None
        if isinstance(records, list):
            found.append(Batch(call, [r for r in records if isinstance(r, dict)]))
    return found


def function_configuration(aws: Any, name: str) -> dict[str, Any]:
    """A function's configuration; "not attempted" if there is no such function."""
    client = aws.client("lambda")
    try:
        return dict(client.get_function_configuration(FunctionName=name))
    except client.exceptions.ResourceNotFoundException:
        raise NotAttempted(f"there is no function named {name}") from None


def event_source_mappings(aws: Any, function: str) -> list[dict[str, Any]]:
    """The event source mappings of ``function`` (any source), however the mapping named it."""
    pages = aws.client("lambda").get_paginator("list_event_source_mappings").paginate()
    return [
        m
        for page in pages
        for m in page.get("EventSourceMappings", [])
        if _names_function(m.get("FunctionArn"), function)
    ]
