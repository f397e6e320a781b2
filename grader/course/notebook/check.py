"""``check()``: a lab's checks, run from inside the student's notebook against the live backend.

It calls the very check functions the grader runs (without pytest, to answer in well under a
second) and shows, per check, passed, failed with the reason and a hint, or not attempted; on
the local backend, a short table under them of what the run's calls would cost on AWS
(``course.checks.readers.cost``). It speaks the language of ``COURSE_LANG`` (``course.i18n``):
statements, hints, reasons and labels are translated when shown; the ids stay English.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from course.cellwatch import watch_cells
from course.checks.answers import call_each, split
from course.checks.api import OUTCOME_COLOUR, OUTCOME_LABEL, CheckResult, run_check
from course.checks.catalog import Lab, resolve_lab
from course.checks.cells import kernel_record
from course.checks.context import Aws
from course.checks.readers.cost import Bill, meter
from course.connection import settings
from course.i18n import N_, _, language

#: A fixed-width mark per outcome for the plain-text report, in ASCII.
MARK = {"passed": "[ok]", "failed": "[x] ", "not_attempted": "[ ] ", "not_checkable": "[-] "}


def badge(outcome: str, lang: str | None = None) -> str:
    """An outcome as a small coloured HTML label (in ``lang``): it renders in any font."""
    return (
        f'<span style="background:{OUTCOME_COLOUR[outcome]};color:#fff;border-radius:3px;'
        f'padding:0 .35em;font-size:85%;font-weight:600;white-space:nowrap">'
        f"{_(OUTCOME_LABEL[outcome], lang)}</span>"
    )


@dataclass
class Report:
    """The results of one ``check()``; shown as a table in Jupyter and as text elsewhere."""

    lab: str
    results: list[CheckResult] = field(default_factory=list)
    #: What the run's calls would cost on AWS (local backend only; None elsewhere).
    cost: Bill | None = None
    #: The language the report is shown in (``COURSE_LANG`` when it was made).
    lang: str = field(default_factory=language)

    @property
    def score(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_points for r in self.results)

    def _(self, text: str) -> str:
        return _(text, self.lang)

    def title(self) -> str:
        """``Lab 01: 7 / 10 points``, in the report's language."""
        return self._(TITLE).format(lab=self.lab, score=self.score, max_score=self.max_score)

    def __repr__(self) -> str:
        lines = [self.title()]
        why, hint = self._(WHY), self._(HINT)
        width = max(len(why), len(hint))  # the reason and the hint start in one column
        for r in self.results:
            label = self._(OUTCOME_LABEL[r.outcome])
            lines.append(f"{MARK[r.outcome]} {r.id} ({r.max_points:g}) {label}")
            if r.outcome != "passed":
                if r.message:
                    lines.append(f"     {why.ljust(width)} {self._(r.message)}")
                lines.append(f"     {hint.ljust(width)} {self._(r.hint)}")
        if self.cost is not None:
            lines += ["", *cost_lines(self.cost, self.lang)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        # JupyterLab right-aligns table cells and wraps code at hyphens; a report reads left
        # to right, each check id on one line.
        cell = 'style="text-align:left;vertical-align:top"'
        rows = []
        for r in self.results:
            detail = "" if r.outcome == "passed" else html.escape(self._(r.message))
            hint = (
                ""
                if r.outcome == "passed"
                else f"<br><i>{self._(HINT_HTML)}</i> {html.escape(self._(r.hint))}"
            )
            rows.append(
                f"<tr><td {cell}>{badge(r.outcome, self.lang)}</td>"
                f'<td style="text-align:left;vertical-align:top;white-space:nowrap">'
                # JupyterLab styles code as pre-wrap, which breaks ids at their hyphens: the
                # code element itself must not wrap.
                f'<code style="white-space:nowrap">{html.escape(r.id)}</code></td>'
                f"<td {cell}>{r.points:g}/{r.max_points:g}</td><td {cell}>"
                f"{html.escape(self._(r.statement))}<br>{detail}{hint}</td></tr>"
            )
        head = "".join(f"<th {cell}>{html.escape(self._(h))}</th>" for h in TABLE_HEAD)
        return (
            f"<p><b>{html.escape(self.title())}</b></p>"
            f"<table><tr>{head}</tr>"
            + "".join(rows)
            + "</table>"
            + ("" if self.cost is None else cost_html(self.cost, self.lang))
        )


TITLE = N_("Lab {lab}: {score:g} / {max_score:g} points")
WHY, HINT, HINT_HTML = N_("why:"), N_("hint:"), N_("Hint:")
TABLE_HEAD = (N_("outcome"), N_("check"), N_("points"), N_("what it looks for"))
COST_HEAD = (
    N_("service"),
    N_("item"),
    N_("quantity"),
    N_("unit price"),
    N_("cost"),
    N_("free tier"),
)


def cost_lines(cost: Bill, lang: str | None = None) -> list[str]:
    """The cost meter as plain-text lines (in ``lang``): a sentence, then one line an item."""
    rows = [tuple(_(h, lang) for h in COST_HEAD), *cost.rows(lambda text: _(text, lang))]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COST_HEAD) - 1)]
    table = [
        "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows
    ]
    return [_(cost.summary(), lang), *(line.rstrip() for line in table)]


def cost_html(cost: Bill, lang: str | None = None) -> str:
    """The cost meter under the check results, as preformatted text (a table of its own would
    read as more check rows to anything that reads the check table)."""
    lines = cost_lines(cost, lang)
    return (
        f"<p>{html.escape(lines[0])}</p>"
        f'<pre style="text-align:left">{html.escape(chr(10).join(lines[1:]))}</pre>'
    )


def _notebook_answers(lab: Lab) -> dict[str, Any]:
    names = lab.answer_names
    if not names:
        return {}
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    namespace = shell.user_ns if shell is not None else {}
    variables, calls = split(names)
    found = {n: namespace[n] for n in variables if n in namespace}
    for call in calls:  # the notebook's function on the cases it does not see
        if callable(namespace.get(call.function)):
            found[call.key] = call_each(namespace[call.function], call.cases)
    return found


def check(lab: str | int | Lab | None = None) -> Report:
    """Run lab ``lab``'s checks against the live backend and return (and show) the results.

    ``lab`` defaults to the lab the connection names (``COURSE_LAB``, which the grader sets in a
    graded kernel); ``UnknownLab`` names the labs with checks when it is none of them. In an
    IPython kernel the checks learn which cell made each call (``course.checks.cells``).
    """
    found = resolve_lab(lab if lab is not None else settings().lab)
    watch_cells(settings().endpoint_url)  # from here on, if connect() did not start it
    aws = Aws.from_environment(answers=_notebook_answers(found), cells=kernel_record())
    cost = meter(aws)  # the notebook's calls, before this check()'s own
    return Report(found.id, [run_check(c, aws) for c in found.checks], cost=cost)
