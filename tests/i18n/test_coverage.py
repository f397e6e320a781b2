"""What is still English in the Vietnamese edition, per lab: cells of the notebook and texts of
the checks (statements, hints, reasons).

Every lab is reported (a skip whose reason gives the counts, shown by ``-ra``); a lab in
``COMPLETE`` fails when anything of it is untranslated or stale. Finishing a lab's translation
is adding it here.
"""

from __future__ import annotations

import nbformat
import pytest
from course.build.check_texts import check_texts
from course.build.translations import Entry, coverage, status
from course.checks.catalog import all_labs
from course.i18n import _ as translate
from course.i18n import catalogue

from tests.i18n.conftest import ROOT

LANG = "vi"
#: Labs whose Vietnamese edition is finished: nothing of them may be left in English.
COMPLETE = {"00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"}
#: The texts every lab's check() and feedback show, whatever the lab.
SHARED = [
    "passed",
    "failed",
    "not attempted",
    "not checkable here",
    "Lab {lab}: {score:g} / {max_score:g} points",
    "**Score: {score:g} / {max_score:g}**",
    "## What to fix",
    "YOUR CODE HERE",
    "Your code here: see the instructions above.",
    "*Write your answer here.*",
]

COVERAGE = {c.notebook[:2]: c for c in status(ROOT, LANG)}
LABS = {lab.id: lab for lab in all_labs()}


def untranslated_texts(lab_id: str, lang: str = LANG) -> list[str]:
    """The lab's check texts the catalogue lacks (exact msgids: templates included as such)."""
    known = catalogue(lang)
    return [t for t in check_texts(LABS[lab_id]) if known.get(t) is None]


@pytest.mark.parametrize("lab_id", sorted(COVERAGE))
def test_what_is_left_to_translate(lab_id: str) -> None:
    cells = COVERAGE[lab_id]
    texts = untranslated_texts(lab_id) if lab_id in LABS else []
    left = (
        f"lab {lab_id}: {len(cells.missing)} cell(s) untranslated, {len(cells.stale)} stale, "
        f"{len(texts)} check text(s) untranslated"
    )
    if lab_id not in COMPLETE:
        if cells.untranslated or texts:
            pytest.skip(f"{left} (not declared complete)")
        return
    assert not cells.untranslated and not texts, f"{left}: {cells.missing + cells.stale} {texts}"
    assert not cells.unused, f"translations of cells that need none: {cells.unused}"


def test_the_shared_texts_are_translated() -> None:
    assert [t for t in SHARED if translate(t, LANG) == t] == []


def test_the_missing_list_is_honest() -> None:
    """The count sees a notebook without translations and check texts without entries, and a
    stale cell counts as untranslated (lab 02 read with no translation, and with a stale one)."""
    solution = nbformat.read(ROOT / "solutions" / "02-visibility-timeout.ipynb", as_version=4)
    bare = coverage(solution, {}, "02-visibility-timeout.ipynb")
    assert bare.missing and not bare.translated, "no translation: every cell is missing"
    first = bare.missing[0]
    old = coverage(solution, {first: Entry("0" * 64, "cũ")}, "02-visibility-timeout.ipynb")
    assert old.stale == [first] and old.untranslated == bare.untranslated
    # a language without a catalogue lacks every check text
    assert untranslated_texts("02", "xx") == check_texts(LABS["02"]) != []
