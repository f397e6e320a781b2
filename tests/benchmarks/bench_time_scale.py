"""Grading on dilated time against real time, lab by lab, in one run (not a test: nothing here
asserts; it prints figures to quote, and says where a score differs).

    python tests/benchmarks/bench_time_scale.py [--scale K] [--labs 01 02 ...] [--sandbox]

For each lab it grades the solution and the student copy twice, on the wall clock and at K
times (``Limits.time_scale``), and prints the wall time of each grading, the speed-up, and the
two scores, which must be the same.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from course.checks.catalog import graded_lab_ids, resolve_lab
from course.grading.grade import grade_submission
from course.grading.limits import Limits


def grade_once(path: Path, lab: str, scale: float, sandboxed: bool) -> tuple[float, float]:
    """Seconds to grade ``path`` at ``scale``, and the score it got."""
    started = time.perf_counter()
    grade = grade_submission(path, lab, replace(Limits(), time_scale=scale), sandboxed=sandboxed)
    return time.perf_counter() - started, grade.score


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=None, help="default: each lab's own")
    parser.add_argument("--labs", nargs="*", default=graded_lab_ids())
    parser.add_argument("--sandbox", action="store_true", help="grade in the sandbox")
    args = parser.parse_args()
    print(f"{'lab':<4} {'notebook':<9} {'K':>4} {'real s':>7} {'dilated s':>9} {'x':>5}  scores")
    differ = 0
    for lab_id in args.labs:
        lab = resolve_lab(lab_id)
        scale = args.scale or lab.time_scale
        for kind, path in (("solution", lab.solution), ("student", lab.notebook)):
            assert path is not None
            real, real_score = grade_once(path, lab.id, 1.0, args.sandbox)
            fast, fast_score = grade_once(path, lab.id, scale, args.sandbox)
            same = "same" if real_score == fast_score else "DIFFER"
            differ += same == "DIFFER"
            print(
                f"{lab.id:<4} {kind:<9} {scale:>4g} {real:>7.1f} {fast:>9.1f} "
                f"{real / fast:>5.1f}  {real_score:g} / {fast_score:g} {same}",
                flush=True,
            )
    print(f"{differ} score(s) differ" if differ else "every score is the same at both speeds")


if __name__ == "__main__":
    main()
