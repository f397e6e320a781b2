"""Write grades in the formats courses use.

In ``out/``: ``grades.csv`` (one row a student, one column a check), ``<submission>.json`` per
student, and a folder ``<submission>/`` per student with Gradescope's ``results.json``, a
feedback page (``feedback.md`` and ``feedback.html``) and the executed notebook.
The feedback and the JSON (as ``cost``) give what the submission's calls would cost on AWS.
Markdown is rendered to HTML with markdown-it-py, with raw HTML disabled so nothing a submission
printed can inject markup into the page. The feedback pages speak ``lang`` (default
``COURSE_LANG``, see ``course.i18n``); the JSON files and the class table keep English ids and
texts.
"""

from __future__ import annotations

import csv
import json
from html import escape
from pathlib import Path
from typing import Any

import nbformat
from markdown_it import MarkdownIt

from course.checks.api import OUTCOME_LABEL, CheckResult
from course.checks.catalog import Lab
from course.checks.readers.cost import Bill
from course.grading.grade import Grade
from course.i18n import N_, _, language

HTML_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
line-height:1.5}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem}}
code,pre{{background:#f4f4f4}}td strong{{color:#cf222e}}
pre{{padding:.5rem;overflow:auto}}</style></head>
<body>{body}</body></html>
"""


NOT_ISOLATED = N_(
    "Not isolated: this notebook ran without a sandbox (--no-sandbox), with the grader's "
    "privileges."
)
DILATED = N_(
    "Graded on dilated time: the notebook's clock and its backend's ran {scale:g} times "
    "faster than the wall clock, so AWS waits took a fraction of their time; every time "
    "here is in AWS (virtual) seconds, as the notebook saw them."
)


def dilated_note(scale: float, lang: str | None = None) -> str:
    """What a report says of a run on dilated time (in ``lang``)."""
    return _(DILATED, lang).format(scale=scale)


def _table_safe(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def _result(outcome: str, lang: str | None = None) -> str:
    """An outcome in the feedback table: in words, and in bold (red on the page) unless passed."""
    label = _(OUTCOME_LABEL[outcome], lang)
    return label if outcome == "passed" else f"**{label}**"


#: The feedback page's fixed texts, translated when shown.
PAGE = {
    "score": N_("**Score: {score:g} / {max_score:g}**"),
    "running": N_("Running the notebook: {summary}."),
    "stopped": N_(
        "**Execution stopped at code cell {cell}**; the checks read what had been done by then."
    ),
    "head": N_("| check | points | result |"),
    "fix": N_("## What to fix"),
    "why": N_("- **Why:** {reason}"),
    "hint": N_("- **Hint:** {hint}"),
    "cells": N_("## Cells that did not run cleanly"),
    "cell": N_("- Code cell {cell}: **{kind}** — {message}"),
    "title": N_("Lab {lab} feedback — {student}"),
}


#: A cell problem's kinds, as the feedback page names them (translated when shown; the JSON
#: keeps the English id).
KINDS = (
    N_("error"),
    N_("timeout"),
    N_("dead-kernel"),
    N_("stuck-kernel"),
    N_("output-truncated"),
    N_("not-run"),
    N_("limit"),
)


def feedback_markdown(grade: Grade, *, hints: bool = True, lang: str | None = None) -> str:
    """The student's feedback page, in Markdown and in ``lang`` (default ``COURSE_LANG``):
    score, every check, what to fix (with each check's hint unless ``hints`` is False), cell
    problems."""
    lang = lang or language()

    def t(key: str, **values: Any) -> str:
        return _(PAGE[key], lang).format(**values)

    lines = [
        f"# Lab {grade.lab.id} — {grade.student}",
        "",
        t("score", score=grade.score, max_score=grade.max_score),
        "",
        t("running", summary=_(grade.execution.summary, lang)),
        "",
    ]
    if not grade.isolated:
        lines += [f"**{_(NOT_ISOLATED, lang)}**", ""]
    if grade.time_scale != 1:
        lines += [dilated_note(grade.time_scale, lang), ""]
    if grade.execution.stopped_at:
        lines += [t("stopped", cell=grade.execution.stopped_at), ""]
    lines += [_(PAGE["head"], lang), "|---|---|---|"]
    for r in grade.results:
        result = _result(r.outcome, lang)
        lines.append(f"| `{r.id}` | {r.points:g} / {r.max_points:g} | {result} |")
    todo = [r for r in grade.results if r.outcome != "passed"]
    if todo:
        lines += ["", _(PAGE["fix"], lang)]
        for r in todo:
            label = _(OUTCOME_LABEL[r.outcome], lang)
            lines += ["", f"### `{r.id}` — {label}", "", _(r.statement, lang), ""]
            if r.message:
                lines.append(t("why", reason=_table_safe(_(r.message, lang))))
            if hints:
                lines.append(t("hint", hint=_(r.hint, lang)))
    if grade.execution.problems:
        lines += ["", _(PAGE["cells"], lang), ""]
        for p in grade.execution.problems:
            kind, message = _(p.kind, lang), _table_safe(_(p.message, lang))
            lines.append(t("cell", cell=p.cell, kind=kind, message=message))
            if p.source:
                fence = "````" if "```" in p.source else "```"
                lines += [
                    "",
                    f"  {fence}",
                    *(f"  {x}" for x in p.source.splitlines()),
                    f"  {fence}",
                    "",
                ]
    if grade.cost is not None:
        lines += ["", *cost_markdown(grade.cost, lang)]
    return "\n".join(lines).rstrip() + "\n"


COST = {
    "head": N_("## What these calls would cost on AWS"),
    "none": N_("No call here would be billed."),
    "table": N_("| service | item | quantity | unit price | cost | free tier |"),
}


def cost_markdown(cost: Bill, lang: str | None = None) -> list[str]:
    """The cost meter's section of the feedback page: a sentence and a table of line items."""
    lines = [_(COST["head"], lang), "", _(cost.summary(), lang), ""]
    if not cost.items:
        return [*lines, _(COST["none"], lang)]
    lines += [_(COST["table"], lang), "|---|---|---|---|---|---|"]
    rows = cost.rows(lambda text: _(text, lang))
    lines += ["| " + " | ".join(_table_safe(v) for v in row) + " |" for row in rows]
    return lines


def feedback_html(grade: Grade, lang: str | None = None) -> str:
    """The student's feedback page, as a standalone HTML page (in ``lang``)."""
    lang = lang or language()
    body = _markdown.render(feedback_markdown(grade, lang=lang))
    title = _(PAGE["title"], lang).format(lab=grade.lab.id, student=escape(grade.student))
    return HTML_PAGE.format(lang=lang, title=title, body=body)


#: The words of Gradescope's results that are not the feedback page's.
GRADESCOPE = {"hint": N_("Hint: {hint}"), "hint-test": N_("Hint: {check}")}


def gradescope_results(
    grade: Grade, *, visibility: str = "visible", hints: str = "visible", lang: str | None = None
) -> dict[str, Any]:
    """Gradescope's ``results.json`` for one submission: one test per check (name, score,
    max_score, status, visibility, output), the feedback page as the output, the execution's
    status and summary as extra data. Fields and values as Gradescope's autograder
    specification documents them (https://gradescope-autograders.readthedocs.io/en/latest/specs/).

    ``visibility`` applies to the checks and the score. ``hints`` other than ``visible``
    (``after_due_date``, ``after_published``, ``hidden``) keeps hints out of the checks' output
    and the feedback, and gives each check not passed a scoreless test with its hint at that
    visibility instead.

    The texts a student reads (the feedback, each test's output) speak ``lang`` (default
    ``COURSE_LANG``); names (check ids), statuses and ``extra_data`` stay English.
    """
    shown = hints == "visible"
    lang = lang or language()

    def test(number: int, r: CheckResult) -> dict[str, Any]:
        output = _(r.statement, lang)
        if r.outcome != "passed":
            output += f"\n\n{_(OUTCOME_LABEL[r.outcome], lang)}: {_(r.message, lang)}"
            if shown:
                output += "\n" + _(GRADESCOPE["hint"], lang).format(hint=_(r.hint, lang))
        return {
            "score": r.points,
            "max_score": r.max_points,
            "status": "passed" if r.passed else "failed",
            "name": r.id,
            "name_format": "text",
            "number": str(number),
            "output": output,
            "output_format": "text",
            "visibility": visibility,
        }

    tests = [test(i, r) for i, r in enumerate(grade.results, start=1)]
    if not shown:
        tests += [
            {
                "status": "failed",
                "name": _(GRADESCOPE["hint-test"], lang).format(check=r.id),
                "name_format": "text",
                "number": f"{i}.1",
                "output": _(r.hint, lang),
                "output_format": "text",
                "visibility": hints,
            }
            for i, r in enumerate(grade.results, start=1)
            if r.outcome != "passed"
        ]
    return {
        "score": grade.score,
        "execution_time": round(grade.duration, 2),
        "output": feedback_markdown(grade, hints=shown, lang=lang),
        "output_format": "md",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "extra_data": {
            "lab": grade.lab.id,
            "status": grade.execution.status,
            "summary": grade.execution.summary,
            "isolated": grade.isolated,
        },
        "tests": tests,
    }


def write_student(grade: Grade, out: Path, lang: str | None = None) -> None:
    """Write one student's JSON, results.json and feedback pages (the last two in ``lang``,
    default ``COURSE_LANG``) and executed notebook, all inside ``out`` (ValueError for a
    student name that would lead elsewhere)."""
    out.mkdir(parents=True, exist_ok=True)
    folder = out / grade.student
    if folder.resolve().parent != out.resolve():
        raise ValueError(f"a report name must be a plain name, not {grade.student!r}")
    data = {**grade.to_json(), "cost": grade.cost.to_json() if grade.cost else None}
    (out / f"{grade.student}.json").write_text(json.dumps(data, indent=2))
    folder.mkdir(exist_ok=True)
    results = gradescope_results(grade, lang=lang)
    (folder / "results.json").write_text(json.dumps(results, indent=2))
    (folder / "feedback.md").write_text(feedback_markdown(grade, lang=lang))
    (folder / "feedback.html").write_text(feedback_html(grade, lang))
    if grade.notebook is not None:
        nbformat.write(grade.notebook, folder / "executed.ipynb")


def write_class_table(grades: list[Grade], out: Path) -> Path:
    """The class CSV: one row a student, one column a check (points earned), then the total."""
    out.mkdir(parents=True, exist_ok=True)
    check_ids: list[str] = []
    for grade in grades:
        for r in grade.results:
            if r.id not in check_ids:
                check_ids.append(r.id)
    path = out / "grades.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "submission", "status", *check_ids, "score", "max_score"])
        for grade in grades:
            points = {r.id: f"{r.points:g}" for r in grade.results}
            writer.writerow(
                [
                    grade.student,
                    grade.path.name,
                    grade.execution.status,
                    *(points.get(c, "") for c in check_ids),
                    f"{grade.score:g}",
                    f"{grade.max_score:g}",
                ]
            )
    return path


def write_summary(grades: list[Grade], out: Path, lab: Lab) -> dict[str, Any]:
    """A versioned summary of the whole run of lab ``lab`` (also what ``course grade --json``
    prints), written to ``out/summary.json``."""
    summary = {
        "version": 1,
        "lab": lab.id,
        "isolated": all(g.isolated for g in grades),
        "submissions": [
            {
                "student": g.student,
                "submission": g.path.name,
                "score": g.score,
                "max_score": g.max_score,
                "status": g.execution.status,
                "summary": g.execution.summary,
                "isolated": g.isolated,
            }
            for g in grades
        ],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
