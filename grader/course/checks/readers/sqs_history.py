"""A queue's history read from the flow: its settings at each call, and each delivery's lease.

Labs 02 and 03 judge behaviour that depends on time and on the queue's settings when a call was
made: which visibility timeout hid a message, how long a receive was allowed to wait. Both are
rebuilt here from the server's record, whatever API the notebook used:

- ``QueueHistory`` replays CreateQueue, SetQueueAttributes and DeleteQueue to give the value of
  an attribute in force when a call began (AWS's defaults before any were set);
- ``deliveries`` lists every message a ReceiveMessage handed out, with the visibility timeout
  that applied, when it would become visible again after any ChangeMessageVisibility
  (heartbeats), and the delete that ended it.

Times are the backend's clock (``ApiCall.started`` / ``ended``), ordering is the flow's sequence
number, which the server assigns when a call begins.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from course.checks.readers.sqs import Received, deletes, receives
from course.flow import ApiCall, Flow

#: AWS's defaults for the attributes these labs read (CreateQueue reference).
DEFAULTS = {"VisibilityTimeout": 30, "ReceiveMessageWaitTimeSeconds": 0, "DelaySeconds": 0}


class QueueHistory:
    """The attributes of one queue over the flow, replayed from the calls that changed them."""

    def __init__(self, flow: Flow, queue: str) -> None:
        self._changes: list[tuple[int, dict[str, str] | None]] = []
        current: dict[str, str] | None = None
        for call in flow.calls_to(
            "sqs", "CreateQueue", "SetQueueAttributes", "DeleteQueue", queue=queue, ok=True
        ):
            given = {k: str(v) for k, v in (call.request.get("Attributes") or {}).items()}
            if call.action == "DeleteQueue":
                current = None
            elif call.action == "CreateQueue" and current is None:
                current = given
            else:
                current = {**(current or {}), **given}
            self._changes.append((call.seq, current))

    def attributes_at(self, seq: int) -> dict[str, str]:
        """The attributes set on the queue when the call numbered ``seq`` began."""
        found: dict[str, str] | None = None
        for change_seq, attributes in self._changes:
            if change_seq >= seq:
                break
            found = attributes
        return found or {}

    def number_at(self, name: str, seq: int) -> int:
        """An integer attribute in force at ``seq`` (AWS's default if it was never set)."""
        value = self.attributes_at(seq).get(name)
        try:
            return int(value) if value is not None else DEFAULTS.get(name, 0)
        except ValueError:
            return DEFAULTS.get(name, 0)


def effective_wait(history: QueueHistory, call: ApiCall) -> int:
    """How long a ReceiveMessage was allowed to wait: its WaitTimeSeconds, else the queue's."""
    if "WaitTimeSeconds" in call.request:
        return int(call.request["WaitTimeSeconds"])
    return history.number_at("ReceiveMessageWaitTimeSeconds", call.seq)


def effective_visibility(history: QueueHistory, call: ApiCall) -> int:
    """The visibility timeout a ReceiveMessage applied: its own, else the queue's."""
    if "VisibilityTimeout" in call.request:
        return int(call.request["VisibilityTimeout"])
    return history.number_at("VisibilityTimeout", call.seq)


@dataclass(frozen=True)
class Heartbeat:
    """A successful ChangeMessageVisibility on one delivery."""

    call: ApiCall
    seconds: int
    extended: bool  # made while the message was hidden, and pushed its return later


@dataclass
class Delivery:
    """One message handed out by one ReceiveMessage, and what became of that lease."""

    received: Received
    timeout: int
    heartbeats: list[Heartbeat] = field(default_factory=list)
    deleted: ApiCall | None = None  # the first successful delete by this receipt handle

    @property
    def message_id(self) -> str:
        return self.received.message_id

    @property
    def call(self) -> ApiCall:
        return self.received.call

    @property
    def seq(self) -> int:
        return self.received.call.seq

    @property
    def delivered_at(self) -> float:
        return self.received.call.ended

    @property
    def visible_again_at(self) -> float:
        """When the message would be visible again: the receive's lease, moved by heartbeats."""
        at = self.delivered_at + self.timeout
        for beat in self.heartbeats:
            at = beat.call.started + beat.seconds
        return at


def visibility_changes(flow: Flow, queue: str) -> Iterator[tuple[ApiCall, str, int, bool]]:
    """Each ChangeMessageVisibility (batch entries one by one): call, handle, seconds, succeeded."""
    for call in flow.calls_to(
        "sqs", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch", queue=queue
    ):
        if call.action == "ChangeMessageVisibility":
            seconds = int(call.request.get("VisibilityTimeout", 0))
            yield call, str(call.request.get("ReceiptHandle", "")), seconds, call.ok
            continue
        succeeded = {e.get("Id") for e in call.response.get("Successful", [])} if call.ok else set()
        for entry in call.request.get("Entries", []):
            ok = entry.get("Id") in succeeded
            yield (
                call,
                str(entry.get("ReceiptHandle", "")),
                int(entry.get("VisibilityTimeout", 0)),
                ok,
            )


def deliveries(flow: Flow, queue: str) -> list[Delivery]:
    """Every delivery from ``queue``, in the order the receives began."""
    history = QueueHistory(flow, queue)
    found = [Delivery(r, effective_visibility(history, r.call)) for r in receives(flow, queue)]
    by_handle = {d.received.receipt_handle: d for d in found}
    for attempt in deletes(flow, queue):
        delivery = by_handle.get(attempt.receipt_handle)
        if attempt.ok and delivery is not None and delivery.deleted is None:
            delivery.deleted = attempt.call
    for call, handle, seconds, ok in visibility_changes(flow, queue):
        delivery = by_handle.get(handle)
        if not ok or delivery is None or call.seq < delivery.seq:
            continue
        hidden_until = delivery.visible_again_at
        still_held = delivery.deleted is None or delivery.deleted.seq > call.seq
        extended = still_held and call.started <= hidden_until < call.started + seconds
        delivery.heartbeats.append(Heartbeat(call, seconds, extended))
    return sorted(found, key=lambda d: d.seq)
