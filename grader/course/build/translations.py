"""Translations of the lab notebooks: one file per notebook and language, keyed by cell id.

``solutions/i18n/<lang>/<notebook stem>.json`` maps a solution cell's id to
``{"source_sha": <sha256 of the English cell source it translates>, "source": <the translated
source, a string or a list of lines>}``. A translation whose ``source_sha`` is not the English
cell's any more is *stale*: it counts as missing and the English cell is used, until someone
translates the new English text.

A Markdown cell is translated whole. A code cell may differ from its English only in its
comments and in the messages a student reads: the strings ``print()`` shows, an exception's
message, an ``assert``'s message and docstrings (placeholders of an f-string may move; either
branch of ``"a" if c else "b"`` may change, the condition may not). Any other difference makes
the translation wrong (``code_differences`` says where), and the build refuses it.

A notebook may also print through helpers of its own (lab 02's ``log(name, text)``, lab 08's
``wait_until(done, limit, what)``) or pass a title to the kit's (``visibility_timeline(...,
title=...)``). Which of their arguments are messages cannot be read from the code safely (an
argument may as well be a queue name; proving a parameter is only ever printed would take a
data-flow analysis of the helper, and the kit's helpers are not in the notebook at all), so
the notebook *declares* them, one parameter each, in its metadata:
``"course": {"message_functions": ["log(text)", "visibility_timeline(title)"]}``. The
strings passed as a declared parameter count as messages: by keyword anywhere, and by position
where the notebook itself defines the function (at the top level of a code cell, which gives
the parameter's position). Nothing else widens: a string passed to any other
function or parameter (``QueueName=``, a declared function's other arguments, a call nested
inside a declared argument) must stay as it is.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import io
import json
import re
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course.build.notebooks import (
    BEGIN,
    END,
    STUB_MESSAGE,
    YOUR_CODE,
    BuildResult,
    build_labs,
    stub_code,
)

TRANSLATIONS = Path("solutions") / "i18n"
#: The key, in a notebook's ``course`` metadata, that declares its message parameters.
MESSAGE_FUNCTIONS = "message_functions"
_DECLARATION = re.compile(r"([A-Za-z_]\w*)\(([A-Za-z_]\w*)\)")


class TranslationError(ValueError):
    """A code cell's translation changes the code, or a translation file is malformed."""


def source_sha(source: str) -> str:
    """The fingerprint of an English cell's source that a translation records."""
    return hashlib.sha256(source.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One cell's translation."""

    source_sha: str
    source: str


def translation_file(root: Path, lang: str, notebook: str) -> Path:
    """Where the ``lang`` translation of solution ``notebook`` (a file name) lives."""
    return root / TRANSLATIONS / lang / f"{Path(notebook).stem}.json"


def languages(root: Path) -> list[str]:
    """The languages with a translation folder under ``solutions/i18n/``."""
    folder = root / TRANSLATIONS
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def load(path: Path) -> dict[str, Entry]:
    """The entries of one translation file (none if it does not exist)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        return {
            cell: Entry(
                str(value["source_sha"]),
                "".join(value["source"]) if isinstance(value["source"], list) else value["source"],
            )
            for cell, value in data.items()
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise TranslationError(f"{path}: not a translation file ({exc})") from None


def dump(entries: dict[str, Entry]) -> str:
    """A translation file's text: cells in the given order, sources as lists of lines."""
    data = {
        cell: {"source_sha": e.source_sha, "source": e.source.splitlines(keepends=True)}
        for cell, e in entries.items()
    }
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


# ------------------------------------------------------------------------- what a student reads


@dataclass(frozen=True)
class MessageParameter:
    """A declared message parameter: ``function(parameter)``, at ``position`` among the
    function's parameters when the notebook defines it (None: passed by keyword only)."""

    function: str
    parameter: str
    position: int | None = None


Messages = tuple[MessageParameter, ...]


def message_parameters(nb: NotebookNode) -> Messages:
    """The message parameters notebook ``nb`` declares (``course.message_functions``), each
    with its position when a code cell defines the function at its top level;
    TranslationError for a declaration that is not ``function(parameter)``."""
    declared = nb.metadata.get("course", {}).get(MESSAGE_FUNCTIONS, [])
    if not isinstance(declared, list):
        raise TranslationError(f"{MESSAGE_FUNCTIONS} must be a list of 'function(parameter)'")
    defined: dict[str, list[str]] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
                defined.setdefault(node.name, names)
    found = []
    for text in declared:
        match = _DECLARATION.fullmatch(str(text).replace(" ", ""))
        if match is None:
            raise TranslationError(
                f"{MESSAGE_FUNCTIONS}: {text!r} is not 'function(parameter)', e.g. 'log(text)'"
            )
        function, parameter = match.groups()
        names = defined.get(function, [])
        position = names.index(parameter) if parameter in names else None
        found.append(MessageParameter(function, parameter, position))
    return tuple(found)


def _declared_arguments(call: ast.Call, messages: Messages) -> list[ast.expr]:
    """The arguments of ``call`` passed as a declared message parameter."""
    found = []
    for declared in messages:
        if not isinstance(call.func, ast.Name) or call.func.id != declared.function:
            continue
        found += [k.value for k in call.keywords if k.arg == declared.parameter]
        at = declared.position
        before = call.args[: (at or 0) + 1]
        if (
            at is not None
            and at < len(call.args)
            and not any(isinstance(a, ast.Starred) for a in before)
        ):
            found.append(call.args[at])
    return found


def _message_nodes(tree: ast.AST, messages: Messages = ()) -> list[ast.AST]:
    """The string nodes of messages a student reads: ``print()``'s arguments, exception and
    assert messages, docstrings, declared message parameters' arguments; concatenations of
    them, and both branches of a conditional expression, included."""
    found: list[ast.AST] = []

    def take(node: ast.AST) -> None:
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(
            node, ast.JoinedStr
        ):
            found.append(node)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            take(node.left)
            take(node.right)
        elif isinstance(node, ast.IfExp):
            take(node.body)
            take(node.orelse)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "print" or node.func.id.endswith(("Error", "Exception")):
                for arg in node.args:
                    take(arg)
            for arg in _declared_arguments(node, messages):
                take(arg)
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            for arg in node.exc.args:
                take(arg)
        elif isinstance(node, ast.Assert) and node.msg is not None:
            take(node.msg)
        if (
            isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        ):
            take(node.body[0].value)
    return found


def _comments(source: str) -> list[str]:
    """The comments of a code cell's source."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return [line.strip() for line in source.splitlines() if line.strip().startswith("#")]
    return [t.string for t in tokens if t.type == tokenize.COMMENT]


def _has_words(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _is_prose(comment: str) -> bool:
    """A comment in words, not a line of code commented out (``# sqs.delete_queue(...)``, or
    the first line of a block: ``# for url in urls:``)."""
    body = comment.lstrip("#").strip()
    for code in (body, body + "\n    pass"):
        try:
            ast.parse(code)
        except SyntaxError:
            continue
        return False
    return _has_words(body)


def readable_text(source: str, messages: Messages = ()) -> list[str]:
    """What a student reads in a code cell of the student copy (comments and messages, with
    the notebook's declared ``messages``; solution blocks and their generated stub left out)."""
    student = stub_code(source)
    texts = [
        c
        for c in _comments(student)
        if not BEGIN.match(c) and not END.match(c) and c != f"# {YOUR_CODE}" and _is_prose(c)
    ]
    try:
        tree = ast.parse(student)
    except SyntaxError:
        return texts
    for node in _message_nodes(tree, messages):
        parts = [node] if isinstance(node, ast.Constant) else node.values  # type: ignore[attr-defined]
        for part in parts:
            if (
                isinstance(part, ast.Constant)
                and isinstance(part.value, str)
                and part.value != STUB_MESSAGE
            ):
                texts.append(part.value)
    return [t for t in texts if _has_words(t)]


def needs_translation(cell: NotebookNode, messages: Messages = ()) -> bool:
    """Whether a solution cell holds text a student reads in the student copy (``messages``:
    its notebook's declared message parameters)."""
    if "solution-only" in cell.metadata.get("tags", []):
        return False
    if cell.cell_type == "markdown":
        return _has_words(cell.source)
    if cell.cell_type == "code":
        return bool(readable_text(cell.source, messages))
    return False


# ------------------------------------------------------------------------- same code


class _Blank(ast.NodeTransformer):
    """Blank the message strings (an f-string keeps its placeholders, sorted)."""

    def __init__(self, messages: list[ast.AST]) -> None:
        self.messages = {id(n) for n in messages}

    def visit(self, node: ast.AST) -> ast.AST:
        if id(node) in self.messages:
            if isinstance(node, ast.JoinedStr):
                values = [v for v in node.values if isinstance(v, ast.FormattedValue)]
                values.sort(key=ast.dump)
                return ast.JoinedStr(values=values)
            return ast.Constant(value="")
        return super().generic_visit(node)


def _normalised(source: str, messages: Messages) -> str:
    tree = ast.parse(source)
    return ast.dump(_Blank(_message_nodes(tree, messages)).visit(tree))


def _markers(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if BEGIN.match(line) or END.match(line)]


def code_differences(english: str, translated: str, messages: Messages = ()) -> list[str]:
    """How a code cell's translation differs from its English other than in comments and
    messages (``messages``: the notebook's declared message parameters); an empty list: the
    same code."""
    problems = []
    if _markers(english) != _markers(translated):
        problems.append("the solution markers differ")
    try:
        before = _normalised(english, messages)
    except SyntaxError:
        return problems if english == translated else [*problems, "not Python: must stay as is"]
    try:
        after = _normalised(translated, messages)
    except SyntaxError as exc:
        return [*problems, f"the translation is not valid Python ({exc.msg}, line {exc.lineno})"]
    if before != after:
        problems.append(
            "the code differs beyond comments and messages (print, exceptions, docstrings, "
            "declared message functions)"
        )
    return problems


def markdown_differences(english: str, translated: str) -> list[str]:
    """How a Markdown cell's translation breaks what the build relies on: its answer markers."""
    marks = ("<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->")
    if [english.count(m) for m in marks] != [translated.count(m) for m in marks]:
        return ["the answer markers differ"]
    return []


# ------------------------------------------------------------------------- apply and count


@dataclass
class Coverage:
    """Which cells of one notebook a language translates, misses, or translates stale."""

    notebook: str
    translated: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)  # translations of no cell that needs one

    @property
    def untranslated(self) -> int:
        """Cells a student reads in English: missing or stale."""
        return len(self.missing) + len(self.stale)


def coverage(solution: NotebookNode, entries: dict[str, Entry], name: str) -> Coverage:
    """How far ``entries`` translate the solution notebook ``name``."""
    result = Coverage(name)
    wanted = set()
    messages = message_parameters(solution)
    for cell in solution.cells:
        if not needs_translation(cell, messages):
            continue
        wanted.add(cell.id)
        entry = entries.get(cell.id)
        if entry is None:
            result.missing.append(cell.id)
        elif entry.source_sha != source_sha(cell.source):
            result.stale.append(cell.id)
        elif entry.source == cell.source:  # added by add_missing, not translated yet
            result.missing.append(cell.id)
        else:
            result.translated.append(cell.id)
    result.unused = sorted(set(entries) - wanted)
    return result


def translate(solution: NotebookNode, entries: dict[str, Entry], name: str) -> NotebookNode:
    """A copy of the solution notebook with every fresh translation applied (stale and missing
    cells stay English); TranslationError for a translation that changes the code."""
    nb = copy.deepcopy(solution)
    messages = message_parameters(solution)
    for cell in nb.cells:
        entry = entries.get(cell.id)
        if entry is None or entry.source_sha != source_sha(cell.source):
            continue
        if cell.cell_type == "code":
            problems = code_differences(cell.source, entry.source, messages)
        else:
            problems = markdown_differences(cell.source, entry.source)
        if problems:
            raise TranslationError(f"{name}, {cell.id}: " + "; ".join(problems))
        cell.source = entry.source
    return nb


def status(root: Path, lang: str) -> list[Coverage]:
    """The coverage of every solution notebook in ``lang``."""
    found = []
    for path in sorted((root / "solutions").glob("*.ipynb")):
        solution = nbformat.read(path, as_version=4)
        found.append(coverage(solution, load(translation_file(root, lang, path.name)), path.name))
    return found


def add_missing(root: Path, lang: str, notebook: str) -> int:
    """Add each missing or stale cell of ``notebook`` to its translation file with the English
    source and its current sha (stale ones keep their old text), for a translator to edit;
    the number of cells added. An entry whose text is still the English counts as missing."""
    path = root / "solutions" / notebook
    solution = nbformat.read(path, as_version=4)
    target = translation_file(root, lang, notebook)
    entries = load(target)
    report = coverage(solution, entries, notebook)
    todo = set(report.missing) | set(report.stale)
    merged: dict[str, Entry] = {}
    for cell in solution.cells:
        if cell.id in todo:
            old = entries.get(cell.id)
            merged[cell.id] = Entry(source_sha(cell.source), old.source if old else cell.source)
        elif cell.id in entries:
            merged[cell.id] = entries[cell.id]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dump(merged))
    return len(todo)


def build_translated(root: Path, lang: str, *, check_only: bool = False) -> BuildResult:
    """Write ``labs/<lang>/`` from the solutions and their ``lang`` translations (stale and
    missing cells in English); TranslationError for a translation that changes the code."""

    def prepare(solution: NotebookNode, name: str) -> NotebookNode:
        return translate(solution, load(translation_file(root, lang, name)), name)

    return build_labs(root, check_only=check_only, lang=lang, prepare=prepare)


def _main(argv: list[str]) -> int:
    """``python -m course.build.translations LANG [NOTEBOOK]``: the status of LANG's notebook
    translations; with NOTEBOOK (a file name in solutions/), add its missing cells in English."""
    root = Path(__file__).resolve().parents[3]  # the kit's own checkout
    if not argv:
        print(__doc__)
        return 2
    lang = argv[0]
    if len(argv) > 1:
        print(f"{add_missing(root, lang, argv[1])} cell(s) to translate added")
        return 0
    for c in status(root, lang):
        print(
            f"{c.notebook:<40} translated {len(c.translated):>3}  missing {len(c.missing):>3}"
            f"  stale {len(c.stale):>3}" + (f"  unused {', '.join(c.unused)}" if c.unused else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
