"""``python -m course.grading.gradescope``: what the bundle's ``run_autograder`` runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from course.grading.gradescope.autograder import run
from course.grading.gradescope.config import autograder_root


def main() -> None:
    """Grade the submission under the autograder root; print a line for the instructor."""
    parser = argparse.ArgumentParser(prog="python -m course.grading.gradescope")
    parser.add_argument(
        "--root", type=Path, default=None, help="Gradescope's /autograder (default: it)"
    )
    root = parser.parse_args().root or autograder_root()
    results = run(root)
    scores = f"{results.get('score', 0):g}/{sum(t.get('max_score', 0) for t in results['tests']):g}"
    status = results.get("extra_data", {}).get("summary", "not graded")
    print(f"results.json written: {scores} — {status}")


if __name__ == "__main__":
    main()
