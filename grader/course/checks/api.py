"""How a check is declared, and the outcomes it can have.

A check is a plain function taking the ``Aws`` context, decorated with ``@check``. It passes by
returning, fails by raising ``CheckFailed`` (or any ``AssertionError``) with a reason a student
can act on, and says "not attempted" by raising ``NotAttempted`` when the resource or call it
looks for is absent. ``NotCheckable`` marks a check that cannot run on this backend (a flow check
on a real account); it is left out of the maximum, never silently passed.

The same functions are pytest tests for the grader and are called directly by ``check()`` in a
notebook; ``outcome_of`` is the one classification both use.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

Kind = Literal["state", "flow", "answer"]
Outcome = Literal["passed", "failed", "not_attempted", "not_checkable"]

#: How an outcome reads to a student, everywhere it is shown (no emoji: they need a font that a
#: default browser or terminal may lack, and show as empty boxes there).
OUTCOME_LABEL: dict[str, str] = {
    "passed": "passed",
    "failed": "failed",
    "not_attempted": "not attempted",
    "not_checkable": "not checkable here",
}
#: A colour per outcome for badges (text on it is white): green, red, grey, blue-grey.
OUTCOME_COLOUR: dict[str, str] = {
    "passed": "#1a7f37",
    "failed": "#cf222e",
    "not_attempted": "#6e7781",
    "not_checkable": "#57606a",
}


class NotAttempted(Exception):
    """The resource or call the check looks for does not exist: the student has not tried yet."""


class NotCheckable(Exception):
    """The check cannot run on this backend (for example, the flow on a real account)."""


class CheckFailed(AssertionError):
    """The student tried, and the result is wrong; the message says why."""


@dataclass(frozen=True)
class Check:
    """A check's definition: who it is, what it is worth and what it tells a student."""

    lab: str
    id: str
    points: float
    statement: str
    hint: str
    kind: Kind
    func: Callable[..., None]

    @property
    def qualified_id(self) -> str:
        """The id reports and results use: ``lab01.queue-exists``."""
        return f"lab{self.lab}.{self.id}"


@dataclass
class CheckResult:
    """What one check found in one run."""

    id: str
    points: float
    max_points: float
    outcome: Outcome
    statement: str
    hint: str
    kind: str
    message: str = ""

    @property
    def passed(self) -> bool:
        """Whether the check passed (and so earned its points)."""
        return self.outcome == "passed"

    def to_json(self) -> dict[str, Any]:
        """The result as the reports write it, field by field."""
        return asdict(self)


def check(
    id: str, *, points: float, statement: str, hint: str, kind: Kind
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Declare a check of the lab whose module defines it (the module sets ``LAB = "NN"``); the
    lab's ``Lab`` in ``course.checks.catalog`` lists it with the module's other checks."""

    def register(func: Callable[..., None]) -> Callable[..., None]:
        import sys

        lab = getattr(sys.modules[func.__module__], "LAB", "??")
        func.__check__ = Check(lab, id, points, statement, hint, kind, func)  # type: ignore[attr-defined]
        return func

    return register


def checks_in(module: Any) -> list[Check]:
    """The checks a lab module defines, in the order they are written."""
    found = [v.__check__ for v in vars(module).values() if hasattr(v, "__check__")]
    return sorted(found, key=lambda c: c.func.__code__.co_firstlineno)


def outcome_of(definition: Check, exc: BaseException | None) -> CheckResult:
    """Classify how a check ended: no exception passes; see the module docstring for the rest."""
    result = CheckResult(
        id=definition.qualified_id,
        points=0.0,
        max_points=definition.points,
        outcome="passed",
        statement=definition.statement,
        hint=definition.hint,
        kind=definition.kind,
    )
    if exc is None:
        result.points = definition.points
    elif isinstance(exc, NotAttempted):
        result.outcome, result.message = "not_attempted", str(exc)
    elif isinstance(exc, NotCheckable):
        result.outcome, result.message, result.max_points = "not_checkable", str(exc), 0.0
    elif isinstance(exc, AssertionError):
        result.outcome, result.message = "failed", str(exc) or "the check's condition does not hold"
    else:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        result.outcome = "failed"
        result.message = f"the check could not read what it needs: {last}"
    return result


def run_check(definition: Check, aws: Any) -> CheckResult:
    """Run one check directly (no pytest) and classify its outcome."""
    try:
        definition.func(aws)
    except Exception as exc:
        return outcome_of(definition, exc)
    return outcome_of(definition, None)
