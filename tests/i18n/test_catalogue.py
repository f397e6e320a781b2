"""``course.i18n``: the language asked for, the catalogue read with Babel, English fallback,
templates for reasons built from f-strings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from course import i18n
from course.i18n import _, catalogue, catalogue_path, language, normalise


@pytest.fixture
def own_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A locale folder of the test's own, with the catalogues' cache emptied around it."""
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    catalogue.cache_clear()
    yield tmp_path
    catalogue.cache_clear()


def write_po(locale: Path, lang: str, body: str) -> None:
    path = locale / lang / "LC_MESSAGES" / "course.po"
    path.parent.mkdir(parents=True)
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
    path.write_text(header + body, encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "lang"), [(None, "en"), ("", "en"), ("vi", "vi"), ("vi_VN.UTF-8", "vi"), ("VI", "vi")]
)
def test_the_language_is_course_lang(
    value: str | None, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is None:
        monkeypatch.delenv("COURSE_LANG", raising=False)
    else:
        monkeypatch.setenv("COURSE_LANG", value)
    assert language() == lang


def test_english_and_unknown_languages_give_the_english_back() -> None:
    assert _("failed", "en") == "failed"
    assert _("failed", "fr") == "failed"  # no catalogue: English
    assert _("a text no catalogue has", "vi") == "a text no catalogue has"


def test_the_vietnamese_catalogue_translates_and_follows_course_lang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _("failed", "vi") == "chưa đạt"
    monkeypatch.setenv("COURSE_LANG", "vi_VN")
    assert _("not attempted") == "chưa làm"
    monkeypatch.setenv("COURSE_LANG", "en")
    assert _("not attempted") == "not attempted"


def test_fuzzy_and_empty_entries_fall_back_to_english(own_locale: Path) -> None:
    write_po(
        own_locale,
        "xx",
        '#, fuzzy\nmsgid "passed"\nmsgstr "maybe"\n\nmsgid "failed"\nmsgstr ""\n\n'
        'msgid "check"\nmsgstr "kontrol"\n',
    )
    assert _("passed", "xx") == "passed"
    assert _("failed", "xx") == "failed"
    assert _("check", "xx") == "kontrol"


def test_a_template_fills_in_what_its_placeholders_matched(own_locale: Path) -> None:
    write_po(
        own_locale,
        "xx",
        'msgid "{n} message(s) sent, {k} of them JSON"\nmsgstr "{k} JSON / {n} envoyés"\n\n'
        'msgid "failed: {code}"\nmsgstr "échec : {code}"\n\n'
        'msgid "failed: {code} (wait a minute)"\nmsgstr "échec : {code} (attendez)"\n\n'
        'msgid "{x}"\nmsgstr "{x}"\n\n'
        'msgid "unset"\nmsgstr "absent"\n\n'
        'msgid "A is {v}"\nmsgstr "A vaut {v}"\n',
    )
    assert _("5 message(s) sent, 2 of them JSON", "xx") == "2 JSON / 5 envoyés"
    # the template with more literal text wins; a value is translated when it is known
    assert _("failed: Throttled (wait a minute)", "xx") == "échec : Throttled (attendez)"
    assert _("failed: Throttled", "xx") == "échec : Throttled"
    assert _("A is unset", "xx") == "A vaut absent"
    # parts joined by "; " are translated when every part is known, else left whole
    assert _("A is 1; A is unset", "xx") == "A vaut 1; A vaut absent"
    assert _("B is 1; A is unset", "xx") == "B is 1; A is unset"
    # a msgid of placeholders only matches everything: it is no template (and no loop)
    assert _("anything at all", "xx") == "anything at all"


def test_a_template_with_adjacent_placeholders_gives_the_first_all_they_matched(
    own_locale: Path,
) -> None:
    write_po(own_locale, "xx", 'msgid "failed: {code}{tail}"\nmsgstr "échec : {code}{tail}"\n')
    assert _("failed: Throttled, try later", "xx") == "échec : Throttled, try later"


PLACEHOLDER = re.compile(r"\{[^{}]+\}")


def test_every_vietnamese_entry_keeps_its_placeholders() -> None:
    """A msgstr must use the placeholders of its msgid, each as often, or ``format`` and the
    templates would lose or invent values."""
    with catalogue_path("vi").open("rb") as handle:
        po = read_po(handle)
    wrong = [
        m.id
        for m in po
        if m.id and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert not wrong, wrong
    assert not [m.id for m in po if m.id and m.fuzzy], "fuzzy entries in the catalogue"


def test_normalise_reads_locale_names() -> None:
    assert normalise("vi-VN") == "vi"
    assert normalise("en_GB.UTF-8@euro") == "en"
