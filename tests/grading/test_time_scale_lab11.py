"""Lab 11 scores the same on dilated and on real time (in a file of its own: see
``test_time_scale_labs.py``)."""

from __future__ import annotations

import pytest

from tests.grading.test_time_scale_labs import ALONE, assert_same_scores


@pytest.mark.slow
@pytest.mark.parametrize("lab_id", ALONE)
def test_lab_11_scores_the_same_on_dilated_and_real_time(lab_id: str) -> None:
    assert_same_scores(lab_id)
