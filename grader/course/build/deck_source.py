"""The text of a slide deck's source: front matter, slides, speaker notes, and what a slide
refers to (its diagrams, its ``Lab:`` lines, its CSS classes).

The rules of the source format are in ``slides/README.md``; ``course.build.slides`` renders a
deck, ``course.build.slide_translations`` pairs a translated deck's slides with the English ones.
"""

from __future__ import annotations

import re
from pathlib import Path

SLIDE_SEPARATOR = re.compile(r"^---\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
NOTE_MARKER = re.compile(r"^Note:\s*(.*)$")
LAB_LINE = re.compile(r"^Lab:\s*(.+?)\s*$")
SLIDE_ATTRS = re.compile(r"^<!--\s*\.slide:\s*class=\"([\w -]+)\"\s*-->\s*$")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)|<img\b[^>]*\bsrc=\"([^\"]+)\"")


class SlideBuildError(ValueError):
    """A deck source breaks a rule of the build (missing notes, unknown lab, broken image...)."""


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


def references(source: str) -> dict[str, list[str]]:
    """What a slide source points at, whatever its language: the images it shows, the labs its
    ``Lab:`` lines name, and its slide classes (a translation must keep them all)."""
    content, _notes = split_notes(source)
    classes, content = slide_classes(content)
    labs = [
        lab.strip()
        for line in content.splitlines()
        if (match := LAB_LINE.match(line))
        for lab in match.group(1).split(",")
    ]
    images = [a or b for a, b in IMAGE.findall(content)]
    return {"images": images, "labs": labs, "classes": classes.split()}


def repo_slides_dir() -> Path:
    """Return the repository's ``slides/`` folder, at the top of the checkout.

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
