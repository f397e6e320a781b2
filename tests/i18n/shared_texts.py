"""The English texts the kit's shared code shows a student, found by reading that code.

"Shared" code is the code every lab runs: the checks' readers and helpers (their reasons),
``connect()``, ``check()``, lab 02's timeline, and the grader's execution, refusal and report
messages. Its
texts are found in the source (an AST scan), as the catalogue's msgids: an f-string or a
concatenation is a template whose non-literal parts read ``{their source}``
(``course.build.check_texts.template``), which is how ``course.i18n`` matches them.

What counts as a text a student reads:
- the message of ``NotAttempted``, ``CheckFailed``, ``NotCheckable`` and ``AssertionError``;
- ``CellProblem``'s message, and ``Refused``'s summary and reason;
- a string assigned to a ``summary``, ``reason`` or ``message`` (a name or an attribute), or
  added to one with ``+=`` (then ``{<target>}`` starts the msgid);
- the text in ``_(...)`` and ``N_(...)``;
- the values of a dict literal in a ``return`` of a function listed in ``BUILDERS`` (a table
  of messages picked by key, as ``course.sandbox.limits.breach_message``).
A text with no letters outside its placeholders (``{error}``, an exception as Python wrote
it) is no text to translate.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from types import ModuleType

from course.build.check_texts import template

#: The modules whose texts a student of any lab may read.
PACKAGES = ("course.checks.readers",)
MODULES = (
    "course.checks.api",
    "course.checks.answers",
    "course.checks.cells",
    "course.checks.context",
    "course.connection",
    "course.notebook.check",
    "course.notebook.mailbox",
    "course.notebook.timeline",
    "course.grading.execute",
    "course.grading.grade",
    "course.grading.reports",
    "course.grading.gradescope.autograder",
    "course.grading.gradescope.bundle",
    "course.sandbox.limits",
)
#: Calls whose arguments at these positions (or these keywords) are texts a student reads.
CALLS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "NotAttempted": ((0,), ()),
    "CheckFailed": ((0,), ()),
    "NotCheckable": ((0,), ()),
    "AssertionError": ((0,), ()),
    "CellProblem": ((2,), ("message",)),
    "Refused": ((1, 2), ("summary", "reason")),
    "_": ((0,), ()),
    "N_": ((0,), ()),
}
#: Names (or attributes) whose string value is a text a student reads.
TARGETS = {"summary", "reason", "message"}
#: Functions that return one of a table of messages: ``module: (function, ...)``.
BUILDERS = {"course.sandbox.limits": ("breach_message",)}


def modules() -> list[ModuleType]:
    """Every module scanned, imported."""
    names = list(MODULES)
    for package in PACKAGES:
        found = importlib.import_module(package)
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules(found.__path__)]
    return [importlib.import_module(name) for name in names]


def _is_text(node: ast.expr) -> bool:
    """A string, an f-string, or a concatenation of them."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_text(node.left) or _is_text(node.right)
    return False


def _texts(node: ast.expr | None) -> list[ast.expr]:
    """The text nodes of an expression: itself, or each side of an ``or`` or an ``if``."""
    if node is None:
        return []
    if isinstance(node, ast.BoolOp):
        return [t for v in node.values for t in _texts(v)]
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    return [node] if _is_text(node) else []


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _found_in(tree: ast.AST, builders: tuple[str, ...]) -> list[ast.expr | tuple[str, ast.expr]]:
    found: list[ast.expr | tuple[str, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in CALLS:
            positions, keywords = CALLS[_name(node.func)]  # type: ignore[index]
            found += [t for i in positions if i < len(node.args) for t in _texts(node.args[i])]
            found += [t for k in node.keywords if k.arg in keywords for t in _texts(k.value)]
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                pairs = (
                    zip(target.elts, node.value.elts, strict=False)
                    if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                    else [(target, node.value)]
                )
                found += [t for tg, v in pairs if _name(tg) in TARGETS for t in _texts(v)]
        elif isinstance(node, ast.AugAssign) and _name(node.target) in TARGETS:
            found += [("{" + ast.unparse(node.target) + "}", t) for t in _texts(node.value)]
        elif isinstance(node, ast.FunctionDef) and node.name in builders:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    for d in ast.walk(inner.value):
                        if isinstance(d, ast.Dict):
                            found += [t for v in d.values for t in _texts(v)]
    return found


def _msgid(found: ast.expr | tuple[str, ast.expr]) -> str:
    if isinstance(found, tuple):
        return found[0] + template(found[1])
    return template(found)


def _has_words(msgid: str) -> bool:
    return any(ch.isalpha() for ch in re.sub(r"\{[^{}]*\}", "", msgid))


def shared_texts() -> dict[str, list[str]]:
    """Every shared text a student may read, as a msgid, with the modules that show it."""
    texts: dict[str, list[str]] = {}
    for module in modules():
        tree = ast.parse(inspect.getsource(module))
        for found in _found_in(tree, BUILDERS.get(module.__name__, ())):
            msgid = _msgid(found)
            if _has_words(msgid):
                texts.setdefault(msgid, [])
                if module.__name__ not in texts[msgid]:
                    texts[msgid].append(module.__name__)
    return texts
