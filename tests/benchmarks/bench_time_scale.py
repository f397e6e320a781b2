"""Grading on dilated time against real time, lab by lab, side by side in one run (not a test:
nothing here asserts; it prints figures to quote, and says where a score differs).

    python tests/benchmarks/bench_time_scale.py [--labs 01 02 ...] [--copies 3] [--scale K]
        [--no-sandbox]

For each lab it grades ``--copies`` copies of the lab's solution as a class run does
(``grade_all`` with one job: one backend, reset between submissions, and each next kernel
started while the current submission runs), once on the wall clock and once at K times
(``Limits.time_scale``; default each lab's own ``TIME_SCALE``), and prints:

- **per submission**: the class run's wall time divided by the number of copies, real and
  dilated, and the speed-up;
- **first**: the first submission's own time, which also pays for starting the backend and the
  first kernel (about 2.5 s either way), as a single ``course grade`` of one notebook does;
- the scores at both speeds, which must be the same.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from course.checks.catalog import graded_lab_ids, resolve_lab
from course.grading.grade import Grade, grade_all
from course.grading.limits import Limits


def class_run(
    paths: list[Path], lab: str, scale: float, sandboxed: bool
) -> tuple[float, list[Grade]]:
    """Wall seconds to grade ``paths`` with one job at ``scale``, and their grades."""
    started = time.perf_counter()
    grades = grade_all(paths, lab, replace(Limits(), time_scale=scale), sandboxed=sandboxed)
    return time.perf_counter() - started, grades


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--labs", nargs="*", default=graded_lab_ids())
    parser.add_argument("--copies", type=int, default=3, help="submissions per lab (default 3)")
    parser.add_argument("--scale", type=float, default=None, help="default: each lab's own")
    parser.add_argument("--no-sandbox", action="store_true", help="grade without the sandbox")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    print(
        f"{'lab':<4} {'K':>3} {'real s/sub':>10} {'dilated s/sub':>13} {'x':>5} "
        f"{'first real':>10} {'first dil.':>10} {'x':>5}  scores"
    )
    totals = [0.0, 0.0]
    differ = 0
    with tempfile.TemporaryDirectory(prefix="bench-time-scale-") as tmp:
        for lab_id in args.labs:
            lab = resolve_lab(lab_id)
            scale = args.scale or lab.time_scale
            assert lab.solution is not None
            folder = Path(tmp) / lab.id
            folder.mkdir()
            paths = [folder / f"student{n}.ipynb" for n in range(1, args.copies + 1)]
            for path in paths:
                shutil.copy(lab.solution, path)
            real, real_grades = class_run(paths, lab.id, 1.0, not args.no_sandbox)
            fast, fast_grades = class_run(paths, lab.id, scale, not args.no_sandbox)
            totals[0] += real
            totals[1] += fast
            real_scores = [g.score for g in real_grades]
            fast_scores = [g.score for g in fast_grades]
            same = real_scores == fast_scores
            differ += not same
            first_real, first_fast = real_grades[0].duration, fast_grades[0].duration
            print(
                f"{lab.id:<4} {scale:>3g} {real / len(paths):>10.1f} {fast / len(paths):>13.1f} "
                f"{real / fast:>5.1f} {first_real:>10.1f} {first_fast:>10.1f} "
                f"{first_real / first_fast:>5.1f}  "
                f"{'/'.join(f'{s:g}' for s in real_scores)} vs "
                f"{'/'.join(f'{s:g}' for s in fast_scores)} {'same' if same else 'DIFFER'}",
                flush=True,
            )
    print(
        f"all labs: {totals[0]:.0f} s real, {totals[1]:.0f} s dilated, "
        f"{totals[0] / totals[1]:.1f}x; load average after: {os.getloadavg()[0]:.1f}"
    )
    print(f"{differ} lab(s) whose scores differ" if differ else "every score is the same")


if __name__ == "__main__":
    main()
