"""The catalog of labs: every lab resolved once into a ``Lab`` that the rest of the kit reads.

A lab is a solution notebook ``solutions/NN-slug.ipynb`` (with its student copy
``labs/NN-slug.ipynb``) and, when it is graded, a checks module ``course.checks.labs.labNN``
whose ``TITLE``, ``ANSWERS`` and ``@check`` functions say what it is called, which notebook
variables (and functions on hidden cases, ``course.checks.answers.AnswerCall``) it reads and
what it awards. Lab 00 (setup) has a notebook and no checks: it is in
the catalog, titled from its notebook's ``course`` metadata, and is not graded.

Where the kit runs without its project tree (an installed package, no ``solutions/``), the
catalog holds the graded labs alone, without notebook paths. Grading, ``check()``, reports,
``course labs``, the README's table of labs (a test compares them) and the slides' lab badges
all read the catalog; nothing else lists the labs.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from course.checks import labs as lab_modules
from course.checks.answers import AnswerCall
from course.checks.api import Check, checks_in

#: The kit's project tree (``solutions/``, ``labs/``), when the kit runs from a checkout.
PROJECT_ROOT = Path(__file__).resolve().parents[3]
LAB_SPELLING = re.compile(r"^(?:lab)?(\d{1,2})(?:[-_].*)?$")
NOTEBOOK_STEM = re.compile(r"^(\d\d)-[\w-]+$")
CHECKS_MODULE = re.compile(r"^lab(\d\d)$")


class UnknownLab(LookupError):
    """No lab has that id."""


@dataclass(frozen=True)
class Lab:
    """One lab of the course, as every part of the kit sees it.

    ``module`` is the import name of the lab's checks module (what pytest is given), None for a
    lab without checks. ``solution`` and ``notebook`` are the solution and the student copy
    when the project tree is present, else None (and ``slug`` is then the id alone).
    ``time_scale`` is how many times faster than the wall clock the grader runs the lab's time
    (its checks module's ``TIME_SCALE``; 1, real time, where it declares none).
    """

    id: str
    slug: str
    title: str
    checks: tuple[Check, ...] = field(default=(), repr=False)
    answer_names: tuple[str | AnswerCall, ...] = ()
    module: str | None = None
    solution: Path | None = None
    notebook: Path | None = None
    time_scale: float = 1.0

    @property
    def graded(self) -> bool:
        """Whether the lab has checks (and so can be graded and ``check()``-ed)."""
        return self.module is not None

    @property
    def max_points(self) -> float:
        """The points all of the lab's checks award together."""
        return sum(c.points for c in self.checks)


def normalize_lab(lab: str | int | Lab) -> str:
    """The two-digit id a lab is named by: '1', 1, '01', 'lab01' and '01-sqs-basics' all give
    '01'. Raises ``UnknownLab`` for a spelling that names no lab id at all."""
    if isinstance(lab, Lab):
        return lab.id
    match = LAB_SPELLING.match(str(lab).strip().lower())
    if not match:
        raise UnknownLab(f"{lab!r} is not a lab id; use a number such as 01")
    return f"{int(match[1]):02d}"


def resolve_lab(lab: str | int | Lab, *, graded: bool = True) -> Lab:
    """The lab ``lab`` names, in any spelling ``normalize_lab`` takes (a ``Lab`` is returned
    as it is), loaded once per process.

    With ``graded`` (the default, for grading and ``check()``) it must be a lab with checks;
    otherwise any lab of the catalog will do. Raises ``UnknownLab`` saying which labs there are.
    """
    if isinstance(lab, Lab) and (lab.graded or not graded):
        return lab
    lab_id = normalize_lab(lab)
    found = _load(lab_id) if lab_id in _lab_ids() else None
    if found is None or (graded and not found.graded):
        if graded:
            known = ", ".join(sorted(_checks_modules()))
            raise UnknownLab(f"there is no lab {lab_id}; the labs with checks are {known}")
        raise UnknownLab(f"there is no lab {lab_id}; the labs are {', '.join(_lab_ids())}")
    return found


def all_labs() -> tuple[Lab, ...]:
    """Every lab of the catalog, graded or not, in the order of their ids."""
    return tuple(_load(lab_id) for lab_id in _lab_ids())


def graded_lab_ids() -> list[str]:
    """The ids of the labs that have checks, sorted."""
    return [lab.id for lab in all_labs() if lab.graded]


@cache
def _checks_modules() -> dict[str, str]:
    """Lab id to the import name of its checks module, found without importing any."""
    found = {}
    for info in pkgutil.iter_modules(lab_modules.__path__):
        if match := CHECKS_MODULE.match(info.name):
            found[match[1]] = f"{lab_modules.__name__}.{info.name}"
    return found


@cache
def _solutions() -> dict[str, Path]:
    """Lab id to its solution notebook, from the project tree's ``solutions/`` if there is one."""
    folder = PROJECT_ROOT / "solutions"
    return {
        path.stem[:2]: path
        for path in sorted(folder.glob("*.ipynb"))
        if NOTEBOOK_STEM.match(path.stem)
    }


@cache
def _lab_ids() -> tuple[str, ...]:
    return tuple(sorted(set(_checks_modules()) | set(_solutions())))


@cache
def _load(lab_id: str) -> Lab:
    solution = _solutions().get(lab_id)
    lab = Lab(
        id=lab_id,
        slug=solution.stem if solution else lab_id,
        title="",
        solution=solution,
        notebook=PROJECT_ROOT / "labs" / solution.name if solution else None,
    )
    module_name = _checks_modules().get(lab_id)
    if module_name is None:
        assert solution is not None  # an id comes from a checks module or a notebook
        return replace(lab, title=_notebook_title(solution))
    module = importlib.import_module(module_name)
    return replace(
        lab,
        title=getattr(module, "TITLE", ""),
        checks=tuple(checks_in(module)),
        answer_names=tuple(getattr(module, "ANSWERS", ())),
        module=module_name,
        time_scale=float(getattr(module, "TIME_SCALE", 1.0)),
    )


def _notebook_title(path: Path) -> str:
    """The title in a notebook's ``course`` metadata (lab 00's, which has no checks module)."""
    metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    return str(metadata.get("course", {}).get("title", ""))
