"""The filing rule of ``grader/course`` holds: layers, no cycles, one client, one reader.

The layers and cycles are import-linter contracts in ``pyproject.toml`` (the map is in
``grader/docs/README.md``); the rest are read from the source here.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "grader" / "course"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

#: Modules that may read ``COURSE_*`` variables, and why. Where calls go is the connection's
#: alone; the rest configure a process the kit itself starts.
COURSE_VARIABLE_READERS = {
    "connection.py": "where this process's AWS calls go",
    "backend/process.py": "where the student's shared backend keeps its address",
    "backend/core/server.py": "the admin token the starting process gives its backend",
    "backend/awslambda/runtime.py": "the limits the grader gives Lambda sandboxes",
    "i18n.py": "the language check() and the feedback speak (COURSE_LANG)",
}


def _lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT / "grader")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("checks/api.py", "from course.backend.sqs import limits", "backend's internals"),
        ("backend/core/clock.py", "from course.backend.sqs import fifo", "The backend"),
        ("rules/filter_policy.py", "from course.checks import api", "Layers"),
        ("checks/readers/sqs.py", "import moto", "Only the backend imports moto"),
        ("checks/readers/sqs.py", "from course.checks.labs import lab01", "No import cycles"),
    ],
)
def test_a_broken_rule_fails_the_contracts(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """Each contract can fail: plant one import that breaks it in a copy of the package."""
    copy = tmp_path / "course"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text() + f"\n{line}  # planted by the test\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


def _sources() -> list[tuple[str, ast.Module]]:
    return [
        (path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text()))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def _reads_course_variable(node: ast.AST) -> bool:
    """``os.environ.get("COURSE_…")``, ``os.environ["COURSE_…"]`` or ``os.getenv("COURSE_…")``."""
    key: ast.expr | None = None
    if isinstance(node, ast.Call) and node.args:
        func = ast.unparse(node.func)
        if func in ("os.environ.get", "environ.get", "os.getenv"):
            key = node.args[0]
    elif (
        isinstance(node, ast.Subscript)
        and isinstance(node.ctx, ast.Load)
        and ast.unparse(node.value) in ("os.environ", "environ")
    ):
        key = node.slice
    return (
        isinstance(key, ast.Constant)
        and isinstance(key.value, str)
        and key.value.startswith("COURSE_")
    )


def test_only_the_connection_reads_where_calls_go() -> None:
    readers = {
        name for name, tree in _sources() for node in ast.walk(tree) if _reads_course_variable(node)
    }
    assert readers <= set(COURSE_VARIABLE_READERS), readers - set(COURSE_VARIABLE_READERS)
    assert "connection.py" in readers  # the scan does find reads


def test_only_the_client_calls_the_backends_own_api() -> None:
    """No module but ``course/client.py`` builds a ``/_course/`` request (the backend's own
    pages, which serve these paths, are the other side of it)."""
    callers = {
        name
        for name, tree in _sources()
        if not name.startswith("backend/")
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("/_course/")
    } | {
        name
        for name, tree in _sources()
        if not name.startswith("backend/")
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr) and "/_course/" in ast.unparse(node)
    }
    assert callers == {"client.py"}, callers
