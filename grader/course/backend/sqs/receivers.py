"""Which consumer received each SQS message: the client's name, for the visibility timeline.

A consumer can name its boto3 client with ``Config(user_agent_appid="consumer-1")``; botocore
then sends ``app/consumer-1`` in the User-Agent of every request (on AWS too, where it is
harmless). The flow records requests in boto3's shape, without headers, so this module keeps,
for each receipt handle a ReceiveMessage delivered, the name of the client that received it.
``GET /_course/sqs/receivers`` returns ``{receipt handle: name}``; lab 02's timeline uses it
to draw one row per consumer. Nothing is graded on it.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from course.backend.core.registry import ApiRequest, Reply, after, json_reply, on_reset, page

APP_ID = re.compile(r"(?:^|\s)app/(\S+)")
MAX_ENTRIES = 100_000


class Receivers:
    """Thread-safe map of receipt handle to the receiving client's app id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_handle: dict[str, str] = {}

    def record(self, receipt_handle: str, app_id: str) -> None:
        """Note who received the message of ``receipt_handle`` (up to ``MAX_ENTRIES``)."""
        with self._lock:
            if len(self._by_handle) < MAX_ENTRIES:
                self._by_handle[receipt_handle] = app_id

    def all(self) -> dict[str, str]:
        """Every receipt handle noted, with its receiver's app id."""
        with self._lock:
            return dict(self._by_handle)

    def clear(self) -> None:
        """Forget every receiver (backend reset)."""
        with self._lock:
            self._by_handle.clear()


RECEIVERS = Receivers()
on_reset(RECEIVERS.clear)


def app_id(user_agent: str) -> str | None:
    """The ``app/NAME`` part of a botocore User-Agent, if the client set one."""
    match = APP_ID.search(user_agent or "")
    return match[1] if match else None


@after("sqs", "ReceiveMessage")
def remember_receiver(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> None:
    """Note the client's app id against each receipt handle a ReceiveMessage delivered."""
    name = app_id(str(request.environ.get("HTTP_USER_AGENT", "")))
    if name is None or reply.status >= 400:
        return None
    for message in parsed.get("Messages", []) or []:
        if handle := message.get("ReceiptHandle"):
            RECEIVERS.record(handle, name)
    return None


@page("/_course/sqs/receivers")
def receivers_page(environ: dict[str, Any], body: bytes) -> Reply:
    """``/_course/sqs/receivers``: ``{receipt handle: app id}`` as JSON."""
    return json_reply(200, RECEIVERS.all())
