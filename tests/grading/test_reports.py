"""Report formats: the class CSV, per-student JSON, Gradescope's results.json, the feedback page."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import jsonschema
import pytest
from course.checks.api import CheckFailed, NotAttempted, outcome_of
from course.checks.catalog import resolve_lab
from course.grading.execute import CellProblem, Execution
from course.grading.grade import Grade
from course.grading.reports import (
    feedback_html,
    feedback_markdown,
    gradescope_results,
    write_class_table,
    write_student,
)

# Gradescope's autograder results format, field by field, as documented at
# https://gradescope-autograders.readthedocs.io/en/latest/specs/#output-format
# ("score", "execution_time", "output", "output_format", "visibility", "stdout_visibility",
# "extra_data", "tests" with "score", "max_score", "status", "name", "name_format", "number",
# "output", "output_format", "tags", "visibility", "extra_data"; "leaderboard").
FORMATS = ["text", "html", "simple_format", "md", "ansi"]
VISIBILITY = ["hidden", "after_due_date", "after_published", "visible"]
GRADESCOPE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": FORMATS},
        "test_output_format": {"enum": FORMATS},
        "test_name_format": {"enum": FORMATS},
        "visibility": {"enum": VISIBILITY},
        "stdout_visibility": {"enum": VISIBILITY},
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": {"enum": FORMATS},
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": {"enum": FORMATS},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": {"enum": VISIBILITY},
                    "extra_data": {"type": "object"},
                },
            },
        },
    },
}


def a_grade(student: str = "an-nguyen") -> Grade:
    lab = resolve_lab("01")
    checks = lab.checks
    results = [
        outcome_of(checks[0], None),
        outcome_of(checks[1], CheckFailed("VisibilityTimeout is 30, expected 10 | <b>x</b>")),
    ]
    results += [outcome_of(c, NotAttempted("no message was sent")) for c in checks[2:]]
    execution = Execution(
        status="stopped",
        summary="the kernel died in code cell 4; later cells did not run",
        code_cells=6,
        cells_run=4,
        stopped_at=4,
        problems=[
            CellProblem(2, "error", "ZeroDivisionError: division by zero", "1/0"),
            CellProblem(4, "dead-kernel", "the kernel died"),
        ],
    )
    return Grade(
        student=student,
        path=Path(f"{student}.ipynb"),
        lab=lab,
        results=results,
        execution=execution,
        duration=3.5,
    )


def test_gradescope_results_follow_the_documented_fields() -> None:
    results = gradescope_results(a_grade())
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == 1
    assert sum(t["max_score"] for t in results["tests"]) == 10
    assert [t["status"] for t in results["tests"][:2]] == ["passed", "failed"]


def test_the_schema_rejects_a_wrong_field() -> None:
    results = gradescope_results(a_grade())
    results["tests"][0]["status"] = "ok"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(results, GRADESCOPE_SCHEMA)


def test_feedback_says_what_failed_why_and_where_execution_stopped() -> None:
    text = feedback_markdown(a_grade())
    assert "**Score: 1 / 10**" in text
    assert "VisibilityTimeout is 30, expected 10" in text
    assert "Execution stopped at code cell 4" in text
    assert "ZeroDivisionError" in text and "Code cell 2" in text
    assert "Hint:" in text


def test_feedback_html_escapes_what_a_submission_printed() -> None:
    page = feedback_html(a_grade())
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert page.startswith("<!doctype html>") and "<table>" in page


def test_files_written_per_student_and_for_the_class(tmp_path: Path) -> None:
    grades = [a_grade("an"), a_grade("binh")]
    for g in grades:
        write_student(g, tmp_path)
    table = write_class_table(grades, tmp_path)
    rows = list(csv.DictReader(table.open()))
    assert [r["student"] for r in rows] == ["an", "binh"]
    assert (
        rows[0]["lab01.queue-exists"] == "1"
        and rows[0]["score"] == "1"
        and rows[0]["max_score"] == "10"
    )
    assert json.loads((tmp_path / "an.json").read_text())["score"] == 1
    jsonschema.validate(
        json.loads((tmp_path / "an" / "results.json").read_text()), GRADESCOPE_SCHEMA
    )
    assert (tmp_path / "binh" / "feedback.html").exists() and (
        tmp_path / "binh" / "feedback.md"
    ).exists()


@pytest.mark.parametrize(
    ("cells", "failed", "summary"),
    [
        (1, 0, "ran its one code cell"),
        (1, 1, "ran its one code cell; it failed"),
        (9, 0, "ran all 9 code cells"),
        (9, 1, "ran all 9 code cells; 1 of them failed"),
        (9, 3, "ran all 9 code cells; 3 of them failed"),
    ],
)
def test_the_run_summary_reads_well_for_any_count(cells: int, failed: int, summary: str) -> None:
    from course.grading.execute import run_summary

    assert run_summary(cells, failed) == summary


def test_feedback_reads_without_an_emoji_font() -> None:
    """Outcomes are words (failed ones bold, red on the page), never glyphs a default browser
    without an emoji font shows as boxes."""
    emoji = re.compile("[\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]")
    text, page = feedback_markdown(a_grade()), feedback_html(a_grade())
    assert not emoji.findall(text + page)
    assert "| passed |" in text and "| **failed** |" in text
    assert "<strong>failed</strong>" in page and "td strong{color:#cf222e}" in page
