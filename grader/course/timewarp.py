"""A dilated clock for a whole Python process: time runs ``scale`` times faster than the wall's.

The grader runs a submission on dilated time (issue 12): at K = 10 a 10 s visibility timeout
expires after 10 virtual seconds that take 1 real second, in the backend and in the kernel alike.
This module is the kernel's side. ``install(Dilation(...))`` patches, in the running process:

- ``time.time``, ``time.monotonic``, ``time.perf_counter`` (and their ``_ns`` forms),
  ``time.clock_gettime`` for the realtime and monotonic clocks, and the functions that read the
  wall clock when given no time (``localtime``, ``gmtime``, ``ctime``, ``asctime``,
  ``strftime``);
- ``time.sleep``, which sleeps ``seconds / scale`` real seconds, in any thread;
- ``datetime.datetime``, replaced in the ``datetime`` module by a subclass whose ``now`` and
  ``utcnow`` read the virtual clock (``today``, and ``date.today``, read ``time.time`` already);
  ``isinstance`` holds both ways between it and the original class;
- the waits of ``threading``: ``Condition.wait`` (so ``wait_for``, ``Event.wait``, ``Timer``,
  ``Semaphore``, ``Barrier``) and ``Thread.join`` scale their timeouts, and ``threading`` and
  ``queue`` measure their deadlines on the virtual monotonic clock, so ``Queue.get/put`` with a
  timeout give up after that many virtual seconds;
- ``asyncio.sleep``, which sleeps ``delay / scale``. The event loops themselves keep the real
  monotonic clock (``BaseEventLoop.time``), so ipykernel's loops, its ZeroMQ heartbeats and
  its interrupts keep their real timing.

Virtual time is linear in real time around anchors: ``virtual = anchor + (real - anchor) *
scale``, for the wall clock and for ``CLOCK_MONOTONIC`` alike. Both clocks are system-wide (a
PID namespace, as the sandbox has, does not shift them), so two processes given the same
anchors, the grader's backend and a kernel, agree on virtual time without talking to each
other. The grader passes the anchors on the command line (``Dilation.spec``).

What stays real: socket and ``select`` timeouts (boto3's HTTP timeouts; the backend answers
early since its clock is dilated too), ``Lock.acquire(timeout=...)`` and ``RLock``'s (C
locks: wrapping ``threading.Lock`` would put Python under every lock, ipykernel's included),
``queue.SimpleQueue.get(timeout=...)`` (C), asyncio's timeouts (``wait_for``, ``timeout``:
the loops stay real), ``subprocess``'s waits, CPU clocks (``process_time``), and names bound
before ``install`` (``from time import time`` done earlier keeps the real function). A
submission can tell only by reading a clock from outside Python. The patch is process-wide, so
the kernel's own waits are dilated too: ipykernel's 10 s output-flush timeout is 1 real second
at K = 10 (its event loops, which carry its messages and heartbeats, are not).

Written by hand because no maintained library scales time inside a live process:
``freezegun`` and ``time-machine`` freeze or shift the clock (their ``tick`` runs at real
speed) and leave ``time.sleep`` and ``threading``'s waits real; ``libfaketime`` does scale
(``x10``), but as a C library preloaded before the process starts, dilating every ``select``,
``poll`` and socket timeout of the process too, around an anchor of its own process start.
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import datetime as _datetime_module
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The option that carries a dilation on a command line.
OPTION = "--time-dilation"


_clock = time  # in the class body below, "time" is the attribute


class _Real:
    """The process's clocks and waits as they were when this module was imported."""

    time = _clock.time
    time_ns = _clock.time_ns
    monotonic = _clock.monotonic
    monotonic_ns = _clock.monotonic_ns
    perf_counter = _clock.perf_counter
    perf_counter_ns = _clock.perf_counter_ns
    sleep = _clock.sleep
    clock_gettime = _clock.clock_gettime
    clock_gettime_ns = _clock.clock_gettime_ns
    datetime = _datetime_module.datetime


REAL = _Real
_NS = 1_000_000_000


@dataclass(frozen=True)
class Dilation:
    """Virtual time runs ``scale`` times faster than real time from the two anchors on.

    ``wall_anchor`` is a reading of the real ``time.time()``, ``mono_anchor`` one of the real
    ``time.monotonic()``; the processes that share a dilation share its anchors.
    """

    scale: float
    wall_anchor: float
    mono_anchor: float

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ValueError(f"a time dilation's scale must be positive, not {self.scale!r}")

    @classmethod
    def starting_now(cls, scale: float) -> Dilation:
        """A dilation anchored at this instant of the real clocks."""
        return cls(scale, REAL.time(), REAL.monotonic())

    @property
    def spec(self) -> str:
        """The compact form ``scale:wall_anchor:mono_anchor``, exact (floats' ``repr``)."""
        return f"{self.scale!r}:{self.wall_anchor!r}:{self.mono_anchor!r}"

    @classmethod
    def parse(cls, spec: str) -> Dilation:
        """The dilation written as ``spec`` (see ``spec``)."""
        parts = spec.split(":")
        if len(parts) != 3:
            raise ValueError(f"a time dilation is scale:wall_anchor:mono_anchor, not {spec!r}")
        scale, wall, mono = (float(part) for part in parts)
        return cls(scale, wall, mono)

    def to_argv(self) -> list[str]:
        """The command-line arguments that ``from_argv`` reads back."""
        return [OPTION, self.spec]

    @classmethod
    def from_argv(cls, argv: list[str]) -> tuple[Dilation | None, list[str]]:
        """The dilation given in ``argv`` (if any), and ``argv`` without it."""
        rest = list(argv)
        for index, arg in enumerate(rest):
            if arg == OPTION and index + 1 < len(rest):
                spec = rest[index + 1]
                del rest[index : index + 2]
                return cls.parse(spec), rest
            if arg.startswith(OPTION + "="):
                del rest[index]
                return cls.parse(arg.partition("=")[2]), rest
        return None, rest

    def virtual_time(self) -> float:
        """Virtual seconds since the epoch (``time.time``)."""
        return self.wall_anchor + (REAL.time() - self.wall_anchor) * self.scale

    def virtual_time_ns(self) -> int:
        """Virtual nanoseconds since the epoch (``time.time_ns``)."""
        anchor = round(self.wall_anchor * _NS)
        return anchor + round((REAL.time_ns() - anchor) * self.scale)

    def virtual_monotonic(self) -> float:
        """The virtual monotonic clock (``time.monotonic``)."""
        return self.mono_anchor + (REAL.monotonic() - self.mono_anchor) * self.scale

    def virtual_monotonic_ns(self) -> int:
        """The virtual monotonic clock in nanoseconds (``time.monotonic_ns``)."""
        anchor = round(self.mono_anchor * _NS)
        return anchor + round((REAL.monotonic_ns() - anchor) * self.scale)

    def real_seconds(self, virtual_seconds: float) -> float:
        """How long ``virtual_seconds`` of virtual time take on the real clock."""
        return virtual_seconds / self.scale


@dataclass
class _Installed:
    dilation: Dilation
    patched: list[str]
    restore: list[tuple[Any, str, Any]]


_installed: _Installed | None = None


def installed() -> Dilation | None:
    """The dilation this process runs on, if any."""
    return None if _installed is None else _installed.dilation


def install(dilation: Dilation) -> list[str]:
    """Put this whole process on ``dilation``'s virtual time; the names patched.

    Idempotent: installing the same dilation again changes nothing. A scale of 1 patches
    nothing. Another dilation while one is installed is an error (``uninstall`` first).
    """
    global _installed
    if _installed is not None:
        if _installed.dilation != dilation:
            raise RuntimeError(f"time is already dilated by {_installed.dilation.spec}")
        return list(_installed.patched)
    if dilation.scale == 1:
        return []
    restore: list[tuple[Any, str, Any]] = []
    patched: list[str] = []

    def patch(owner: Any, name: str, value: Any) -> None:
        restore.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)
        where = f"{owner.__module__}.{owner.__qualname__}" if isinstance(owner, type) else ""
        patched.append(f"{where or owner.__name__}.{name}")

    for name, value in _time_functions(dilation).items():
        patch(time, name, value)
    patch(_datetime_module, "datetime", _virtual_datetime_class(dilation))
    patch(threading, "_time", dilation.virtual_monotonic)
    patch(queue, "time", dilation.virtual_monotonic)
    for cls, name, wrapper in _threading_waits(dilation):
        patch(cls, name, wrapper)
    patch(asyncio.base_events.BaseEventLoop, "time", _real_loop_time)
    asyncio_sleep = _scaled_asyncio_sleep(dilation, asyncio.tasks.sleep)
    for module in (asyncio, asyncio.tasks):
        patch(module, "sleep", asyncio_sleep)
    _installed = _Installed(dilation, patched, restore)
    return list(patched)


def uninstall() -> None:
    """Restore everything ``install`` patched (for tests)."""
    global _installed
    if _installed is None:
        return
    for owner, name, value in reversed(_installed.restore):
        setattr(owner, name, value)
    _installed = None


def _time_functions(d: Dilation) -> dict[str, Callable[..., Any]]:
    """The ``time`` module's functions on ``d``'s virtual clocks."""
    perf_offset = REAL.perf_counter() - REAL.monotonic()
    perf_offset_ns = REAL.perf_counter_ns() - REAL.monotonic_ns()
    real_localtime, real_gmtime = time.localtime, time.gmtime
    real_ctime, real_asctime, real_strftime = time.ctime, time.asctime, time.strftime

    def sleep(seconds: float, /) -> None:
        REAL.sleep(d.real_seconds(seconds))

    def clock_reader(wall: Callable[[], Any], mono: Callable[[], Any], real: Any) -> Any:
        def read(clock: int, /) -> Any:
            if clock == time.CLOCK_REALTIME:
                return wall()
            return mono() if clock == time.CLOCK_MONOTONIC else real(clock)

        return read

    def now_if_none(real: Callable[..., Any]) -> Callable[..., Any]:
        def reading(secs: float | None = None, /) -> Any:
            return real(d.virtual_time() if secs is None else secs)

        return reading

    def asctime(t: Any = None, /) -> str:
        return real_asctime(real_localtime(d.virtual_time()) if t is None else t)

    def strftime(format: str, t: Any = None, /) -> str:
        return real_strftime(format, real_localtime(d.virtual_time()) if t is None else t)

    functions: dict[str, Callable[..., Any]] = {
        "time": lambda: d.virtual_time(),
        "time_ns": lambda: d.virtual_time_ns(),
        "monotonic": lambda: d.virtual_monotonic(),
        "monotonic_ns": lambda: d.virtual_monotonic_ns(),
        "perf_counter": lambda: d.virtual_monotonic() + perf_offset,
        "perf_counter_ns": lambda: d.virtual_monotonic_ns() + perf_offset_ns,
        "sleep": sleep,
        "clock_gettime": clock_reader(d.virtual_time, d.virtual_monotonic, REAL.clock_gettime),
        "clock_gettime_ns": clock_reader(
            d.virtual_time_ns, d.virtual_monotonic_ns, REAL.clock_gettime_ns
        ),
        "localtime": now_if_none(real_localtime),
        "gmtime": now_if_none(real_gmtime),
        "ctime": now_if_none(real_ctime),
        "asctime": asctime,
        "strftime": strftime,
    }
    for name, function in functions.items():
        function.__name__ = function.__qualname__ = name
        function.__doc__ = getattr(time, name).__doc__
    return functions


class _DatetimeType(type):
    """Makes ``isinstance`` and ``issubclass`` hold between the virtual and the real class."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, REAL.datetime)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, REAL.datetime)


def _virtual_datetime_class(d: Dilation) -> type:
    """A ``datetime.datetime`` whose ``now`` and ``utcnow`` read ``d``'s virtual clock."""
    utc = _datetime_module.UTC

    def now(cls: type, tz: _datetime_module.tzinfo | None = None) -> Any:
        return cls.fromtimestamp(d.virtual_time(), tz)

    def utcnow(cls: type) -> Any:
        return cls.fromtimestamp(d.virtual_time(), utc).replace(tzinfo=None)

    def __repr__(self: _datetime_module.datetime) -> str:
        # The C repr names the type as its heap type is named: "datetime(...)".
        return repr(REAL.datetime.combine(self.date(), self.timetz()))

    namespace = {
        "__module__": "datetime",
        "__qualname__": "datetime",
        "__doc__": REAL.datetime.__doc__,
        "now": classmethod(now),
        "utcnow": classmethod(utcnow),
        "__repr__": __repr__,
    }
    return _DatetimeType("datetime", (REAL.datetime,), namespace)


def _threading_waits(d: Dilation) -> list[tuple[type, str, Callable[..., Any]]]:
    """``Condition.wait`` and ``Thread.join`` with their timeouts scaled to real time."""
    real_wait, real_join = threading.Condition.wait, threading.Thread.join

    def wait(self: threading.Condition, timeout: float | None = None) -> bool:
        return real_wait(self, None if timeout is None else d.real_seconds(timeout))

    def join(self: threading.Thread, timeout: float | None = None) -> None:
        real_join(self, None if timeout is None else d.real_seconds(timeout))

    wait.__doc__, join.__doc__ = real_wait.__doc__, real_join.__doc__
    return [(threading.Condition, "wait", wait), (threading.Thread, "join", join)]


def _real_loop_time(self: asyncio.AbstractEventLoop) -> float:
    """An event loop's clock: the real monotonic one, whatever ``time.monotonic`` is."""
    return REAL.monotonic()


def _scaled_asyncio_sleep(d: Dilation, real_sleep: Callable[..., Any]) -> Callable[..., Any]:
    async def sleep(delay: float, result: Any = None) -> Any:
        return await real_sleep(d.real_seconds(delay), result)

    sleep.__doc__ = real_sleep.__doc__
    return sleep
