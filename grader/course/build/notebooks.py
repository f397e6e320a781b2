"""Write the student notebooks (``labs/``) from the solution notebooks (``solutions/``).

Markers in a solution notebook, as in nbgrader and otter-grader:

- in a code cell, the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` become a
  stub that fails loudly (``raise NotImplementedError``), keeping the block's indentation;
- a Markdown cell's text between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->``
  becomes "*Write your answer here.*";
- a cell tagged ``solution-only`` is left out of the student copy.

Outputs, execution counts and all metadata but the kernel spec, the language and the kit's own
``course`` entry are dropped, so the build is byte-for-byte repeatable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course.i18n import N_, SOURCE_LANG, _

BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
MD_BLOCK = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->", re.S)
STUB_MESSAGE = N_("Your code here: see the instructions above.")
STUB = f'raise NotImplementedError("{STUB_MESSAGE}")'
YOUR_CODE = N_("YOUR CODE HERE")
ANSWER_HERE = N_("*Write your answer here.*")
KEPT_METADATA = ("kernelspec", "language_info", "course")


class MarkerError(ValueError):
    """A solution block is opened and never closed, or closed and never opened."""


def stub_code(source: str, where: str = "cell", lang: str = SOURCE_LANG) -> str:
    """Replace each solution block of a code cell with a failing stub (its comment and message
    in ``lang``)."""
    out: list[str] = []
    indent: str | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        if (match := BEGIN.match(line)) is not None:
            if indent is not None:
                raise MarkerError(f"{where}, line {number}: BEGIN SOLUTION inside another block")
            indent = match["indent"]
            out.append(f"{indent}# {_(YOUR_CODE, lang)}")
            out.append(f'{indent}raise NotImplementedError("{_(STUB_MESSAGE, lang)}")')
        elif END.match(line):
            if indent is None:
                raise MarkerError(f"{where}, line {number}: END SOLUTION without BEGIN")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise MarkerError(f"{where}: BEGIN SOLUTION is never closed")
    return "\n".join(out)


def clean(nb: NotebookNode) -> NotebookNode:
    """Drop outputs, execution counts, cell ids' churn and unlisted metadata, in place."""
    nb.metadata = {k: nb.metadata[k] for k in KEPT_METADATA if k in nb.metadata}
    for index, cell in enumerate(nb.cells):
        cell.metadata = {k: v for k, v in cell.metadata.items() if k == "tags" and v}
        cell.id = f"cell-{index:02d}"
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def student_copy(
    solution: NotebookNode, name: str = "notebook", lang: str = SOURCE_LANG
) -> NotebookNode:
    """The student notebook generated from a solution notebook (the stubs' words in ``lang``)."""
    nb = nbformat.from_dict(solution)
    cells = []
    for index, cell in enumerate(nb.cells):
        if "solution-only" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "code":
            cell.source = stub_code(cell.source, f"{name}, cell {index}", lang)
        elif cell.cell_type == "markdown":
            cell.source = MD_BLOCK.sub(_(ANSWER_HERE, lang), cell.source)
        cells.append(cell)
    nb.cells = cells
    return clean(nb)


def serialize(nb: NotebookNode) -> str:
    """The notebook as stored in git: nbformat's JSON with a final newline."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


@dataclass
class BuildResult:
    """What a build wrote (or, checking only, would write), left as it was, and found stale."""

    written: list[Path]
    unchanged: list[Path]
    stale: list[Path]  # in labs/ but without a solution


def build_labs(
    root: Path,
    *,
    check_only: bool = False,
    lang: str = SOURCE_LANG,
    prepare: Callable[[NotebookNode, str], NotebookNode] | None = None,
) -> BuildResult:
    """Generate ``labs/*.ipynb`` from ``solutions/*.ipynb`` under ``root``; for another
    language than English, ``labs/<lang>/*.ipynb`` from each solution as ``prepare(solution,
    file name)`` gives it (translated: ``course.build.translations``).

    With ``check_only`` nothing is written; ``written`` then lists what would change.
    """
    solutions, labs = root / "solutions", root / "labs"
    if lang != SOURCE_LANG:
        labs = labs / lang
    result = BuildResult([], [], [])
    sources = sorted(solutions.glob("*.ipynb"))
    for source in sources:
        solution = nbformat.read(source, as_version=4)
        if prepare is not None:
            solution = prepare(solution, source.name)
        text = serialize(student_copy(solution, source.name, lang))
        target = labs / source.name
        if target.exists() and target.read_text() == text:
            result.unchanged.append(target)
            continue
        result.written.append(target)
        if not check_only:
            labs.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    names = {s.name for s in sources}
    result.stale = sorted(p for p in labs.glob("*.ipynb") if p.name not in names)
    return result


def notebooks_with_outputs(paths: list[Path]) -> list[Path]:
    """Which of these notebooks are stored with outputs or execution counts."""
    dirty = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if any(c.cell_type == "code" and (c.outputs or c.execution_count) for c in nb.cells):
            dirty.append(path)
    return dirty
