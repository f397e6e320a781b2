"""What a bundle tells its ``run_autograder``: the lab, the notebook to expect, visibilities.

Written into the zip by ``bundle`` as ``course-autograder.json``, read back by ``autograder``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from course.i18n import SOURCE_LANG, available

#: Gradescope's visibility values, from least to most shown
#: (https://gradescope-autograders.readthedocs.io/en/latest/specs/#controlling-test-case-visibility).
VISIBILITIES = ("hidden", "after_published", "after_due_date", "visible")
CONFIG_NAME = "course-autograder.json"
ROOT_VARIABLE = "COURSE_AUTOGRADER_ROOT"
DEFAULT_ROOT = Path("/autograder")


@dataclass(frozen=True, kw_only=True)
class AutograderConfig:
    """One lab's autograder settings.

    ``notebook``: the file name students submit (None: whichever single notebook is there);
    ``visibility``: when students see the checks and the score; ``hints``: when they see the
    hints of checks they did not pass; ``version``: the kit's version ``setup.sh`` installs;
    ``wheel``: the kit's wheel in the bundle (None: installed from PyPI); ``lang``: the
    language of the feedback in ``results.json`` (``en``, or one ``course.i18n`` speaks: a
    bundle's own, whatever ``COURSE_LANG`` the autograder's container has).
    """

    lab: str
    version: str
    notebook: str | None = None
    visibility: str = "visible"
    hints: str = "visible"
    wheel: str | None = None
    lang: str = SOURCE_LANG

    def __post_init__(self) -> None:
        for name in ("visibility", "hints"):
            if getattr(self, name) not in VISIBILITIES:
                raise ValueError(f"{name} must be one of {', '.join(VISIBILITIES)}")
        if self.lang not in available():
            raise ValueError(f"lang must be one of {', '.join(available())}, not {self.lang!r}")

    def to_json(self) -> str:
        """The config file's text."""
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> AutograderConfig:
        """The config a bundle holds at ``path``."""
        return cls(**json.loads(path.read_text()))


def autograder_root() -> Path:
    """Gradescope's ``/autograder``, or where ``COURSE_AUTOGRADER_ROOT`` moves it."""
    return Path(os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT)
