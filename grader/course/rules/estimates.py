"""What each lab costs on a real account, before it runs: the solution's own bill.

``connect("aws")`` shows the estimate of the lab it is started from, so that a learner sees
the price before the first call. Each estimate is the cost meter's bill
(``course.checks.readers.cost``) of the lab's solution notebook, graded on the local backend;
``python -m course.grading.estimates`` grades every solution again and rewrites
``estimates.json``, and the solution tests fail when a bill drifts from its estimate.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from course.rules.pricing import money

ESTIMATES = Path(__file__).with_name("estimates.json")
#: How far a solution's bill may stray from its estimate (polling loops vary with speed).
TOLERANCE = 0.5


@cache
def estimates() -> dict[str, dict[str, Any]]:
    """Each lab's estimate: ``total`` and ``after_free_tier``, in dollars."""
    if not ESTIMATES.exists():
        return {}
    return json.loads(ESTIMATES.read_text(encoding="utf-8"))


def drifted(lab: str, total: float) -> str | None:
    """Why a solution's bill of ``total`` dollars no longer matches lab ``lab``'s estimate, or
    None when it does."""
    known = estimates().get(lab)
    if known is None:
        return f"lab {lab} has no estimate: run `python -m course.grading.estimates`"
    allowed = max(TOLERANCE * known["total"], 1e-6)
    if abs(total - known["total"]) > allowed:
        return (
            f"lab {lab}'s solution now costs {money(total)}, its estimate "
            f"{money(known['total'])}: run `python -m course.grading.estimates`"
        )
    return None


def current_lab(graded_lab: str, session_name: str) -> str | None:
    """The lab a kernel runs: ``graded_lab`` (the grader's ``COURSE_LAB``) if any, else the two
    digits the notebook's file name starts with (``session_name``: ``JPY_SESSION_NAME``, which
    Jupyter sets for a kernel)."""
    if graded_lab:
        return graded_lab
    found = re.match(r"(\d\d)-", Path(session_name).name)
    return found.group(1) if found else None


def estimate_text(lab: str | None) -> str | None:
    """One sentence on lab ``lab``'s cost on AWS, or None without an estimate."""
    known = estimates().get(lab or "")
    if known is None:
        return None
    return (
        f"Lab {lab} on AWS: about {money(known['total'])} at list prices, "
        f"{money(known['after_free_tier'])} after the free tier (the solution's own calls; "
        "check() shows what yours cost)."
    )
