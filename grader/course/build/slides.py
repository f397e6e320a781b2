"""Build the course slide decks into self-contained HTML.

Sources live in ``slides/src/`` at the top of the repository:

- ``decks/*.md``: one Markdown file per deck (see ``slides/README.md`` for the conventions:
  front matter, ``---`` between slides, ``Note:`` before the speaker notes, ``Lab:`` lines,
  which name labs of the catalog, ``course.checks.catalog``, by their notebook's name);
- ``diagrams.py``: a ``DIAGRAMS`` mapping of diagram name to a function returning SVG text;
- ``deck.html.j2`` and ``index.html.j2``: the Jinja templates; ``course.css``: the kit's styles.

The build writes ``<out>/<deck>.html``, ``<out>/index.html``, ``<out>/diagrams/*.svg`` and copies
the vendored reveal.js (``slides/vendor/reveal/``) into ``<out>/vendor/reveal/``, so the output
folder works from ``file://`` with no network and no node.

Every other language is built the same way into ``<out>/<lang>/`` (a folder as self-contained
as the English one): its decks from ``decks/<lang>/*.md`` slide by slide, an untranslated or
stale slide in English (``course.build.slide_translations``), and every text of the templates,
the "Practise it" badges and the diagrams' labels through the gettext catalogue
(``course.i18n._``; their entries are in ``locale/<lang>/LC_MESSAGES/labslides.po``).

Run ``python -m course.build.slides --help``.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import ModuleType

import jinja2
from markdown_it import MarkdownIt

from course.build.deck_source import (
    LAB_LINE,
    SlideBuildError,
    repo_slides_dir,
    slide_classes,
    split_front_matter,
    split_notes,
    split_slides,
)
from course.build.slide_translations import SOURCE_LANG, Coverage, languages, resolve_file
from course.checks.catalog import Lab, all_labs
from course.i18n import N_, _

#: Each language's name, as its speakers write it (the index pages link the editions).
LANGUAGE_NAMES = {"en": "English", "vi": "Tiếng Việt"}
#: The templates' own words, translated per language (``ui_texts``).
UI_TEXTS = {
    "kit": N_("AWS messaging course kit"),
    "index_title": N_("AWS messaging course: slides"),
    "index_help": N_(
        "Open a deck; press <kbd>S</kbd> for the speaker notes, <kbd>Esc</kbd> for the overview."
    ),
    "slides": N_("slides"),
    "previous": N_("previous slide"),
    "next": N_("next slide"),
    "above": N_("above slide"),
    "below": N_("below slide"),
    "other_languages": N_("Also in:"),
}

LOCAL_REF = re.compile(r"""\b(?:src|href)="([^"#:]+)(?:#[^"]*)?\"""")
REMOTE_SRC = re.compile(r"""\bsrc="((?:https?:)?//[^"]*)\"""")


@dataclass(frozen=True)
class Slide:
    """One rendered slide: its HTML body, its speaker notes (HTML) and its CSS classes."""

    html: str
    notes: str
    classes: str


@dataclass(frozen=True)
class Deck:
    """A parsed deck: file stem, metadata from the front matter, and its slides."""

    name: str
    title: str
    subtitle: str
    order: int
    slides: tuple[Slide, ...]
    lang: str = SOURCE_LANG
    coverage: Coverage | None = None  # what a translated deck leaves in English


def markdown_renderer() -> MarkdownIt:
    """Return the Markdown renderer: CommonMark plus tables and strikethrough, raw HTML allowed."""
    return MarkdownIt("commonmark", {"html": True, "typographer": True}).enable(
        ["table", "strikethrough", "replacements", "smartquotes"]
    )


def labs_by_slug() -> dict[str, Lab]:
    """The labs a ``Lab:`` line may name, by the name of their notebook (``01-sqs-basics``)."""
    return {lab.slug: lab for lab in all_labs() if lab.notebook is not None}


def lab_notebook(lab_id: str, lang: str) -> str:
    """The path of lab ``lab_id``'s student notebook in ``lang`` (``labs/vi/...`` for ``vi``)."""
    return f"labs/{lab_id}.ipynb" if lang == SOURCE_LANG else f"labs/{lang}/{lab_id}.ipynb"


def lab_badge(ids: str, lang: str = SOURCE_LANG) -> str:
    """Render a ``Lab:`` line (comma-separated lab ids) as the HTML badge naming the notebooks,
    in ``lang`` (the notebooks of that language, their titles translated)."""
    labs = labs_by_slug()
    parts = []
    for lab_id in (part.strip() for part in ids.split(",")):
        if lab_id not in labs:
            raise SlideBuildError(f"unknown lab id {lab_id!r}; known: {', '.join(labs)}")
        parts.append(
            f'<span class="lab-ref"><code>{lab_notebook(lab_id, lang)}</code> '
            f'<span class="lab-title">{_(labs[lab_id].title, lang)}</span></span>'
        )
    return f'<p class="lab">{_("Practise it:", lang)} ' + " ".join(parts) + "</p>"


def expand_lab_lines(content: str, lang: str = SOURCE_LANG) -> str:
    """Replace each ``Lab:`` line of a slide source with its HTML badge."""
    out = []
    for line in content.splitlines():
        match = LAB_LINE.match(line)
        out.append(f"\n{lab_badge(match.group(1), lang)}\n" if match else line)
    return "\n".join(out)


def parse_slide(source: str, md: MarkdownIt, where: str, lang: str = SOURCE_LANG) -> Slide:
    """Render one slide source; every slide must have speaker notes."""
    content, notes = split_notes(source)
    if not notes:
        raise SlideBuildError(f"{where}: no speaker notes (add a 'Note:' line)")
    classes, content = slide_classes(content)
    html = md.render(expand_lab_lines(content, lang))
    return Slide(html=html, notes=md.render(notes), classes=classes)


def parse_deck(path: Path, md: MarkdownIt | None = None, lang: str = SOURCE_LANG) -> Deck:
    """Parse one English deck source file into a :class:`Deck` in ``lang``: its translated
    slides where ``decks/<lang>/`` has them, the English ones elsewhere."""
    md = md or markdown_renderer()
    meta, body = split_front_matter(path.read_text(encoding="utf-8"))
    if "title" not in meta:
        raise SlideBuildError(f"{path.name}: front matter needs a 'title:'")
    title, subtitle, sources = meta["title"], meta.get("subtitle", ""), split_slides(body)
    coverage = None
    if lang != SOURCE_LANG:
        resolved = resolve_file(path.parents[1], path, lang)
        title, subtitle, sources = resolved.title, resolved.subtitle, list(resolved.sources)
        coverage = resolved.coverage
    if not sources:
        raise SlideBuildError(f"{path.name}: no slides")
    slides = [
        parse_slide(src, md, f"{path.name} slide {i}", lang) for i, src in enumerate(sources, 1)
    ]
    first = slides[0]
    slides[0] = Slide(first.html, first.notes, (first.classes + " title-slide").strip())
    return Deck(
        name=path.stem,
        title=title,
        subtitle=subtitle,
        order=int(meta.get("order", "100")),
        slides=tuple(slides),
        lang=lang,
        coverage=coverage,
    )


def load_decks(src_dir: Path, lang: str = SOURCE_LANG) -> list[Deck]:
    """Parse every ``decks/*.md`` under ``src_dir`` in ``lang``, sorted by front-matter
    ``order`` then name."""
    md = markdown_renderer()
    decks = [parse_deck(path, md, lang) for path in sorted((src_dir / "decks").glob("*.md"))]
    if not decks:
        raise SlideBuildError(f"no decks in {src_dir / 'decks'}")
    return sorted(decks, key=lambda deck: (deck.order, deck.name))


def load_diagrams(src_dir: Path) -> dict[str, Callable[[str], str]]:
    """Import ``src_dir/diagrams.py``; return, per name of its ``DIAGRAMS``, a function of a
    language drawing that diagram labelled in it (empty if there is no ``diagrams.py``)."""
    path = src_dir / "diagrams.py"
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location("course_slide_diagrams", path)
    if spec is None or spec.loader is None:
        raise SlideBuildError(f"cannot import {path}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return {name: partial(module.draw, name) for name in module.DIAGRAMS}


def write_diagrams(src_dir: Path, out_dir: Path, lang: str = SOURCE_LANG) -> list[Path]:
    """Draw every diagram of ``src_dir/diagrams.py``, labelled in ``lang``, to
    ``out_dir/diagrams/<name>.svg``."""
    target = out_dir / "diagrams"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in sorted(load_diagrams(src_dir).items()):
        path = target / f"{name}.svg"
        path.write_text(draw(lang), encoding="utf-8")
        written.append(path)
    return written


def copy_assets(slides_dir: Path, src_dir: Path, out_dir: Path) -> None:
    """Copy the vendored reveal.js and the course stylesheet into ``out_dir``."""
    vendor = slides_dir / "vendor" / "reveal"
    if not (vendor / "reveal.js").exists():
        raise SlideBuildError(f"vendored reveal.js missing: {vendor}")
    shutil.copytree(vendor, out_dir / "vendor" / "reveal", dirs_exist_ok=True)
    shutil.copy2(src_dir / "course.css", out_dir / "course.css")


def check_references(html: str, out_dir: Path, where: str) -> None:
    """Fail on a remote ``src`` or a relative ``src``/``href`` that names no file in ``out_dir``."""
    remote = REMOTE_SRC.findall(html)
    if remote:
        raise SlideBuildError(f"{where}: remote resources are not allowed: {remote}")
    missing = sorted({ref for ref in LOCAL_REF.findall(html) if not (out_dir / ref).exists()})
    if missing:
        raise SlideBuildError(f"{where}: references to missing files: {missing}")


def template_env(src_dir: Path) -> jinja2.Environment:
    """Return the Jinja environment over ``src_dir`` (HTML autoescaped, undefined is an error)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(src_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def ui_texts(lang: str) -> dict[str, str]:
    """The templates' words in ``lang`` (English where the catalogue has no entry)."""
    return {key: _(text, lang) for key, text in UI_TEXTS.items()}


def edition_dir(out_dir: Path, lang: str) -> Path:
    """Where the ``lang`` edition is built: ``out_dir`` for English, ``out_dir/<lang>`` else."""
    return out_dir if lang == SOURCE_LANG else out_dir / lang


def edition_links(lang: str, langs: Sequence[str]) -> list[tuple[str, str, str]]:
    """(code, name, href from ``lang``'s index) of every other edition in ``langs``."""
    up = "" if lang == SOURCE_LANG else "../"
    return [
        (other, LANGUAGE_NAMES.get(other, other), up + relative_index(other))
        for other in langs
        if other != lang
    ]


def relative_index(lang: str) -> str:
    """The ``lang`` edition's index, relative to the English edition's folder."""
    return "index.html" if lang == SOURCE_LANG else f"{lang}/index.html"


def build_language(slides_dir: Path, src_dir: Path, out_dir: Path, lang: str) -> list[Deck]:
    """Build the ``lang`` edition's decks into ``out_dir`` (pages, diagrams, assets; the index
    comes after every edition, ``write_index``); return its decks."""
    out_dir.mkdir(parents=True, exist_ok=True)
    decks = load_decks(src_dir, lang)
    copy_assets(slides_dir, src_dir, out_dir)
    write_diagrams(src_dir, out_dir, lang)
    env = template_env(src_dir)
    text = ui_texts(lang)
    for deck in decks:
        html = env.get_template("deck.html.j2").render(deck=deck, lang=lang, text=text)
        check_references(html, out_dir, f"{deck.name}.md ({lang})")
        (out_dir / f"{deck.name}.html").write_text(html, encoding="utf-8")
    return decks


def write_index(
    src_dir: Path, out_dir: Path, lang: str, decks: list[Deck], langs: Sequence[str]
) -> Path:
    """Write the ``lang`` edition's ``index.html``, linking the other editions in ``langs``
    (its references are checked once every edition's index is written)."""
    index = (
        template_env(src_dir)
        .get_template("index.html.j2")
        .render(decks=decks, lang=lang, text=ui_texts(lang), editions=edition_links(lang, langs))
    )
    (out_dir / "index.html").write_text(index, encoding="utf-8")
    return out_dir / "index.html"


def slide_languages(src_dir: Path | None = None) -> list[str]:
    """The languages the decks are built in: English, then each with translated decks."""
    src_dir = src_dir or repo_slides_dir() / "src"
    return [SOURCE_LANG, *(lang for lang in languages(src_dir) if lang != SOURCE_LANG)]


def build_slides(
    out_dir: Path | None = None,
    *,
    src_dir: Path | None = None,
    langs: Sequence[str] | None = None,
) -> list[Path]:
    """Build the decks to ``out_dir`` (default ``slides/build``); return the deck HTML paths.

    ``langs`` (default: every language, ``slide_languages``) are the editions: English in
    ``out_dir``, another language in ``out_dir/<lang>``. ``src_dir`` defaults to
    ``slides/src``; the vendored reveal.js is read from the ``vendor/`` folder beside it.
    Raises :class:`SlideBuildError` when a source breaks a rule, or for a language that has no
    translated decks.
    """
    slides_dir = src_dir.parent if src_dir else repo_slides_dir()
    src_dir = src_dir or slides_dir / "src"
    out_dir = Path(out_dir) if out_dir else slides_dir / "build"
    known = slide_languages(src_dir)
    langs = list(dict.fromkeys(langs or known))
    unknown = [lang for lang in langs if lang not in known]
    if unknown:
        raise SlideBuildError(
            f"no decks in {', '.join(unknown)}; the decks speak {', '.join(known)}"
        )
    editions = {
        lang: build_language(slides_dir, src_dir, edition_dir(out_dir, lang), lang)
        for lang in langs
    }
    indexes = [
        write_index(src_dir, edition_dir(out_dir, lang), lang, decks, langs)
        for lang, decks in editions.items()
    ]
    for index in indexes:
        check_references(index.read_text(encoding="utf-8"), index.parent, str(index))
    return [
        edition_dir(out_dir, lang) / f"{deck.name}.html"
        for lang, decks in editions.items()
        for deck in decks
    ]


def untranslated(langs: Sequence[str] | None = None, src_dir: Path | None = None) -> list[str]:
    """One line per deck that a language in ``langs`` (default: all) shows partly in English."""
    from course.build.slide_translations import status

    src_dir = src_dir or repo_slides_dir() / "src"
    return [
        f"{lang}: {coverage.summary()}"
        for lang in (langs or slide_languages(src_dir))
        if lang != SOURCE_LANG
        for coverage in status(src_dir, lang)
        if coverage.untranslated
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m course.build.slides [--out DIR] [--lang LANG]...``."""
    parser = argparse.ArgumentParser(
        prog="python -m course.build.slides",
        description="Build the course slide decks (slides/src) into self-contained HTML.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output folder (default: slides/build); another language goes to DIR/LANG",
    )
    parser.add_argument(
        "--lang",
        action="append",
        default=None,
        metavar="LANG",
        help="build this language only (repeatable; default: every language)",
    )
    args = parser.parse_args(argv)
    try:
        pages = build_slides(args.out, langs=args.lang)
    except (SlideBuildError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for page in pages:
        print(page)
    for line in untranslated(args.lang):
        print(f"in English: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
