"""The labs' checks: how a check is declared (``api``), what it reads (``context``, ``readers``),
one module ``labs/labNN.py`` per graded lab, and the catalog that resolves a lab (``catalog``).

Everything that needs a lab asks ``course.checks.catalog.resolve_lab`` or ``all_labs``; the two
functions below only keep older tests' spelling of the same questions.
"""

from __future__ import annotations

from course.checks.api import Check
from course.checks.catalog import all_labs, resolve_lab


def available_labs() -> list[str]:
    """The ids of the labs that have checks, sorted."""
    return [lab.id for lab in all_labs() if lab.graded]


def lab_checks(lab: str | int) -> list[Check]:
    """The checks of a lab, in the order they are written (``UnknownLab`` if it has none)."""
    return list(resolve_lab(lab).checks)
