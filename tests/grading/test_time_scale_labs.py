"""Every lab scores the same on dilated and on real time: its solution and its student copy,
each graded on the wall clock and at the lab's own factor, check by check.

Lab 11's run (two 60 s visibility timeouts waited out on the wall clock: about 4.5 minutes) is
in a file of its own, ``test_time_scale_lab11.py``, so that the test runner's workers, which
take a file each, share these runs out evenly.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from course.checks.catalog import graded_lab_ids, resolve_lab
from course.grading.grade import grade_submission
from course.grading.limits import Limits

ALONE = ("11",)  # graded in a file of their own (see the module's docstring)


def assert_same_scores(lab_id: str) -> None:
    """Grade lab ``lab_id``'s solution and student copy at 1x and at its factor; require the
    same outcome and points for every check."""
    lab = resolve_lab(lab_id)
    assert lab.time_scale > 1
    for path in (lab.solution, lab.notebook):
        assert path is not None
        outcomes = {}
        for scale in (1.0, lab.time_scale):
            grade = grade_submission(path, lab, replace(Limits(), time_scale=scale))
            outcomes[scale] = [(r.id, r.outcome, r.points) for r in grade.results]
        assert outcomes[1.0] == outcomes[lab.time_scale], path.name


def test_every_graded_lab_is_in_one_of_the_files() -> None:
    assert set(ALONE) <= set(graded_lab_ids())


@pytest.mark.slow
@pytest.mark.parametrize("lab_id", [i for i in graded_lab_ids() if i not in ALONE])
def test_every_lab_scores_the_same_on_dilated_and_real_time(lab_id: str) -> None:
    assert_same_scores(lab_id)
