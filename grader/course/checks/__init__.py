"""The labs' checks: one module ``labs/labNN.py`` per lab, each check a function with ``@check``."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from course.checks import labs
from course.checks.api import Check, checks_in


class UnknownLab(LookupError):
    """No lab has that id."""


def normalize_lab(lab: str | int) -> str:
    """'1', 1, '01', 'lab01' and '01-sqs-basics' all name lab '01'."""
    match = re.match(r"^(?:lab)?(\d{1,2})(?:[-_].*)?$", str(lab).strip().lower())
    if not match:
        raise UnknownLab(f"{lab!r} is not a lab id; use a number such as 01")
    return f"{int(match[1]):02d}"


def available_labs() -> list[str]:
    """The ids of the labs that have checks, sorted."""
    return sorted(
        info.name[3:]
        for info in pkgutil.iter_modules(labs.__path__)
        if re.fullmatch(r"lab\d\d", info.name)
    )


def lab_module(lab: str | int) -> ModuleType:
    """The checks module of a lab."""
    lab_id = normalize_lab(lab)
    if lab_id not in available_labs():
        known = ", ".join(available_labs())
        raise UnknownLab(f"there is no lab {lab_id}; the labs with checks are {known}")
    return importlib.import_module(f"{labs.__name__}.lab{lab_id}")


def lab_checks(lab: str | int) -> list[Check]:
    """The checks of a lab, in order."""
    return checks_in(lab_module(lab))


def answer_names(lab: str | int) -> list[str]:
    """The notebook variables a lab's answer checks read."""
    return list(getattr(lab_module(lab), "ANSWERS", []))
