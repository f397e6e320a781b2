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
from pathlib import Path
from types import ModuleType

import jinja2
from markdown_it import MarkdownIt

from course.checks.catalog import Lab, all_labs

SLIDE_SEPARATOR = re.compile(r"^---\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
NOTE_MARKER = re.compile(r"^Note:\s*(.*)$")
LAB_LINE = re.compile(r"^Lab:\s*(.+?)\s*$")
SLIDE_ATTRS = re.compile(r"^<!--\s*\.slide:\s*class=\"([\w -]+)\"\s*-->\s*$")
LOCAL_REF = re.compile(r"""\b(?:src|href)="([^"#:]+)(?:#[^"]*)?\"""")
REMOTE_SRC = re.compile(r"""\bsrc="((?:https?:)?//[^"]*)\"""")


class SlideBuildError(ValueError):
    """A deck source breaks a rule of the build (missing notes, unknown lab, broken image...)."""


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


def repo_slides_dir() -> Path:
    """Return the repository's ``slides/`` folder, two levels above this package.

    Falls back to searching upwards from the current directory, for an installed package run
    from inside a checkout.
    """
    candidates = [Path(__file__).resolve().parents[3] / "slides"]
    cwd = Path.cwd().resolve()
    candidates += [parent / "slides" for parent in (cwd, *cwd.parents)]
    for candidate in candidates:
        if (candidate / "src" / "decks").is_dir():
            return candidate
    raise FileNotFoundError("cannot find slides/src/decks; run from inside the course repository")


def markdown_renderer() -> MarkdownIt:
    """Return the Markdown renderer: CommonMark plus tables and strikethrough, raw HTML allowed."""
    return MarkdownIt("commonmark", {"html": True, "typographer": True}).enable(
        ["table", "strikethrough", "replacements", "smartquotes"]
    )


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split ``---``-fenced ``key: value`` front matter from the start of a deck source."""
    lines = text.splitlines()
    if not lines or not SLIDE_SEPARATOR.match(lines[0]):
        return {}, text
    for end, line in enumerate(lines[1:], start=1):
        if SLIDE_SEPARATOR.match(line):
            meta = {}
            for entry in lines[1:end]:
                if entry.strip():
                    key, sep, value = entry.partition(":")
                    if not sep:
                        raise SlideBuildError(f"front matter line without a colon: {entry!r}")
                    meta[key.strip()] = value.strip()
            return meta, "\n".join(lines[end + 1 :])
    raise SlideBuildError("front matter is not closed by a --- line")


def split_slides(body: str) -> list[str]:
    """Split a deck body into slide sources on ``---`` lines that are outside code fences."""
    chunks: list[list[str]] = [[]]
    in_fence = False
    for line in body.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and SLIDE_SEPARATOR.match(line):
            chunks.append([])
        else:
            chunks[-1].append(line)
    texts = ("\n".join(chunk).strip() for chunk in chunks)
    return [text for text in texts if text]


def split_notes(source: str) -> tuple[str, str]:
    """Split one slide source into (content, speaker notes) at its ``Note:`` line."""
    lines = source.splitlines()
    for index, line in enumerate(lines):
        match = NOTE_MARKER.match(line)
        if match:
            notes = "\n".join([match.group(1), *lines[index + 1 :]]).strip()
            return "\n".join(lines[:index]).strip(), notes
    return source.strip(), ""


def labs_by_slug() -> dict[str, Lab]:
    """The labs a ``Lab:`` line may name, by the name of their notebook (``01-sqs-basics``)."""
    return {lab.slug: lab for lab in all_labs() if lab.notebook is not None}


def lab_badge(ids: str) -> str:
    """Render a ``Lab:`` line (comma-separated lab ids) as the HTML badge naming the notebooks."""
    labs = labs_by_slug()
    parts = []
    for lab_id in (part.strip() for part in ids.split(",")):
        if lab_id not in labs:
            raise SlideBuildError(f"unknown lab id {lab_id!r}; known: {', '.join(labs)}")
        parts.append(
            f'<span class="lab-ref"><code>labs/{lab_id}.ipynb</code> '
            f'<span class="lab-title">{labs[lab_id].title}</span></span>'
        )
    return '<p class="lab">Practise it: ' + " ".join(parts) + "</p>"


def expand_lab_lines(content: str) -> str:
    """Replace each ``Lab:`` line of a slide source with its HTML badge."""
    out = []
    for line in content.splitlines():
        match = LAB_LINE.match(line)
        out.append(f"\n{lab_badge(match.group(1))}\n" if match else line)
    return "\n".join(out)


def slide_classes(content: str) -> tuple[str, str]:
    """Pop a ``<!-- .slide: class="..." -->`` line from a slide source; return (classes, rest)."""
    classes, kept = [], []
    for line in content.splitlines():
        match = SLIDE_ATTRS.match(line)
        if match:
            classes.append(match.group(1))
        else:
            kept.append(line)
    return " ".join(classes), "\n".join(kept)


def parse_slide(source: str, md: MarkdownIt, where: str) -> Slide:
    """Render one slide source; every slide must have speaker notes."""
    content, notes = split_notes(source)
    if not notes:
        raise SlideBuildError(f"{where}: no speaker notes (add a 'Note:' line)")
    classes, content = slide_classes(content)
    html = md.render(expand_lab_lines(content))
    return Slide(html=html, notes=md.render(notes), classes=classes)


def parse_deck(path: Path, md: MarkdownIt | None = None) -> Deck:
    """Parse one deck source file into a :class:`Deck`."""
    md = md or markdown_renderer()
    meta, body = split_front_matter(path.read_text(encoding="utf-8"))
    if "title" not in meta:
        raise SlideBuildError(f"{path.name}: front matter needs a 'title:'")
    sources = split_slides(body)
    if not sources:
        raise SlideBuildError(f"{path.name}: no slides")
    slides = [parse_slide(src, md, f"{path.name} slide {i}") for i, src in enumerate(sources, 1)]
    first = slides[0]
    slides[0] = Slide(first.html, first.notes, (first.classes + " title-slide").strip())
    return Deck(
        name=path.stem,
        title=meta["title"],
        subtitle=meta.get("subtitle", ""),
        order=int(meta.get("order", "100")),
        slides=tuple(slides),
    )


def load_decks(src_dir: Path) -> list[Deck]:
    """Parse every ``decks/*.md`` under ``src_dir``, sorted by front-matter ``order`` then name."""
    md = markdown_renderer()
    decks = [parse_deck(path, md) for path in sorted((src_dir / "decks").glob("*.md"))]
    if not decks:
        raise SlideBuildError(f"no decks in {src_dir / 'decks'}")
    return sorted(decks, key=lambda deck: (deck.order, deck.name))


def load_diagrams(src_dir: Path) -> dict[str, Callable[[], str]]:
    """Import ``src_dir/diagrams.py`` and return its ``DIAGRAMS`` mapping (empty if absent)."""
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
    return dict(module.DIAGRAMS)


def write_diagrams(src_dir: Path, out_dir: Path) -> list[Path]:
    """Draw every diagram of ``src_dir/diagrams.py`` to ``out_dir/diagrams/<name>.svg``."""
    target = out_dir / "diagrams"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in sorted(load_diagrams(src_dir).items()):
        path = target / f"{name}.svg"
        path.write_text(draw(), encoding="utf-8")
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


def build_slides(out_dir: Path | None = None, *, src_dir: Path | None = None) -> list[Path]:
    """Build every deck to ``out_dir`` (default ``slides/build``); return the deck HTML paths.

    ``src_dir`` defaults to ``slides/src``; the vendored reveal.js is read from the ``vendor/``
    folder beside it. Raises :class:`SlideBuildError` when a source breaks a rule.
    """
    slides_dir = src_dir.parent if src_dir else repo_slides_dir()
    src_dir = src_dir or slides_dir / "src"
    out_dir = Path(out_dir) if out_dir else slides_dir / "build"
    out_dir.mkdir(parents=True, exist_ok=True)
    decks = load_decks(src_dir)
    copy_assets(slides_dir, src_dir, out_dir)
    write_diagrams(src_dir, out_dir)
    env = template_env(src_dir)
    pages = []
    for deck in decks:
        html = env.get_template("deck.html.j2").render(deck=deck)
        check_references(html, out_dir, f"{deck.name}.md")
        page = out_dir / f"{deck.name}.html"
        page.write_text(html, encoding="utf-8")
        pages.append(page)
    index = env.get_template("index.html.j2").render(decks=decks)
    check_references(index, out_dir, "index.html")
    (out_dir / "index.html").write_text(index, encoding="utf-8")
    return pages


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m course.build.slides [--out DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m course.build.slides",
        description="Build the course slide decks (slides/src) into self-contained HTML.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output folder (default: slides/build)",
    )
    args = parser.parse_args(argv)
    try:
        pages = build_slides(args.out)
    except (SlideBuildError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for page in pages:
        print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
