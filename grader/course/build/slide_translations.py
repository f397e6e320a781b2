"""Translated slide decks: one Markdown file per deck and language, its slides keyed by the
sha256 of the English slide each one translates.

``slides/src/decks/<lang>/<deck>.md`` is written like its English deck (``decks/<deck>.md``),
with two additions:

- its front matter has ``title:`` and ``subtitle:`` in the language, and ``en:`` the sha256 of
  the English deck's ``title`` and ``subtitle`` (``front_sha``); ``order`` is the English one's;
- every slide starts with a line ``<!-- en: <sha256> -->``, the sha256 of the English slide's
  source (``slide_sha``: the text between two ``---`` lines, stripped).

Why per slide rather than one sha for the whole deck: the decks have no slide ids, and a deck
holds some twenty slides; a fix to one English slide should send that slide, not the whole deck,
back to English. Keying a slide by the sha of its English text needs no ids and no
renumbering: English slides can be inserted, moved or removed, and every other translation
still finds its slide. A translated deck is built in the English deck's order; an English slide
that no translation carries the sha of is shown in English (*missing*), and a translated slide
whose sha is no English slide's any more (its English changed) is left out (*stale*) until
someone translates the new text. A missing translation file shows the whole deck in English.
``status`` lists all of it; ``python -m course.build.slide_translations LANG`` prints it.

A translation must point at what its English slide points at: the same diagrams, the same
``Lab:`` lab ids and slide classes (``differences``); the build refuses one that does not.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from course.build.deck_source import (
    SlideBuildError,
    references,
    repo_slides_dir,
    split_front_matter,
    split_slides,
)

SOURCE_LANG = "en"
STAMP = re.compile(r"^<!--\s*en:\s*([0-9a-f]{64})\s*-->\s*$")


def slide_sha(source: str) -> str:
    """The fingerprint of an English slide's source that its translation records."""
    return hashlib.sha256(source.strip().encode()).hexdigest()


def front_sha(meta: dict[str, str]) -> str:
    """The fingerprint of an English deck's title and subtitle."""
    return slide_sha(f"{meta.get('title', '')}\n{meta.get('subtitle', '')}")


def translation_file(src_dir: Path, lang: str, deck: str) -> Path:
    """Where the ``lang`` translation of deck ``deck`` (a file stem) lives."""
    return src_dir / "decks" / lang / f"{deck}.md"


def languages(src_dir: Path) -> list[str]:
    """The languages with a folder of translated decks under ``decks/``."""
    folder = src_dir / "decks"
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


@dataclass(frozen=True)
class Translation:
    """One translated deck file: its front matter and its slides, (English sha, source)."""

    meta: dict[str, str]
    slides: tuple[tuple[str, str], ...]


def load(path: Path) -> Translation | None:
    """The translation in ``path`` (None when there is no such file)."""
    if not path.exists():
        return None
    meta, body = split_front_matter(path.read_text(encoding="utf-8"))
    slides = []
    for index, source in enumerate(split_slides(body), 1):
        first, _, rest = source.partition("\n")
        stamp = STAMP.match(first)
        if stamp is None:
            raise SlideBuildError(
                f"{path.name} slide {index}: a translated slide starts with "
                "<!-- en: <sha256 of the English slide> -->"
            )
        slides.append((stamp.group(1), rest.strip()))
    return Translation(meta, tuple(slides))


def differences(english: str, translated: str) -> list[str]:
    """How a slide's translation points elsewhere than its English: other diagrams, labs or
    slide classes (an image's alt text and every word may change, not what it shows)."""
    mine, theirs = references(english), references(translated)
    return [
        f"its {kind} are {theirs[kind]}, the English slide's {mine[kind]}"
        for kind in mine
        if mine[kind] != theirs[kind]
    ]


@dataclass
class Coverage:
    """Which slides of one deck a language translates, misses, or has stale translations of."""

    deck: str
    lang: str
    file_missing: bool = False
    title: bool = False  # the title and subtitle are translated
    translated: list[int] = field(default_factory=list)  # slide numbers, from 1
    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)  # positions in the translation file

    @property
    def untranslated(self) -> int:
        """Slides shown in English, plus one for an English title, plus stale translations."""
        return len(self.missing) + len(self.stale) + (not self.title)

    def summary(self) -> str:
        """One line for a person: what is left in English."""
        if self.file_missing:
            return f"{self.deck}: no decks/{self.lang}/{self.deck}.md: the whole deck is in English"
        parts = [f"{len(self.translated)} slide(s) translated"]
        if self.missing:
            parts.append(f"in English: slide(s) {', '.join(map(str, self.missing))}")
        if self.stale:
            parts.append(
                f"stale (their English changed): translated slide(s) "
                f"{', '.join(map(str, self.stale))}"
            )
        if not self.title:
            parts.append("title in English")
        return f"{self.deck}: " + "; ".join(parts)


@dataclass(frozen=True)
class Resolved:
    """A deck as one language shows it: title, subtitle, slide sources, and its coverage."""

    title: str
    subtitle: str
    sources: tuple[str, ...]
    coverage: Coverage


def resolve(
    deck: str, meta: dict[str, str], english: list[str], translation: Translation | None, lang: str
) -> Resolved:
    """The deck ``deck`` in ``lang``: each English slide replaced by its fresh translation.

    Raises SlideBuildError for a translation that points elsewhere than its English slide.
    """
    coverage = Coverage(deck, lang, file_missing=translation is None)
    title, subtitle = meta["title"], meta.get("subtitle", "")
    if translation is None:
        coverage.missing = list(range(1, len(english) + 1))
        return Resolved(title, subtitle, tuple(english), coverage)
    if translation.meta.get("en") == front_sha(meta) and translation.meta.get("title"):
        title, subtitle = translation.meta["title"], translation.meta.get("subtitle", subtitle)
        coverage.title = True
    by_sha = dict(translation.slides)
    wanted = {slide_sha(source) for source in english}
    coverage.stale = [i for i, (sha, _) in enumerate(translation.slides, 1) if sha not in wanted]
    sources = []
    for number, source in enumerate(english, 1):
        found = by_sha.get(slide_sha(source))
        if found is None or found == source:  # none, or added by add_missing and not yet done
            coverage.missing.append(number)
            sources.append(source)
            continue
        problems = differences(source, found)
        if problems:
            raise SlideBuildError(f"{lang}/{deck}.md, slide {number}: " + "; ".join(problems))
        coverage.translated.append(number)
        sources.append(found)
    return Resolved(title, subtitle, tuple(sources), coverage)


def resolve_file(src_dir: Path, english_path: Path, lang: str) -> Resolved:
    """The deck in ``english_path`` as ``lang`` shows it (see :func:`resolve`)."""
    meta, body = split_front_matter(english_path.read_text(encoding="utf-8"))
    if "title" not in meta:
        raise SlideBuildError(f"{english_path.name}: front matter needs a 'title:'")
    translation = load(translation_file(src_dir, lang, english_path.stem))
    return resolve(english_path.stem, meta, split_slides(body), translation, lang)


def status(src_dir: Path, lang: str) -> list[Coverage]:
    """The coverage of every English deck in ``lang``."""
    return [
        resolve_file(src_dir, path, lang).coverage
        for path in sorted((src_dir / "decks").glob("*.md"))
    ]


def stamped(sha: str, source: str) -> str:
    """One slide of a translation file."""
    return f"<!-- en: {sha} -->\n{source.strip()}"


def add_missing(src_dir: Path, lang: str, deck: str) -> int:
    """Rewrite the ``lang`` translation of ``deck`` in the English order, with every missing
    slide in English under its sha for a translator to edit (it counts as missing until its text
    changes); stale translations are kept at the end, to be reused and then deleted. Returns the
    number of slides added."""
    english_path = src_dir / "decks" / f"{deck}.md"
    meta, body = split_front_matter(english_path.read_text(encoding="utf-8"))
    english = split_slides(body)
    target = translation_file(src_dir, lang, deck)
    old = load(target) or Translation({}, ())
    by_sha = dict(old.slides)
    shas = [slide_sha(source) for source in english]
    chunks = [
        stamped(sha, by_sha.get(sha, source)) for sha, source in zip(shas, english, strict=True)
    ]
    chunks += [stamped(sha, source) for sha, source in old.slides if sha not in set(shas)]
    front = [
        "---",
        f"title: {old.meta.get('title', meta['title'])}",
        f"subtitle: {old.meta.get('subtitle', meta.get('subtitle', ''))}",
        f"en: {front_sha(meta)}",
        "---",
    ]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(front) + "\n\n" + "\n\n---\n\n".join(chunks) + "\n", "utf-8")
    return sum(sha not in by_sha for sha in shas)


def main(argv: list[str]) -> int:
    """``python -m course.build.slide_translations LANG [DECK]``: what LANG's decks leave in
    English; with DECK (a file stem in slides/src/decks/), add its missing slides in English."""
    if not argv:
        print(main.__doc__)
        return 2
    src_dir = repo_slides_dir() / "src"
    if len(argv) > 1:
        print(f"{add_missing(src_dir, argv[0], argv[1])} slide(s) to translate added")
        return 0
    for coverage in status(src_dir, argv[0]):
        print(coverage.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
