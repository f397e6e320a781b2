"""``check()`` in a student's kernel reads a lab's answers there: variables, and the results of
the notebook's function on the lab's hidden cases (``AnswerCall``), as the grader does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import printed_text


def test_check_calls_the_notebook_s_function_on_the_hidden_cases(
    grade_cells: Callable[..., Any],
) -> None:
    connect = "from course import connect, check\nconnect()"
    right = grade_cells(
        "10", [connect, "from course.rules.pricing import lab_cost", "print(repr(check('10')))"]
    )
    assert "[ok] lab10.cost-function" in printed_text(right)
    wrong = grade_cells(
        "10",
        [connect, "def lab_cost(usage):\n    return 0.0", "print(repr(check('10')))"],
        name="wrong",
    )
    printed = printed_text(wrong)
    assert "[x]  lab10.cost-function" in printed and "hidden usages are priced wrong" in printed
