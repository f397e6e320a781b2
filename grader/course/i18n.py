"""The language the kit speaks to a student: gettext catalogues read with Babel.

The language is ``COURSE_LANG`` (``en`` by default; ``vi_VN.UTF-8`` reads as ``vi``). The
catalogue of a language is ``course/locale/<lang>/LC_MESSAGES/course.po`` (with one
``labNN.po`` per lab beside it: ``catalogue_parts``), read with Babel's
``read_po`` the first time a process needs it: no compiled ``.mo`` is committed, so none can
drift from its ``.po``. Fuzzy and empty entries are left out (they fall back to English).

Texts are keyed by their English (the msgid is the English text) and translated at display
time: check statements, hints and reasons stay English in the JSON and the class table, and
``check()`` and the feedback page show them translated. A missing catalogue or entry falls back
to the English text.

An English reason built from an f-string is translated through a *template*: a msgid holding
placeholders in braces (``{len(sent)} message(s) sent``) matches the whole text, and its
msgstr is filled with what each placeholder matched, itself translated when the catalogue has
it. Text made of parts joined by ``"; "`` is first tried part by part (when every part is known).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

#: The kit's own language; every text is written in it first.
SOURCE_LANG = "en"
#: Where the catalogues live: ``<lang>/LC_MESSAGES/course.po``.
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "course"
PLACEHOLDER = re.compile(r"\{[^{}]+\}")
#: How parts of one reason are joined (``"; ".join(wrong)``).
PART_SEPARATOR = "; "


def language() -> str:
    """The language asked for with ``COURSE_LANG`` (``en`` when unset), as a bare code."""
    raw = os.environ.get("COURSE_LANG", "").strip()
    return normalise(raw) if raw else SOURCE_LANG


def normalise(lang: str) -> str:
    """``vi_VN.UTF-8``, ``vi-VN`` and ``VI`` all read as ``vi``."""
    return re.split(r"[_.@-]", lang.strip())[0].lower() or SOURCE_LANG


def catalogue_path(lang: str) -> Path:
    """Where the catalogue of ``lang`` is (whether or not it exists)."""
    return LOCALE_DIR / normalise(lang) / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalogue_parts(lang: str) -> list[Path]:
    """The files one language's catalogue is read from: ``course.po`` (the kit's shared texts),
    then one ``labNN.po`` per lab (its checks' texts), so translators of different labs never
    edit the same file. A msgid in two files takes the later file's translation."""
    folder = catalogue_path(lang).parent
    return [folder / f"{DOMAIN}.po", *sorted(folder.glob("lab*.po"))]


def available() -> list[str]:
    """The languages the kit speaks: English and each language with a catalogue."""
    found = sorted(p.parents[1].name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return [SOURCE_LANG, *found]


@dataclass(frozen=True)
class Template:
    """A msgid with placeholders, as a pattern that matches a whole English text."""

    pattern: re.Pattern[str]
    names: tuple[str, ...]
    msgstr: str
    literal: int  # characters outside placeholders: the more, the more specific

    @classmethod
    def of(cls, msgid: str, msgstr: str) -> Template:
        """The template for one catalogue entry whose msgid has placeholders."""
        names = tuple(PLACEHOLDER.findall(msgid))
        pieces = PLACEHOLDER.split(msgid)
        # Adjacent placeholders (``{code}{tail}``) cannot be told apart in the text: the first
        # takes what they matched together and the others are left out of the translation.
        groups, regex, kept = [], re.escape(pieces[0]), []
        for name, piece in zip(names, pieces[1:], strict=True):
            if groups and groups[-1] == "":
                kept.append((name, False))
            else:
                regex += "(.+?)"
                kept.append((name, True))
            groups.append(piece)
            regex += re.escape(piece)
        for name, used in kept:
            if not used:
                msgstr = msgstr.replace(name, "")
        used_names = tuple(name for name, used in kept if used)
        return cls(re.compile(regex, re.S), used_names, msgstr, sum(map(len, pieces)))


@dataclass
class Catalogue:
    """One language's translations: exact entries (msgid -> msgstr), and templates."""

    lang: str
    exact: dict[str, str] = field(default_factory=dict)
    templates: list[Template] = field(default_factory=list)

    def get(self, text: str) -> str | None:
        """The exact translation of ``text``, or None."""
        return self.exact.get(text)

    def translate(self, text: str) -> str:
        """``text`` translated; English where no entry or template covers it."""
        if not text:
            return text
        found = self.get(text)
        if found is not None:
            return found
        if PART_SEPARATOR in text:
            parts = text.split(PART_SEPARATOR)
            translated = [self.translate(p) for p in parts]
            if all(t != p for t, p in zip(translated, parts, strict=True)):
                return PART_SEPARATOR.join(translated)
        for template in self.templates:
            match = template.pattern.fullmatch(text)
            if match is not None:
                result = template.msgstr
                for name, value in zip(template.names, match.groups(), strict=True):
                    result = result.replace(name, self.translate(value) if value != text else value)
                return result
        return text


@cache
def catalogue(lang: str) -> Catalogue:
    """The catalogue of ``lang``, compiled once per process; English's (or a language without a
    catalogue) gives every text back unchanged."""
    lang = normalise(lang)
    path = catalogue_path(lang)
    if lang == SOURCE_LANG or not path.exists():
        return Catalogue(lang)
    exact: dict[str, str] = {}
    for part in catalogue_parts(lang):
        with part.open("rb") as handle:
            po = read_po(handle, locale=lang, domain=DOMAIN)
        exact.update(
            (m.id, m.string)
            for m in po
            if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string
            if not m.fuzzy
        )
    # A msgid that is nothing but placeholders would match any text: no template.
    templates = [
        t
        for t in (Template.of(i, s) for i, s in exact.items() if PLACEHOLDER.search(i))
        if t.literal
    ]
    templates.sort(key=lambda t: -t.literal)
    return Catalogue(lang, exact, templates)


def _(text: str, lang: str | None = None) -> str:
    """``text`` (English) in ``lang`` (default: ``language()``); English when not translated."""
    return catalogue(lang or language()).translate(text)


def N_(text: str) -> str:
    """Mark ``text`` for the catalogue without translating it now (translated at display)."""
    return text


def is_translated(text: str, lang: str) -> bool:
    """Whether ``lang``'s catalogue has ``text`` exactly (a msgid, fuzzy ones excluded)."""
    return catalogue(lang).get(text) is not None
