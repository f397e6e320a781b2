"""The backend's clock: dilated real time plus an offset the grader (never a submission) advances.

Time may run ``scale`` times faster than the wall clock (``course grade`` runs a submission on
dilated time): from ``wall_anchor`` on, one real second is ``scale`` seconds of AWS time, so

    now() = wall_anchor + (time.time() - wall_anchor) * scale + offset

This must equal the kernel side's virtual wall time (``course.timewarp.Dilation``: virtual =
anchor + (real - anchor) * scale), so both sides agree on the time of every call. With scale 1
(the default) the clock is real time plus the offset, as it always was.

moto reads the time through ``moto.core.utils.utcnow`` (``unix_time`` and ``unix_time_millis``
call it), and some modules import ``utcnow`` by name; ``install`` replaces every such reference,
so visibility timeouts, delays, retention and long polls all follow this clock, and makes the
long poll's real wait between two looks at the queue one AWS second (``1/scale`` real seconds).
The kit's extensions read ``now()``; a wait in real time for a span of AWS time waits
``to_real(span)``, and a real duration reported as AWS time is ``to_aws(duration)``.
Advancing the clock lets tests and the grader skip waits instead of sleeping; it is never
frozen, because a frozen clock makes moto's long polls wait forever.
"""

from __future__ import annotations

import datetime
import importlib
import math
import sys
import threading
import time
from typing import Any

_offset = 0.0
_scale = 1.0
_anchor = 0.0
_lock = threading.Lock()
#: moto modules whose time must follow the clock; imported before patching.
SERVICES = (
    "sqs",
    "sns",
    "ses",
    "sesv2",
    "awslambda",
    "logs",
    "cloudwatch",
    "route53",
    "iam",
    "sts",
)


def set_dilation(scale: float, wall_anchor: float | None = None) -> None:
    """Run the clock ``scale`` times faster than the wall clock from ``wall_anchor`` (seconds
    since the epoch; default now) on. Raises ``ValueError`` unless ``scale`` is a finite
    positive number. The offset is kept; set it before serving (times already handed out are
    not rewritten)."""
    global _scale, _anchor
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"the time scale must be a positive number, not {scale!r}")
    anchor = time.time() if wall_anchor is None else float(wall_anchor)
    if not math.isfinite(anchor):
        raise ValueError(f"the time anchor must be a number of seconds, not {wall_anchor!r}")
    with _lock:
        _scale, _anchor = float(scale), anchor


def scale() -> float:
    """AWS seconds per real second (1 unless dilated)."""
    return _scale


def anchor() -> float:
    """The wall-clock time (seconds since the epoch) from which the clock runs dilated."""
    return _anchor


def now() -> float:
    """Seconds since the epoch on the backend's clock: dilated real time plus the offset."""
    return _anchor + (time.time() - _anchor) * _scale + _offset


def to_real(aws_seconds: float) -> float:
    """The real seconds a wait of ``aws_seconds`` on the backend's clock takes."""
    return aws_seconds / _scale


def to_aws(real_seconds: float) -> float:
    """The AWS seconds (on the backend's clock) that ``real_seconds`` of real time stand for."""
    return real_seconds * _scale


def offset() -> float:
    """Seconds the clock has been advanced (ahead of dilated real time)."""
    return _offset


def advance(seconds: float) -> float:
    """Move the clock forward by ``seconds`` (never back); returns the new offset."""
    global _offset
    if seconds < 0:
        raise ValueError("the backend's clock only moves forward")
    with _lock:
        _offset += seconds
        return _offset


def reset() -> None:
    """Clear the offset (backend reset); the dilation (scale and anchor) stays."""
    global _offset
    with _lock:
        _offset = 0.0


def describe() -> dict[str, float]:
    """The ``GET /_course/clock`` document: now, offset, scale and anchor."""
    return {"now": now(), "offset": _offset, "scale": _scale, "anchor": _anchor}


def _utcnow() -> datetime.datetime:
    return datetime.datetime.fromtimestamp(now(), tz=datetime.UTC).replace(tzinfo=None)


def _wait_for_messages(queue: Any, timeout: float) -> None:
    """moto's ``Queue.wait_for_messages`` with ``timeout`` in AWS seconds: it waits at most
    ``to_real(timeout)`` real seconds for a message to be added (scale 1: moto's own wait)."""
    with queue._messages_lock:
        queue._messages_lock.wait_for(lambda: queue.messages, timeout=to_real(timeout))


def install() -> None:
    """Make moto read this clock: patch ``utcnow`` wherever moto holds a reference to it, and
    let a long poll look at its queue again after one AWS second rather than one real second."""
    import moto.core.utils as utils

    for service in SERVICES:
        try:
            importlib.import_module(f"moto.{service}.models")
        except ImportError:
            continue
    original = utils.utcnow
    for name, module in list(sys.modules.items()):
        if name.startswith("moto") and getattr(module, "utcnow", None) is original:
            module.utcnow = _utcnow  # type: ignore[attr-defined]
    sqs_models = sys.modules.get("moto.sqs.models")
    if sqs_models is not None:
        # ReceiveMessage's long poll loops on ``unix_time()`` (this clock) and, between looks,
        # waits ``wait_for_messages(1)``: one second in moto, one AWS second here.
        sqs_models.Queue.wait_for_messages = _wait_for_messages  # type: ignore[attr-defined]
