"""Mutation testing of the pure rule modules: do their unit tests catch a wrong rule?

    python tests/benchmarks/mutation.py [--modules filter_policy,resource_policy,ses_review]
        [--show-survivors] [--json] [--mutmut-venv DIR] [--work DIR] [--max-children N]

For each module of ``grader/course/rules`` named (default: the filter policies, the resource
policies and the SES reviewer), the tool changes the code one small edit at a time (a mutant:
``<`` for ``<=``, ``and`` for ``or``, a number plus one, a string altered, a call's argument
dropped...), runs the module's own pure unit tests (``tests/rules/test_<module>.py``: no backend,
no server, a few seconds) against each mutant, and counts the mutants the tests *kill* (some test
fails) and those that *survive* (every test still passes: a wrong rule the tests cannot see). It
prints killed / survived / total per module and the score, killed ÷ (total - skipped); with
``--show-survivors`` the diff of every survivor. The goal (issue 14) is at least 90% per module.
Not a test: nothing here asserts; it prints figures to quote.

**The tool: mutmut 3.x** (https://mutmut.readthedocs.io). It is the best-kept of the Python
mutation tools (cosmic-ray needs a session database and a separate worker setup; mutatest and
mutpy are unmaintained), it mutates inside functions through trampolines, so one test process
serves every mutant (each module takes 20 s to a minute on two cores), and it records which
tests reach which function, so each mutant only runs the tests that can see it. Code that runs
at import (the SES reviewer's ``_any`` and ``_mentions``, which build its patterns) is mutated but
no test can switch those mutants on, so they always survive (``tests/benchmarks/README.md`` lists
every mutant left and why).

**mutmut is a benchmark-only tool.** It lives in its own virtualenv (default
``~/.cache/aws-course-bench/mutmut-venv``), created on first use with ``pip install mutmut pytest``
and reused while it imports mutmut 3; it is not a dependency of the kit. That venv does not hold
the kit: the rule modules import only the standard library, so nothing else is needed.

**Why a staging folder.** mutmut 3 copies the sources it mutates to ``mutants/`` and puts
``mutants/``, ``mutants/src`` or ``mutants/source`` first on ``sys.path``; the kit's package is
``grader/course`` (installed editable), which fits none of these, and ``tests/conftest.py``
imports the backend. So, per module, the script lays out a small project in ``--work`` (default a
temporary folder): ``src/course/__init__.py`` (empty), ``src/course/rules/<module>.py`` copied from
the work tree, ``tests/rules/test_<module>.py`` copied, and a ``pyproject.toml`` whose
``[tool.mutmut]`` says ``source_paths = ["src"]`` and selects ``tests/rules``. The tests import
``course.rules.<module>`` as they do in the kit, and get the mutated copy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "grader" / "course" / "rules"
TESTS = ROOT / "tests" / "rules"
MODULES = ("filter_policy", "resource_policy", "ses_review")
DEFAULT_VENV = Path.home() / ".cache" / "aws-course-bench" / "mutmut-venv"
GOAL = 0.90
PYPROJECT = """\
[tool.mutmut]
source_paths = ["src"]
pytest_add_cli_args_test_selection = ["tests/rules"]
use_git_change_detection = false

[tool.pytest.ini_options]
testpaths = ["tests"]
"""
RESULT = re.compile(r"^\s*(?P<name>\S+): (?P<status>.+?)\s*$")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_mutmut_venv(venv: Path) -> str:
    """Make ``venv`` (or check the one there) and return its mutmut version."""
    python = venv / "bin" / "python"
    probe = "import importlib.metadata as m, pytest, mutmut; print(m.version('mutmut'))"

    def installed() -> str | None:
        if not python.exists():
            return None
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True)
        version = done.stdout.strip()
        return version if done.returncode == 0 and version.startswith("3.") else None

    version = installed()
    if version:
        log(f"reusing mutmut {version} in {venv}")
        return version
    log(f"creating {venv} and installing mutmut 3 and pytest into it (pip) ...")
    if not python.exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "mutmut>=3,<4", "pytest"], check=True
    )
    version = installed()
    if not version:
        raise SystemExit(f"{venv} still cannot import mutmut 3 and pytest")
    return version


@dataclass
class ModuleRun:
    """One module's mutants: status per mutant name, and the survivors' diffs."""

    module: str
    statuses: dict[str, str] = field(default_factory=dict)
    diffs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.statuses.values())

    @property
    def killed(self) -> int:
        return self.counts["killed"] + self.counts["timeout"]

    @property
    def tested(self) -> int:
        return len(self.statuses) - self.counts["skipped"]

    @property
    def score(self) -> float:
        return self.killed / self.tested if self.tested else 0.0

    @property
    def survivors(self) -> list[str]:
        """Every mutant not killed: survived, no test reached it, suspicious... (not skipped)."""
        alive = (n for n, s in self.statuses.items() if s not in ("killed", "timeout", "skipped"))
        return sorted(alive, key=_natural)


def _natural(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def stage(module: str, work: Path) -> Path:
    """A small project in which mutmut can mutate ``course.rules.<module>`` (see the docstring)."""
    project = work / module
    shutil.rmtree(project, ignore_errors=True)
    (project / "src" / "course" / "rules").mkdir(parents=True)
    (project / "tests" / "rules").mkdir(parents=True)
    (project / "src" / "course" / "__init__.py").write_text("")
    (project / "src" / "course" / "rules" / "__init__.py").write_text("")
    shutil.copy2(RULES / f"{module}.py", project / "src" / "course" / "rules")
    (project / "tests" / "__init__.py").write_text("")
    (project / "tests" / "rules" / "__init__.py").write_text("")
    shutil.copy2(TESTS / f"test_{module}.py", project / "tests" / "rules")
    (project / "pyproject.toml").write_text(PYPROJECT)
    return project


def mutate(module: str, venv: Path, work: Path, max_children: int, show: bool) -> ModuleRun:
    """Run mutmut on one staged module and read back every mutant's status."""
    project = stage(module, work)
    mutmut = str(venv / "bin" / "mutmut")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    started = time.perf_counter()
    done = subprocess.run(
        [mutmut, "run", "--max-children", str(max_children)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    run = ModuleRun(module, seconds=time.perf_counter() - started)
    if done.returncode != 0:
        log(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"mutmut run failed for {module} (exit {done.returncode})")
    listed = subprocess.run(
        [mutmut, "results", "--all", "true"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in listed.stdout.splitlines():
        found = RESULT.match(line)
        if found:
            run.statuses[found["name"]] = found["status"]
    if show:
        for name in run.survivors:
            diff = subprocess.run(
                [mutmut, "show", name], cwd=project, env=env, capture_output=True, text=True
            )
            run.diffs[name] = diff.stdout.strip()
    return run


def report(runs: list[ModuleRun], show: bool) -> None:
    width = max(len(r.module) for r in runs)
    print(f"{'module':<{width}}  killed  survived  total  score   goal {GOAL:.0%}")
    for r in runs:
        met = "met" if r.score >= GOAL else "NOT met"
        print(
            f"{r.module:<{width}}  {r.killed:>6}  {len(r.survivors):>8}  {len(r.statuses):>5}  "
            f"{r.score:>5.1%}  {met}  ({r.seconds:.0f} s)"
        )
    if not show:
        return
    for r in runs:
        print(f"\n## {r.module}: {len(r.survivors)} not killed\n")
        for name in r.survivors:
            print(f"# {name}: {r.statuses[name]}")
            print(r.diffs.get(name, "").split("\n", 1)[-1] if name in r.diffs else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--modules",
        default=",".join(MODULES),
        help="comma-separated modules of course.rules (default: %(default)s)",
    )
    parser.add_argument(
        "--show-survivors",
        action="store_true",
        help="print the diff of every mutant the tests did not kill",
    )
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    parser.add_argument(
        "--mutmut-venv",
        type=Path,
        default=DEFAULT_VENV,
        help="mutmut's own virtualenv (default: %(default)s)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="where to stage the modules (default: a temporary folder)",
    )
    parser.add_argument(
        "--max-children",
        type=int,
        default=os.cpu_count() or 2,
        help="mutants tested in parallel (default: the number of cores)",
    )
    args = parser.parse_args()
    modules = [m.strip() for m in args.modules.split(",") if m.strip()]
    for module in modules:
        if not (RULES / f"{module}.py").exists() or not (TESTS / f"test_{module}.py").exists():
            raise SystemExit(f"no grader/course/rules/{module}.py or tests/rules/test_{module}.py")
    venv = args.mutmut_venv.expanduser()
    version = ensure_mutmut_venv(venv)
    temporary = None if args.work else tempfile.TemporaryDirectory(prefix="mutation-")
    work = args.work.expanduser() if args.work else Path(temporary.name)
    try:
        runs = []
        for module in modules:
            log(f"mutmut {version}: mutating course.rules.{module} ...")
            runs.append(mutate(module, venv, work, args.max_children, args.show_survivors))
    finally:
        if temporary:
            temporary.cleanup()
    if args.json:
        figures = {
            r.module: {
                "killed": r.killed,
                "survived": len(r.survivors),
                "total": len(r.statuses),
                "score": round(r.score, 4),
                "statuses": dict(r.counts),
                "survivors": r.survivors,
            }
            for r in runs
        }
        print(json.dumps({"mutmut": version, "modules": figures}, indent=2))
        return
    report(runs, args.show_survivors)


if __name__ == "__main__":
    main()
