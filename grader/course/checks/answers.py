"""Answers a check reads from the notebook: a variable's value, or a function's results on cases
the notebook never sees.

A lab's ``ANSWERS`` lists variable names and ``AnswerCall``s. An ``AnswerCall`` asks the kernel
that ran the notebook to call the notebook's function ``function`` on each of ``cases`` (one
argument each) and keep the results under ``key``: a list with, per case, ``{"value": ...}``
(as JSON; anything else as its ``repr``) or ``{"error": "ValueError: ..."}``. A function the
notebook does not define leaves the answer absent, so the check says the notebook has not
written it. The grader runs ``call_each`` in the kernel (``course.grading.answers``); ``check()``
runs it in the student's own kernel (``course.notebook.check``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AnswerCall:
    """Call the notebook's ``function`` on each of ``cases``; the results are answer ``key``."""

    key: str
    function: str
    cases: tuple[Any, ...]


def call_each(function: Any, cases: Any) -> list[dict[str, Any]]:
    """``function`` called on a fresh copy of each case: ``{"value": result}`` with the result as
    JSON can carry it (a number-like result as a float, anything else as its ``repr``), or
    ``{"error": "Type: message"}`` for a case on which it raised. Never raises."""
    import copy as _copy
    import json as _json

    results = []
    for case in cases:
        try:
            value = function(_copy.deepcopy(case))
        except Exception as exc:  # the notebook's function may fail on any case
            results.append({"error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        try:
            _json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            try:
                value = float(value)
                _json.dumps(value, allow_nan=False)
            except (TypeError, ValueError, OverflowError):
                value = repr(value)[:300]
        results.append({"value": value})
    return results


def split(answers: Any) -> tuple[list[str], list[AnswerCall]]:
    """A lab's ``ANSWERS``: the variable names, and the function calls."""
    names = [a for a in answers if isinstance(a, str)]
    calls = [a for a in answers if isinstance(a, AnswerCall)]
    return names, calls
