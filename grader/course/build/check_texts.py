"""The English texts of a lab's checks that a student reads, as the catalogue's msgids.

Statements and hints come from each ``@check``; reasons from the ``raise`` statements of the
lab's module (``CheckFailed``, ``NotAttempted``, ``NotCheckable``, ``AssertionError``). A
reason built from an f-string or a concatenation becomes a template: each part that is not
literal text reads ``{its source}``, as ``course.i18n`` matches it (``{len(sent)} message(s)
sent``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
from types import ModuleType

from course.checks.catalog import Lab

REASONS = {"CheckFailed", "NotAttempted", "NotCheckable", "AssertionError"}


def template(node: ast.expr) -> str:
    """The msgid of a message expression: its literal text, ``{source}`` for the rest."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"  # type: ignore[attr-defined]
            for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return template(node.left) + template(node.right)
    return "{" + ast.unparse(node) + "}"


def reasons(module: ModuleType) -> list[str]:
    """The reasons the module's ``raise`` statements give, as msgids, in source order."""
    found: list[str] = []
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if (
            isinstance(node, ast.Raise)
            and isinstance(node.exc, ast.Call)
            and isinstance(node.exc.func, ast.Name)
            and node.exc.func.id in REASONS
            and node.exc.args
        ):
            text = template(node.exc.args[0])
            if text not in found:
                found.append(text)
    return found


def check_texts(lab: Lab) -> list[str]:
    """Every text of lab ``lab``'s checks a student reads: statements, hints, reasons (none for
    a lab without checks)."""
    if lab.module is None:
        return []
    texts: list[str] = []
    for c in lab.checks:
        texts += [c.statement, c.hint]
    texts += reasons(importlib.import_module(lab.module))
    return list(dict.fromkeys(texts))
