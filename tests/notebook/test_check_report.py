"""How ``check()``'s table reads in a notebook: left-aligned, one line per check id, escaped."""

from __future__ import annotations

import re

from course.checks.api import CheckResult
from course.notebook.check import Report


def report() -> Report:
    return Report(
        "01",
        [
            CheckResult("lab01.queue-exists", 2, 2, "passed", "The queue exists.", "h", "state"),
            CheckResult(
                "lab01.sent-three-json",
                0,
                3,
                "failed",
                "Three JSON messages were sent.",
                "Send <three> messages.",
                "flow",
                "only 1 message was sent",
            ),
        ],
    )


def test_every_cell_of_the_check_table_is_left_aligned() -> None:
    html = report()._repr_html_()
    cells = re.findall(r"<t[dh]\b[^>]*>", html)
    assert len(cells) == 4 + 2 * 4
    assert all("text-align:left" in c for c in cells), cells


def test_check_ids_are_not_broken_at_their_hyphens() -> None:
    html = report()._repr_html_()
    for check_id in ("lab01.queue-exists", "lab01.sent-three-json"):
        cell = re.search(rf"<td([^>]*)><code([^>]*)>{re.escape(check_id)}</code></td>", html)
        # JupyterLab styles code as pre-wrap: the code element itself must not wrap.
        assert cell and "white-space:nowrap" in cell.group(1)
        assert "white-space:nowrap" in cell.group(2)


def test_the_table_says_why_and_what_to_do_and_escapes_it() -> None:
    html = report()._repr_html_()
    assert "Lab 01: 2 / 5 points" in html
    assert "only 1 message was sent" in html and "Send &lt;three&gt; messages." in html


#: Emoji and pictographs: a default browser or terminal without an emoji font shows boxes.
EMOJI = re.compile("[\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]")


def test_outcomes_read_without_an_emoji_font() -> None:
    results = [
        *report().results,
        CheckResult("lab01.a", 0, 1, "not_attempted", "A.", "h", "state", "no queue yet"),
        CheckResult("lab01.b", 0, 0, "not_checkable", "B.", "h", "flow", "real account"),
    ]
    full = Report("01", results)
    html, text = full._repr_html_(), repr(full)
    assert not EMOJI.findall(html + text)
    for label in ("passed", "failed", "not attempted", "not checkable here"):
        assert f">{label}</span>" in html  # a badge in words
        assert label in text
    assert "[ok] lab01.queue-exists" in text and "[x]  lab01.sent-three-json" in text
