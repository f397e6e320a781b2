"""The decks' diagrams, drawn as SVG from code (no images are drawn by hand).

``DIAGRAMS`` maps a name to a function returning SVG text; ``draw(name, lang)`` draws one with
its labels in ``lang`` (every word a reader reads goes through ``_``; names of APIs, resources
and parameters stay as they are). The build writes each one to ``diagrams/<name>.svg`` of each
language's edition, and a deck shows it with ``![alt](diagrams/<name>.svg)``.
Output is deterministic: the same source always gives the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from html import escape

from course.i18n import SOURCE_LANG
from course.i18n import _ as translate

#: The language the diagram being drawn is labelled in (``draw`` sets it).
LANGUAGE: ContextVar[str] = ContextVar("LANGUAGE", default=SOURCE_LANG)


def _(text: str) -> str:
    """``text`` in the language being drawn, from the kit's gettext catalogue (English when the
    catalogue has no entry). Its entries are in ``locale/<lang>/LC_MESSAGES/labslides.po``."""
    return translate(text, LANGUAGE.get())


SANS = "Liberation Sans, Arial, Helvetica, sans-serif"
MONO = "Liberation Mono, DejaVu Sans Mono, monospace"
INK = "#111827"
MUTED = "#6b7280"
LINE = "#9ca3af"
BLUE = "#2563eb"
ORANGE = "#d97706"
GREEN = "#059669"
RED = "#dc2626"
PURPLE = "#7c3aed"
TEAL = "#0d9488"
TINT = {
    BLUE: "#dbeafe",
    ORANGE: "#fef3c7",
    GREEN: "#d1fae5",
    RED: "#fee2e2",
    PURPLE: "#ede9fe",
    TEAL: "#ccfbf1",
    MUTED: "#f3f4f6",
    LINE: "#f9fafb",
}
WIDTH = 1160
#: Latin Extended Additional: precomposed letters that monospace fonts lack (``Canvas.text``).
STACKED_MARKS = re.compile("[\u1e00-\u1eff]")
HEIGHT = 460


@dataclass
class Canvas:
    """A small SVG builder: boxes, text and arrows on a fixed-size canvas."""

    title: str
    width: int = WIDTH
    height: int = HEIGHT
    parts: list[str] = field(default_factory=list)
    markers: set[str] = field(default_factory=set)

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: int = 18,
        anchor: str = "middle",
        weight: str = "normal",
        fill: str = INK,
        mono: bool = False,
        italic: bool = False,
    ) -> None:
        """Write text; ``\\n`` starts a new line (1.25 em apart), ``y`` is the first baseline.

        A ``mono`` text holding a letter of Latin Extended Additional (Vietnamese letters with
        two marks, ``ử``, ``ề``) is drawn in the sans font: the monospace fonts (Liberation
        Mono, DejaVu Sans Mono) have no such glyph, and browsers then stack loose marks.
        """
        family = MONO if mono and not STACKED_MARKS.search(content) else SANS
        style = ' font-style="italic"' if italic else ""
        lines = content.split("\n")
        spans = "".join(
            f'<tspan x="{x:g}" dy="{0 if i == 0 else 1.25}em">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        self.parts.append(
            f'<text x="{x:g}" y="{y:g}" font-family="{family}" font-size="{size}" '
            f'text-anchor="{anchor}" font-weight="{weight}" fill="{fill}"{style}>{spans}</text>'
        )

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        color: str = MUTED,
        fill: str | None = None,
        rx: float = 10,
        dashed: bool = False,
        width: float = 2,
    ) -> None:
        """Draw a rounded rectangle outlined in ``color`` and filled with its tint."""
        dash = ' stroke-dasharray="8 6"' if dashed else ""
        self.parts.append(
            f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="{rx:g}" '
            f'fill="{fill or TINT.get(color, "#ffffff")}" stroke="{color}" '
            f'stroke-width="{width:g}"{dash}/>'
        )

    def box(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        label: str,
        *,
        color: str = MUTED,
        sub: str = "",
        size: int = 20,
        dashed: bool = False,
    ) -> None:
        """Draw a labelled box; ``sub`` is a smaller second line in monospace."""
        self.rect(x, y, w, h, color=color, dashed=dashed)
        lines = label.count("\n") + 1
        sub_lines = sub.count("\n") + 1 if sub else 0
        block = lines * size * 1.25 + sub_lines * 15 * 1.25
        top = y + (h - block) / 2 + size * 0.95
        self.text(x + w / 2, top, label, size=size, weight="bold")
        if sub:
            self.text(x + w / 2, top + lines * size * 1.25, sub, size=15, mono=True, fill=MUTED)

    def _marker(self, color: str) -> str:
        """Return (creating once) the id of an arrowhead marker in ``color``."""
        marker_id = "arrow-" + color.lstrip("#")
        self.markers.add(color)
        return marker_id

    def arrow(
        self,
        points: list[tuple[float, float]],
        *,
        color: str = INK,
        label: str = "",
        label_at: tuple[float, float] | None = None,
        dashed: bool = False,
        width: float = 2.5,
        size: int = 16,
        mono: bool = False,
        anchor: str = "middle",
    ) -> None:
        """Draw a polyline arrow through ``points`` with an optional label."""
        path = " ".join(f"{x:g},{y:g}" for x, y in points)
        dash = ' stroke-dasharray="9 6"' if dashed else ""
        self.parts.append(
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="{width:g}"'
            f'{dash} marker-end="url(#{self._marker(color)})"/>'
        )
        if label:
            (x1, y1), (x2, y2) = points[0], points[1]
            lx, ly = label_at or ((x1 + x2) / 2, (y1 + y2) / 2 - 10)
            self.text(lx, ly, label, size=size, fill=color, mono=mono, anchor=anchor)

    def line(
        self, x1: float, y1: float, x2: float, y2: float, *, color: str = LINE, dashed: bool = False
    ) -> None:
        """Draw a plain line."""
        dash = ' stroke-dasharray="6 6"' if dashed else ""
        self.parts.append(
            f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="{color}" '
            f'stroke-width="2"{dash}/>'
        )

    def circle(self, x: float, y: float, r: float, *, color: str, label: str = "") -> None:
        """Draw a filled circle with an optional centred white label."""
        self.parts.append(f'<circle cx="{x:g}" cy="{y:g}" r="{r:g}" fill="{color}"/>')
        if label:
            self.text(x, y + 6, label, size=16, weight="bold", fill="#ffffff")

    def render(self) -> str:
        """Return the finished SVG document."""
        defs = "".join(
            f'<marker id="arrow-{color.lstrip("#")}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
            for color in sorted(self.markers)
        )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" role="img">'
            f"<title>{escape(self.title)}</title><defs>{defs}</defs>"
            f'<rect width="100%" height="100%" fill="#ffffff"/>' + "".join(self.parts) + "</svg>\n"
        )


# --- timelines -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """A span of time on one lane of a timeline."""

    lane: int
    start: float
    end: float
    label: str
    color: str
    dashed: bool = False


@dataclass(frozen=True)
class Mark:
    """A point in time on one lane of a timeline, labelled above the lane."""

    lane: int
    at: float
    label: str
    color: str = INK


@dataclass(frozen=True)
class Timeline:
    """A timeline: lanes top to bottom, a time axis ticked every ``tick_step``, bars and marks."""

    title: str
    lanes: tuple[str, ...]
    t_max: float
    tick_step: int
    unit: str
    bars: tuple[Bar, ...]
    marks: tuple[Mark, ...] = ()
    caption: str = ""
    caption_color: str = INK

    @property
    def ticks(self) -> tuple[tuple[int, str], ...]:
        """The axis ticks, (time, label), every ``tick_step`` from 0 up to ``t_max``."""
        unit = _(self.unit)
        return tuple((t, f"{t} {unit}") for t in range(0, int(self.t_max) + 1, self.tick_step))


LEFT = 190
RIGHT = WIDTH - 30
LANE_TOP = 84
LANE_GAP = 76
BAR_H = 34


def draw_timeline(spec: Timeline) -> str:
    """Draw a :class:`Timeline` as SVG; the canvas is as tall as its lanes need."""
    axis_y = LANE_TOP + (len(spec.lanes) - 1) * LANE_GAP + BAR_H + 20
    canvas = Canvas(spec.title, height=int(axis_y + 96))
    canvas.text(WIDTH / 2, 32, spec.title, size=22, weight="bold")

    def x_of(t: float) -> float:
        return LEFT + (RIGHT - LEFT) * t / spec.t_max

    def y_of(lane: int) -> float:
        return LANE_TOP + lane * LANE_GAP

    for at, _ in spec.ticks:
        canvas.line(x_of(at), LANE_TOP - 30, x_of(at), axis_y, color="#f3f4f6", dashed=True)
    for lane, name in enumerate(spec.lanes):
        y = y_of(lane)
        canvas.line(LEFT, y + BAR_H / 2, RIGHT, y + BAR_H / 2, color="#e5e7eb")
        canvas.text(LEFT - 14, y + BAR_H / 2 + 6, name, size=18, anchor="end", weight="bold")
    for bar in spec.bars:
        x1, x2 = x_of(bar.start), x_of(bar.end)
        y = y_of(bar.lane)
        canvas.rect(x1, y, max(x2 - x1, 3), BAR_H, color=bar.color, rx=6, dashed=bar.dashed)
        if bar.label:
            canvas.text((x1 + x2) / 2, y + BAR_H / 2 + 6, bar.label, size=15)
    for mark in spec.marks:
        x, y = x_of(mark.at), y_of(mark.lane)
        canvas.arrow([(x, y - 20), (x, y - 2)], color=mark.color, width=2)
        right_side = x > LEFT + 0.75 * (RIGHT - LEFT)
        canvas.text(
            x - 4 if right_side else x + 4,
            y - 24,
            mark.label,
            size=15,
            fill=mark.color,
            anchor="end" if right_side else "start",
        )
    canvas.line(LEFT, axis_y, RIGHT, axis_y, color=INK)
    for at, label in spec.ticks:
        canvas.line(x_of(at), axis_y - 6, x_of(at), axis_y + 6, color=INK)
        canvas.text(x_of(at), axis_y + 26, label, size=15, fill=MUTED)
    if spec.caption:
        canvas.text(WIDTH / 2, axis_y + 70, spec.caption, size=18, fill=spec.caption_color)
    return canvas.render()


# --- SQS -------------------------------------------------------------------------------------


def sqs_flow() -> str:
    """Producer → standard queue → three consumers, with receive and delete."""
    c = Canvas(_("Producer, queue and consumers"))
    c.box(30, 170, 190, 100, _("Producer"), color=BLUE, sub="SendMessage")
    c.rect(360, 150, 380, 140, color=ORANGE)
    c.text(550, 180, _("queue") + "  lab-standard-queue", size=19, weight="bold")
    for i in range(5):
        c.rect(382 + i * 70, 200, 58, 58, color=ORANGE, fill="#ffffff", rx=6)
        c.text(411 + i * 70, 236, f"m{5 - i}", size=18, mono=True)
    c.text(
        550, 318, _("kept until deleted or retention ends (default 4 days)"), size=16, fill=MUTED
    )
    c.arrow([(220, 220), (356, 220)], color=BLUE, label=_("send"), size=17)
    for i, y in enumerate((40, 170, 300)):
        c.box(930, y, 200, 86, _("Consumer") + f" {i + 1}", color=GREEN)
        c.arrow([(742, 200 + (i - 1) * 20), (926, y + 28)], color=GREEN)
        c.arrow([(926, y + 62), (744, 226 + (i - 1) * 20)], color=RED, dashed=True)
    c.arrow([(600, 410), (660, 410)], color=GREEN)
    c.text(672, 416, _("ReceiveMessage: up to 10 messages"), size=17, fill=GREEN, anchor="start")
    c.arrow([(600, 442), (660, 442)], color=RED, dashed=True)
    c.text(672, 448, _("DeleteMessage(ReceiptHandle) when done"), size=17, fill=RED, anchor="start")
    c.text(30, 416, _("Decoupled: the producer never waits"), size=17, fill=MUTED, anchor="start")
    c.text(30, 442, _("for a consumer, nor knows how many."), size=17, fill=MUTED, anchor="start")
    return c.render()


def visibility_short() -> str:
    """Timeline: VisibilityTimeout 10 s with a 10-minute job: video A processed three times."""
    return draw_timeline(
        Timeline(
            title=_("VisibilityTimeout = 10 s, each video takes ~10 min"),
            lanes=(_("video A"), _("Consumer 1"), _("Consumer 2"), _("Consumer 3")),
            t_max=40,
            tick_step=10,
            unit="s",
            bars=(
                Bar(0, 0, 10, _("invisible"), MUTED, dashed=True),
                Bar(0, 10, 20, _("invisible"), MUTED, dashed=True),
                Bar(0, 20, 30, _("invisible"), MUTED, dashed=True),
                Bar(0, 30, 40, _("visible again…"), ORANGE),
                Bar(1, 0, 40, _("processing video A … until 10:00"), GREEN),
                Bar(2, 10, 40, _("video A again (duplicate work)"), RED),
                Bar(3, 20, 40, _("video A a third time"), RED),
            ),
            marks=(
                Mark(1, 0, _("receive A (count 1)"), GREEN),
                Mark(2, 10, _("receive A (count 2)"), RED),
                Mark(3, 20, _("receive A (count 3)"), RED),
            ),
            caption=_("Videos B and C wait in the queue while three consumers encode video A."),
            caption_color=RED,
        )
    )


def visibility_long() -> str:
    """Timeline: VisibilityTimeout 900 s: three consumers get three different videos."""
    return draw_timeline(
        Timeline(
            title=_("VisibilityTimeout = 900 s (longer than the 10-minute job)"),
            lanes=(_("queue"), _("Consumer 1"), _("Consumer 2"), _("Consumer 3")),
            t_max=16,
            tick_step=5,
            unit="min",
            bars=(
                Bar(0, 0, 10.4, _("A, B, C in flight: invisible to everyone else"), MUTED, True),
                Bar(0, 10.4, 16, _("empty"), LINE),
                Bar(1, 0, 10, _("video A"), GREEN),
                Bar(2, 0.2, 10.2, _("video B"), GREEN),
                Bar(3, 0.4, 10.4, _("video C"), GREEN),
            ),
            marks=(
                Mark(1, 10, "DeleteMessage A", RED),
                Mark(2, 10.2, "DeleteMessage B", RED),
                Mark(3, 10.4, "DeleteMessage C", RED),
                Mark(0, 15, _("timeout would end here"), MUTED),
            ),
            caption=_(
                "Job length unknown? Keep extending it: ChangeMessageVisibility (a heartbeat)."
            ),
            caption_color=GREEN,
        )
    )


def polling_timeline(
    title: str, polls: tuple[Bar, ...], marks: tuple[Mark, ...], caption: str, caption_color: str
) -> str:
    """Timeline over 20 s: the producer sends one message at 6.5 s; ``polls`` are the consumer's."""
    return draw_timeline(
        Timeline(
            title=title,
            lanes=(_("producer"), _("consumer")),
            t_max=20,
            tick_step=5,
            unit="s",
            bars=(Bar(0, 6.5, 6.75, "", BLUE), *polls),
            marks=(Mark(0, 6.5, "SendMessage", BLUE), *marks),
            caption=caption,
            caption_color=caption_color,
        )
    )


def polling_wait0() -> str:
    """Timeline: short polling (WaitTimeSeconds 0), one poll a second."""
    return polling_timeline(
        _("ReceiveMessageWaitTimeSeconds = 0 (short polling), polling once a second"),
        tuple(Bar(1, t, t + 0.25, "", GREEN if t == 7 else MUTED) for t in range(20)),
        (Mark(1, 0, _("empty answer at once"), MUTED), Mark(1, 7, _("1 message"), GREEN)),
        _("20 requests in 20 s, 19 of them empty, and each one is billed."),
        RED,
    )


def polling_wait10() -> str:
    """Timeline: long polling (WaitTimeSeconds 10) returns early when a message arrives."""
    return polling_timeline(
        _("ReceiveMessageWaitTimeSeconds = 10 (long polling)"),
        (
            Bar(1, 0, 6.5, _("request 1 waits…"), GREEN),
            Bar(1, 6.6, 16.6, _("request 2: empty after 10 s"), MUTED),
            Bar(1, 16.7, 20, _("request 3…"), LINE),
        ),
        (Mark(1, 6.5, _("returned at once"), GREEN),),
        _("3 requests in 20 s; the message is still returned at once. Max wait: 20 s."),
        GREEN,
    )


def dlq_redrive() -> str:
    """Main queue, maxReceiveCount 5, the move to the dead-letter queue and the redrive back."""
    c = Canvas(_("Dead-letter queue and redrive"))
    c.box(40, 60, 330, 120, "main-queue", color=ORANGE, sub="RedrivePolicy:\nmaxReceiveCount 5")
    c.box(
        790, 60, 330, 120, "dead-letter-queue", color=RED, sub=_("same MessageId,\ncount 6, 7, …")
    )
    c.box(40, 300, 330, 100, _("Consumer (keeps failing)"), color=GREEN, size=19)
    c.arrow([(150, 182), (150, 296)], color=GREEN, label=_("receive 1…5"), label_at=(80, 245))
    c.arrow([(260, 296), (260, 184)], color=MUTED, dashed=True)
    c.text(270, 245, _("no delete:\nvisible again"), size=15, fill=MUTED, anchor="start")
    c.arrow(
        [(372, 100), (786, 100)],
        color=RED,
        label=_("receive attempt 6 > maxReceiveCount: SQS moves it"),
    )
    c.arrow(
        [(786, 150), (372, 150)],
        color=BLUE,
        dashed=True,
        label=_("redrive: StartMessageMoveTask"),
        label_at=(580, 178),
    )
    c.box(
        790,
        300,
        330,
        100,
        _("Inspect, fix, then"),
        color=MUTED,
        sub=_("redrive, or process\nand DeleteMessage"),
    )
    c.arrow([(955, 182), (955, 296)], color=MUTED)
    c.text(
        580,
        445,
        _(
            "ApproximateReceiveCount is not reset by the move; "
            "standard queues keep the enqueue time."
        ),
        size=17,
        fill=RED,
    )
    return c.render()


def fifo_groups() -> str:
    """FIFO queue: order per message group, dedup window, a group blocked while in flight."""
    c = Canvas(_("FIFO queue: message groups and deduplication"))
    c.text(
        580,
        32,
        _("orders.fifo: ordered per MessageGroupId, deduplicated for 5 minutes"),
        size=22,
        weight="bold",
    )
    c.box(30, 90, 170, 80, _("Producer"), color=BLUE)
    c.rect(300, 70, 480, 260, color=ORANGE)
    c.text(540, 100, _("group") + " customer-1", size=17, weight="bold")
    c.text(540, 220, _("group") + " customer-2", size=17, weight="bold")
    for group, top in ((1, 115), (2, 235)):
        for i in range(3):
            color = MUTED if (group, i) == (1, 0) else ORANGE  # c1-o1 is in flight
            c.rect(330 + i * 145, top, 125, 56, color=color, fill="#ffffff", rx=6)
            c.text(392 + i * 145, top + 35, f"c{group}-o{i + 1}", size=17, mono=True)
    c.text(392, 192, _("in flight"), size=14, fill=MUTED)
    c.arrow([(202, 130), (296, 130)], color=BLUE)
    c.box(30, 230, 170, 80, _("duplicate") + "\nc2-o1", color=RED, size=17)
    c.arrow([(202, 270), (296, 270)], color=RED, label=_("dropped"), label_at=(250, 305))
    c.box(890, 80, 250, 100, _("Consumer X"), color=GREEN, sub=_("has c1-o1;\nc1-o2 waits"))
    c.box(890, 220, 250, 100, _("Consumer Y"), color=GREEN, sub=_("gets c2-o1,\nthen c2-o2"))
    c.arrow([(782, 143), (886, 130)], color=MUTED, dashed=True)
    c.arrow([(782, 263), (886, 270)], color=GREEN)
    c.text(
        580,
        385,
        _("Receiving does not delete: every FIFO message still needs DeleteMessage."),
        size=19,
        fill=RED,
        weight="bold",
    )
    c.text(
        580,
        420,
        _(
            "300 calls/s per action, 3,000 messages/s in batches of 10 "
            "(more in high-throughput mode)"
        ),
        size=17,
        fill=MUTED,
    )
    return c.render()


def sqs_lambda() -> str:
    """SQS triggers Lambda through an event source mapping with partial batch failures."""
    c = Canvas(_("SQS triggers Lambda"))
    c.text(
        580, 32, _("etl-queue triggers etl-worker: partial batch failures"), size=22, weight="bold"
    )
    c.box(30, 70, 220, 110, "etl-queue", color=ORANGE, sub=_("RedrivePolicy\n→ a DLQ"))
    c.box(
        380,
        70,
        300,
        110,
        _("event source mapping"),
        color=MUTED,
        sub="BatchSize 5\nReportBatchItemFailures",
        size=19,
    )
    c.box(820, 70, 310, 110, "etl-worker", color=PURPLE, sub=_("Lambda (Python)"))
    c.arrow([(252, 125), (376, 125)], color=MUTED, label=_("Lambda polls"), size=15)
    c.arrow([(682, 125), (816, 125)], color=PURPLE, label=_("batch of 5"), size=15)
    c.arrow(
        [(975, 182), (975, 250), (600, 250), (600, 184)],
        color=PURPLE,
        label=_("returns") + ' {"batchItemFailures": [{"itemIdentifier": "<bad id>"}]}',
        label_at=(790, 280),
        mono=True,
        size=14,
    )
    c.arrow(
        [(460, 184), (460, 250), (190, 250), (190, 184)],
        color=GREEN,
        label=_("the 4 good records are deleted"),
        label_at=(325, 240),
        size=15,
    )
    c.box(30, 340, 220, 80, _("dead-letter queue"), color=RED, size=18)
    c.arrow([(80, 182), (80, 336)], color=RED, dashed=True)
    c.text(
        280,
        372,
        _("the bad record becomes visible again after the visibility timeout,"),
        size=17,
        anchor="start",
        fill=RED,
    )
    c.text(
        280,
        398,
        _("fails again, and after maxReceiveCount receives it moves to the DLQ"),
        size=17,
        anchor="start",
        fill=RED,
    )
    return c.render()


# --- SNS -------------------------------------------------------------------------------------


def sns_fanout() -> str:
    """Publish once to a topic; every subscription gets a copy."""
    c = Canvas(_("SNS fan-out"))
    c.box(30, 180, 190, 100, _("Publisher"), color=BLUE, sub="Publish")
    c.box(340, 170, 240, 120, _("SNS topic"), color=PURPLE, sub="course-topic")
    c.arrow([(222, 230), (336, 230)], color=BLUE)
    targets = (
        (_("Email"), _("PendingConfirmation\nuntil confirmed"), TEAL),
        (_("SQS queue"), _("needs a queue policy"), ORANGE),
        (_("Lambda function"), _("needs AddPermission"), PURPLE),
        (_("HTTP(S) endpoint"), "", BLUE),
        (_("SMS / mobile push"), "", MUTED),
    )
    for i, (name, sub, color) in enumerate(targets):
        y = 20 + i * 86
        c.box(780, y, 350, 74, name, color=color, sub=sub, size=19)
        c.arrow([(582, 230), (776, y + 37)], color=PURPLE, width=2)
    c.text(
        320,
        430,
        _("One Publish, one copy per subscription: push, not poll."),
        size=18,
        fill=MUTED,
    )
    return c.render()


def sns_filter() -> str:
    """Fan-out with subscription filter policies to Lambda and SQS."""
    c = Canvas(_("SNS subscription filter policies"))
    messages = (("sendTo = SQS", ORANGE), ("sendTo = LAMBDA", PURPLE), (_("(no sendTo)"), MUTED))
    for i, (label, color) in enumerate(messages):
        c.box(20, 60 + i * 120, 210, 70, label, color=color, size=18, sub="Publish")
        c.arrow([(232, 95 + i * 120), (326, 215)], color=color, width=2)
    c.box(330, 160, 200, 110, "filter-topic", color=PURPLE, sub=_("SNS topic"), size=19)
    for top, color, send_to in ((40, PURPLE, "LAMBDA"), (270, ORANGE, "SQS")):
        c.rect(600, top, 250, 120, color=color, dashed=True)
        c.text(725, top + 32, _("subscription filter"), size=15, fill=MUTED)
        c.text(725, top + 70, f'{{"sendTo":["{send_to}"]}}', size=15, mono=True)
    c.arrow([(532, 200), (596, 100)], color=PURPLE)
    c.arrow([(532, 230), (596, 330)], color=ORANGE)
    c.box(920, 40, 220, 120, "sns-printer", color=PURPLE, sub=_("Lambda\n+ AddPermission"))
    c.box(920, 270, 220, 120, "filtered-queue", color=ORANGE, sub=_("SQS\n+ queue policy"))
    c.arrow([(852, 100), (916, 100)], color=PURPLE)
    c.arrow([(852, 330), (916, 330)], color=ORANGE)
    c.text(
        580,
        440,
        _("A message that matches no policy is delivered to neither. SQS alone cannot filter."),
        size=17,
        fill=RED,
    )
    return c.render()


# --- SES -------------------------------------------------------------------------------------


def ses_modes() -> str:
    """SES sandbox versus production access."""
    c = Canvas(_("SES sandbox versus production"))

    def panel(x: float, w: float, color: str, fill: str, title: str, sender: str) -> None:
        """A framed half of the diagram, its title and the verified sender in its corner."""
        c.rect(x, 20, w, 420, color=color, fill=fill)
        c.text(x + w / 2, 56, title, size=20, weight="bold")
        c.box(x + 20, 90, 200, 80, "no-reply@\nexample.com", color=TEAL, size=17)
        c.text(x + 120, 190, sender, size=15, fill=MUTED)

    panel(
        20,
        550,
        ORANGE,
        "#fffbeb",
        _("Sandbox (every new account, per region)"),
        _("sender: verified"),
    )
    rows = (
        ("learner@example.net", _("verified: delivered"), GREEN),
        ("success@simulator.\namazonses.com", _("simulator: allowed"), GREEN),
        ("stranger@example.org", "MessageRejected", RED),
    )
    for i, (addr, verdict, color) in enumerate(rows):
        y = 80 + i * 100
        c.box(330, y, 220, 70, addr, color=color, size=15)
        c.arrow([(242, 130), (326, y + 35)], color=color, width=2)
        c.text(440, y + 90, verdict, size=14, fill=color)
    c.text(
        295,
        405,
        _("200 messages per 24 h · 1 message per second"),
        size=18,
        weight="bold",
        fill=ORANGE,
    )
    panel(
        600,
        540,
        GREEN,
        "#f0fdf4",
        _("Production access (after review)"),
        _("sender: still verified"),
    )
    c.box(900, 115, 220, 70, _("any recipient"), color=GREEN, size=18)
    c.arrow([(822, 130), (896, 150)], color=GREEN)
    c.text(
        870,
        260,
        _(
            "PutAccountDetails: who receives it, what is sent,\n"
            "how to unsubscribe, bounces and complaints"
        ),
        size=15,
        fill=INK,
    )
    c.text(
        870,
        345,
        _("quotas per account: GetAccount\nwatch bounce and complaint rates"),
        size=16,
        fill=MUTED,
    )
    c.text(870, 405, _("quota and rate vary by account"), size=18, weight="bold", fill=GREEN)
    return c.render()


def ses_dns() -> str:
    """Domain identity records: Easy DKIM CNAMEs, custom MAIL FROM MX and SPF."""
    c = Canvas(_("SES domain identity and its DNS records"))
    c.box(30, 160, 240, 120, "example.com", color=TEAL, sub=_("domain identity\nEasy DKIM"))
    c.rect(380, 20, 760, 400, color=BLUE, fill="#f8fafc")
    c.text(760, 52, _("Route 53 hosted zone") + " example.com", size=19, weight="bold")
    records = (
        ("CNAME", "<token1>._domainkey.example.com", "<token1>.dkim.amazonses.com", BLUE),
        ("CNAME", "<token2>._domainkey.example.com", "<token2>.dkim.amazonses.com", BLUE),
        ("CNAME", "<token3>._domainkey.example.com", "<token3>.dkim.amazonses.com", BLUE),
        ("MX", "no-reply.example.com", "10 feedback-smtp.<region>.amazonses.com", ORANGE),
        ("TXT", "no-reply.example.com", '"v=spf1 include:amazonses.com ~all"', ORANGE),
    )
    for i, (kind, name, value, color) in enumerate(records):
        y = 80 + i * 62
        c.rect(400, y, 720, 50, color=color, fill="#ffffff", rx=6)
        c.text(420, y + 31, kind, size=16, weight="bold", anchor="start", fill=color)
        c.text(500, y + 22, name, size=14, mono=True, anchor="start")
        c.text(500, y + 42, "→ " + value, size=14, mono=True, anchor="start", fill=MUTED)
    c.arrow([(272, 200), (396, 170)], color=BLUE, label=_("DKIM: signs mail"), label_at=(150, 140))
    c.arrow(
        [(272, 250), (396, 330)],
        color=ORANGE,
        label=_("MAIL FROM: bounces, SPF"),
        label_at=(150, 312),
    )
    c.text(
        760,
        405,
        _("SES polls DNS: DKIM status turns SUCCESS once the CNAMEs resolve"),
        size=16,
        fill=MUTED,
    )
    return c.render()


def ses_events() -> str:
    """Reputation monitoring: configuration set → SNS → SQS → bounce rate → alarm."""
    c = Canvas(_("SES events to a queue"))
    c.box(20, 170, 180, 100, "SendEmail", color=TEAL, sub="ConfigurationSet\ncourse-events")
    c.box(
        260,
        170,
        190,
        100,
        "course-events",
        color=TEAL,
        sub=_("event destination") + "\nBOUNCE, COMPLAINT",
    )
    c.box(510, 170, 180, 100, "ses-events", color=PURPLE, sub=_("SNS topic"))
    c.box(750, 170, 190, 100, "ses-events-queue", color=ORANGE, sub="SQS", size=18)
    c.box(990, 170, 150, 100, _("you"), color=GREEN, sub=_("bounce rate\n+ alarm"))
    for x1, x2 in ((202, 256), (452, 506), (692, 746), (942, 986)):
        c.arrow([(x1, 220), (x2, 220)], color=MUTED)
    c.text(
        20, 60, _("Mailbox simulator (no reputation cost):"), size=17, weight="bold", anchor="start"
    )
    c.text(20, 90, "success@simulator.amazonses.com", size=15, mono=True, anchor="start")
    c.text(20, 115, "bounce@simulator.amazonses.com", size=15, mono=True, anchor="start")
    c.text(430, 90, "complaint@simulator.amazonses.com", size=15, mono=True, anchor="start")
    c.text(430, 115, "suppressionlist@simulator.amazonses.com", size=15, mono=True, anchor="start")
    c.text(
        580,
        340,
        _(
            "bounce rate = bounces / messages sent   ·   "
            "complaint rate = complaints / messages sent"
        ),
        size=18,
    )
    c.text(
        580,
        390,
        _(
            "AWS reviews an account at 5 % bounces or 0.1 % complaints, "
            "and may pause sending higher."
        ),
        size=17,
        fill=RED,
    )
    return c.render()


# --- the kit ---------------------------------------------------------------------------------


def kit_overview() -> str:
    """How the kit fits together: notebook, backend, check() and course grade."""
    c = Canvas(_("The course kit"))
    c.box(
        30,
        60,
        260,
        110,
        "labs/NN-topic.ipynb",
        color=BLUE,
        sub=_("your notebook:\nplain boto3"),
        size=19,
    )
    c.box(
        430,
        60,
        320,
        110,
        _("local backend (default)"),
        color=ORANGE,
        sub=_("moto server + the kit's\nadditions; records every call"),
        size=19,
    )
    c.box(
        880,
        60,
        250,
        110,
        _("real AWS account"),
        color=MUTED,
        sub=_("on request, with a\nname prefix"),
        size=19,
        dashed=True,
    )
    c.arrow([(292, 115), (426, 115)], color=BLUE, label=_("API calls"), size=15)
    c.arrow(
        [(200, 58), (200, 24), (1005, 24), (1005, 56)],
        color=MUTED,
        dashed=True,
        label=_("or, on request"),
        label_at=(600, 18),
        size=15,
    )
    c.box(30, 290, 260, 110, 'check("04")', color=GREEN, sub=_("in a notebook cell:\nfeedback now"))
    c.box(
        430,
        290,
        320,
        110,
        _("the lab's checks"),
        color=GREEN,
        sub=_("state + recorded flow\nid, points, hint"),
    )
    c.box(
        880,
        290,
        250,
        110,
        "course grade",
        color=PURPLE,
        sub=_("fresh backend per\nsubmission; reports"),
    )
    c.arrow([(160, 172), (160, 286)], color=GREEN)
    c.arrow([(292, 345), (426, 345)], color=GREEN)
    c.arrow([(876, 345), (752, 345)], color=PURPLE)
    c.arrow(
        [(590, 286), (590, 172)], color=GREEN, dashed=True, label=_("read"), label_at=(620, 235)
    )
    c.text(
        580,
        445,
        _("passed · failed (why) · not attempted · not checkable here"),
        size=18,
        fill=MUTED,
    )
    return c.render()


DIAGRAMS: dict[str, Callable[[], str]] = {
    "kit-overview": kit_overview,
    "sqs-flow": sqs_flow,
    "sqs-visibility-short": visibility_short,
    "sqs-visibility-long": visibility_long,
    "sqs-polling-wait0": polling_wait0,
    "sqs-polling-wait10": polling_wait10,
    "sqs-dlq-redrive": dlq_redrive,
    "sqs-fifo-groups": fifo_groups,
    "sqs-lambda-trigger": sqs_lambda,
    "sns-fanout": sns_fanout,
    "sns-filter-policies": sns_filter,
    "ses-sandbox-vs-production": ses_modes,
    "ses-dns-records": ses_dns,
    "ses-events": ses_events,
}


def draw(name: str, lang: str = SOURCE_LANG) -> str:
    """The SVG of diagram ``name`` (a key of ``DIAGRAMS``), labelled in ``lang``."""
    token = LANGUAGE.set(lang)
    try:
        return DIAGRAMS[name]()
    finally:
        LANGUAGE.reset(token)
