"""Build a lab's Gradescope autograder zip: ``setup.sh``, ``run_autograder``, the config, and by
default the kit's own wheel.

The wheel goes in the zip by default: the kit is not on PyPI yet, and a bundled wheel installs
offline and pins the exact version that built the bundle. It is built from the kit's source
tree (``pip wheel --no-deps``), or given (``wheel``); ``from_pypi`` bundles none, and
``setup.sh`` then installs ``aws-messaging-course==<version>``. The dependencies come from PyPI
either way, when Gradescope builds the image.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path

import jinja2

from course.grading.gradescope.config import CONFIG_NAME, AutograderConfig
from course.i18n import N_, _

DISTRIBUTION = "aws-messaging-course"
WHEEL_PREFIX = DISTRIBUTION.replace("-", "_")
EXECUTABLE = 0o755 << 16 | stat.S_IFREG << 16  # a zip entry's mode: an executable file
NOT_INSTALLED = N_(
    "The autograder is not installed (its setup.sh failed): tell your instructor. Your "
    "submission was not graded."
)

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("course.grading.gradescope", "templates"),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,  # shell scripts, not HTML
)


class BundleError(Exception):
    """The bundle cannot be built as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Bundle:
    """A built autograder zip: where, its config, and its size in bytes."""

    path: Path
    config: AutograderConfig
    size: int


def kit_version() -> str:
    """The version of the kit that runs this code."""
    return version(DISTRIBUTION)


def build_wheel(source: Path, into: Path) -> Path:
    """A wheel of the kit built from its source tree ``source`` (``pip wheel --no-deps``)."""
    if not (source / "pyproject.toml").exists():
        raise BundleError(
            f"{source} is not the kit's source tree: give --wheel, or --from-pypi once the kit "
            "is published"
        )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(into),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wheels = sorted(into.glob(f"{WHEEL_PREFIX}-*.whl"))
    if done.returncode != 0 or not wheels:
        raise BundleError(f"building the kit's wheel failed: {done.stderr.strip()[-500:]}")
    return wheels[0]


def wheel_version(wheel: Path) -> str:
    """The version a wheel's file name gives (``name-version-...whl``)."""
    parts = wheel.name.split("-")
    if len(parts) < 3 or parts[0] != WHEEL_PREFIX or wheel.suffix != ".whl":
        raise BundleError(f"{wheel.name} is not a wheel of {DISTRIBUTION}")
    return parts[1]


def build_bundle(
    config: AutograderConfig,
    out: Path,
    *,
    wheel: Path | None = None,
    from_pypi: bool = False,
    source: Path | None = None,
) -> Bundle:
    """Write the autograder zip for ``config`` to ``out``.

    Bundles ``wheel``, or one built from ``source`` (the kit's source tree), unless
    ``from_pypi``. The wheel's version must be ``config.version``: the bundle installs exactly
    the kit that built it.
    """
    with tempfile.TemporaryDirectory(prefix="course-bundle-") as scratch:
        if not from_pypi:
            if wheel is None:
                if source is None:
                    raise BundleError("no wheel to bundle: give --wheel or --from-pypi")
                wheel = build_wheel(source, Path(scratch))
            found = wheel_version(wheel)
            if found != config.version:
                raise BundleError(
                    f"{wheel.name} is version {found}, but this kit is {config.version}: "
                    "bundle a wheel of the kit that builds the bundle (reinstall it)"
                )
            config = replace(config, wheel=wheel.name)
        else:
            config = replace(config, wheel=None)
        values = {
            "version": config.version,
            "lab": config.lab,
            "wheel": config.wheel,
            # what results.json says when setup.sh failed, in the bundle's language
            "not_installed": json.dumps(_(NOT_INSTALLED, config.lang), ensure_ascii=False),
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in ("setup.sh", "run_autograder"):
                template = _templates.get_template(f"{name}.j2")
                _add(archive, name, template.render(values), executable=True)
            _add(archive, CONFIG_NAME, config.to_json())
            if wheel is not None and config.wheel is not None:
                archive.write(wheel, config.wheel)
    return Bundle(out, config, out.stat().st_size)


def _add(archive: zipfile.ZipFile, name: str, text: str, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = EXECUTABLE if executable else (0o644 | stat.S_IFREG) << 16
    archive.writestr(info, text)
