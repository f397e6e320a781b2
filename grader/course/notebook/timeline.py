"""The visibility timeline of an SQS queue: which consumer held which message, and when.

Drawn from the local backend's record of API calls (the flow), not from the notebook's own
prints: every ReceiveMessage is a bar from the moment a message was handed out to the moment
that consumer deleted it, with a mark where its visibility timeout ran out and heartbeats
(ChangeMessageVisibility) along it. A consumer is named by its client,
``boto3.client("sqs", config=Config(user_agent_appid="consumer-1"))``; unnamed receives get a row
each.

It needs the local backend: on a real AWS account nothing records the calls, so
``visibility_timeline`` says so and draws nothing. Its words (legend, axis, default title,
messages) speak ``COURSE_LANG`` (``course.i18n``); the notebook's own title is the notebook's.

    from course import flow_mark, visibility_timeline
    mark = flow_mark()                       # before a part of the lab
    ...                                      # the consumers run
    visibility_timeline("video-jobs", since=mark)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from course.checks.context import fetch_flow
from course.checks.readers.sqs_history import deliveries
from course.client import BackendClient
from course.connection import settings
from course.flow import Flow
from course.i18n import N_, _


class TimelineUnavailable(RuntimeError):
    """The notebook is not connected to the local backend, so there is no flow to draw from."""


def _backend() -> BackendClient:
    backend = settings().local_backend()
    if backend is None:
        raise TimelineUnavailable(
            _(
                "The timeline is drawn from the local backend's record of API calls. On a real "
                "AWS account nothing records them, so there is no timeline: read the consumers' "
                "prints instead (or run this lab on the local backend)."
            )
        )
    return backend


def flow_mark() -> int:
    """The sequence number of the last API call so far (0 on a real account, where none is kept).

    Pass it as ``since`` to draw only what happened after this point.
    """
    try:
        backend = _backend()
    except TimelineUnavailable:
        return 0
    return backend.flow_mark()


def _receivers(backend: BackendClient) -> dict[str, str]:
    try:
        return backend.receivers()
    except OSError:
        return {}


#: The row of a receive whose client had no name (``user_agent_appid``).
UNNAMED = N_("receive {number}")


@dataclass
class Hold:
    """One consumer holding one message: from its receive to its delete (or the end)."""

    consumer: str
    message_id: str
    label: str
    start: float
    end: float
    visible_again_at: float
    deleted: bool
    receive_count: int | None = None
    heartbeats: list[float] = field(default_factory=list)
    #: No client named the consumer: its row is ``UNNAMED`` (translated when drawn).
    unnamed: bool = False

    @property
    def came_back(self) -> bool:
        """The timeout ran out while this consumer still held the message."""
        return self.visible_again_at < self.end


def holds_from_flow(
    flow: Flow, queue: str, since: int = 0, receivers: dict[str, str] | None = None
) -> list[Hold]:
    """Every hold of a message of ``queue`` received after call ``since``."""
    receivers = receivers or {}
    found = [d for d in deliveries(flow, queue) if d.seq > since]
    if not found:
        return []
    last = max(c.ended for c in flow if c.seq > since)
    result = []
    for number, delivery in enumerate(found, start=1):
        handle = delivery.received.receipt_handle
        end = delivery.deleted.started if delivery.deleted is not None else last
        result.append(
            Hold(
                consumer=receivers.get(handle, UNNAMED.format(number=number)),
                message_id=delivery.message_id,
                label=_label(delivery.received.body),
                start=delivery.delivered_at,
                end=max(end, delivery.delivered_at),
                visible_again_at=delivery.visible_again_at,
                deleted=delivery.deleted is not None,
                receive_count=delivery.received.receive_count,
                unnamed=handle not in receivers,
                heartbeats=[b.call.started for b in delivery.heartbeats],
            )
        )
    return result


def _label(body: str) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict):
        body = str(document.get("video") or document.get("name") or body)
    return body if len(body) <= 24 else body[:23] + "…"


def holds(queue: str, since: int = 0) -> list[Hold]:
    """The holds of ``queue`` after call ``since``, read from the local backend."""
    backend = _backend()
    return holds_from_flow(fetch_flow(backend.url), queue, since, _receivers(backend))


def timeline_figure(found: list[Hold], title: str = "", time_scale: float = 1.0) -> Any:
    """A matplotlib Figure of the holds: one row per consumer, one colour per message. Its axis
    is in AWS seconds; with a ``time_scale`` above 1 (a grader's dilated clock) it says so."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    origin = min(h.start for h in found)
    unnamed = {h.consumer for h in found if h.unnamed}
    rows = list(dict.fromkeys(h.consumer for h in found))
    messages = list(dict.fromkeys(h.message_id for h in found))
    colours = plt.get_cmap("tab10")
    colour = {m: colours(i % 10) for i, m in enumerate(messages)}
    labels = {h.message_id: h.label for h in found}

    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.8 * len(rows)))
    for hold in found:
        y = rows.index(hold.consumer)
        start, end = hold.start - origin, hold.end - origin
        hidden_end = min(hold.visible_again_at - origin, end)
        tint = colour[hold.message_id]
        ax.barh(y, max(hidden_end - start, 0.05), left=start, height=0.45, color=tint)
        if hold.came_back:
            ax.barh(
                y,
                end - hidden_end,
                left=hidden_end,
                height=0.45,
                color=tint,
                alpha=0.35,
                hatch="//",
                edgecolor="red",
                linewidth=0,
            )
            ax.vlines(hidden_end, y - 0.3, y + 0.3, colors="red")
        count = (
            _(" (receive {count})").format(count=hold.receive_count) if hold.receive_count else ""
        )
        ax.text(start, y - 0.28, f"{hold.label}{count}", va="bottom", fontsize=8)
        for beat in hold.heartbeats:
            ax.plot(beat - origin, y, marker="|", color="black", markersize=14)
        if hold.deleted:
            ax.plot(end, y, marker="x", color="black", markersize=8)
    ax.set_yticks(range(len(rows)), [_(row) if row in unnamed else row for row in rows])
    ax.set_ylim(len(rows) - 0.5, -0.8)
    ax.set_xlabel(axis_label(time_scale))
    ax.set_title(title)
    handles: list[Any] = [Patch(color=colour[m], label=labels[m]) for m in messages]
    handles.append(Patch(color="grey", label=_("solid bar: hidden from the other consumers")))
    if any(h.came_back for h in found):
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="red",
                hatch="//",
                label=_("timeout ran out: visible to others while still being processed"),
            )
        )
    if any(h.heartbeats for h in found):
        handles.append(
            Line2D(
                [],
                [],
                marker="|",
                color="black",
                linestyle="",
                markersize=10,
                label=_("heartbeat (ChangeMessageVisibility)"),
            )
        )
    if any(h.deleted for h in found):
        handles.append(Line2D([], [], marker="x", color="black", linestyle="", label=_("deleted")))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    fig.tight_layout()
    plt.close(fig)  # shown once, as the cell's value, not again by the inline backend
    return fig


def axis_label(time_scale: float) -> str:
    """The time axis's label: AWS seconds, and on dilated time how much faster they ran."""
    if time_scale == 1:
        return _("seconds (backend clock)")
    return _(
        "AWS seconds (backend clock, graded on dilated time: {scale:g}x the wall clock)"
    ).format(scale=time_scale)


def visibility_timeline(queue: str = "video-jobs", since: int = 0, title: str = "") -> Any:
    """Draw the visibility timeline of ``queue`` (after call ``since``); returns the Figure.

    On a real AWS account, or before anything was received, it prints why and returns None.
    """
    try:
        found = holds(queue, since)
    except TimelineUnavailable as exc:
        print(exc)
        return None
    if not found:
        print(
            _("No message was received from {queue} here yet: there is nothing to draw.").format(
                queue=queue
            )
        )
        return None
    scale = _backend().clock().get("scale", 1.0)
    title = title or _("Who held which message of {queue}").format(queue=queue)
    return timeline_figure(found, title, scale)
