"""``python -m course.grading.estimates``: grade every lab's solution on the local backend and
write its bill as the lab's estimate (``course.rules.estimates``)."""

from __future__ import annotations

import json
from typing import Any

from course.checks.catalog import all_labs
from course.checks.readers.cost import Bill
from course.grading.grade import grade_submission
from course.grading.limits import Limits
from course.rules.estimates import ESTIMATES
from course.rules.pricing import money


def estimate_of(bill: Bill) -> dict[str, Any]:
    """A bill as an estimate entry: its totals, before and after the free tier (what
    ``connect("aws")`` quotes and the solution tests compare)."""
    return {"total": bill.total, "after_free_tier": bill.after_free_tier}


def main() -> None:
    """Grade every solution and rewrite the estimates; stops if one does not grade fully."""
    written: dict[str, dict[str, Any]] = {}
    for lab in all_labs():
        if not lab.graded or lab.solution is None:
            continue
        grade = grade_submission(lab.solution, lab, Limits())
        if grade.cost is None or grade.score < grade.max_score:
            raise SystemExit(f"lab {lab.id}'s solution did not grade fully: no estimate")
        written[lab.id] = estimate_of(grade.cost)
        print(f"lab {lab.id}: {money(grade.cost.total)}", flush=True)
    ESTIMATES.write_text(json.dumps(written, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
