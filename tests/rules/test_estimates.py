"""A lab's cost estimate: which lab a kernel runs, the sentence connect("aws") prints, drift."""

from __future__ import annotations

import pytest
from course.rules import estimates
from course.rules.estimates import current_lab, drifted, estimate_text

KNOWN = {"01": {"total": 0.0000048, "after_free_tier": 0.0}}


@pytest.fixture
def known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(estimates, "estimates", lambda: KNOWN)


def test_the_lab_comes_from_the_grader_then_from_the_notebooks_name() -> None:
    assert current_lab("", "/home/ana/labs/04-dead-letter-queue.ipynb") == "04"
    assert current_lab("07", "/home/ana/labs/04-dead-letter-queue.ipynb") == "07"
    assert current_lab("", "/home/ana/Untitled.ipynb") is None
    assert current_lab("", "") is None


def test_the_sentence_gives_both_prices(known: None) -> None:
    text = estimate_text("01")
    assert text is not None
    assert "$0.0000048 at list prices" in text and "$0 after the free tier" in text
    assert estimate_text("02") is None and estimate_text(None) is None


def test_a_bill_far_from_its_estimate_is_drift(known: None) -> None:
    assert drifted("01", 0.0000050) is None
    assert "now costs $0.0000096" in (drifted("01", 0.0000096) or "")
    assert "no estimate" in (drifted("02", 1.0) or "")


def test_every_graded_lab_has_an_estimate() -> None:
    from course.checks.catalog import graded_lab_ids

    assert set(estimates.estimates()) == set(graded_lab_ids())
