"""The Gradescope autograder: the bundle's layout, the notebook it picks, results.json as
Gradescope documents it, and the bundle itself installed and run in a root laid out like
Gradescope's ``/autograder`` on right, wrong and broken submissions."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import pytest
from click.testing import CliRunner
from course.checks.catalog import resolve_lab
from course.cli import main
from course.grading.grade import Grade, Refused
from course.grading.gradescope.autograder import choose_notebook
from course.grading.gradescope.bundle import kit_version
from course.grading.gradescope.config import CONFIG_NAME, AutograderConfig
from course.grading.reports import gradescope_results

from tests.conftest import ROOT
from tests.grading.test_parallel import sleep_free_solution

SCHEMA = json.loads((Path(__file__).with_name("gradescope_results.schema.json")).read_text())
SOLUTION = ROOT / "solutions" / "01-sqs-basics.ipynb"
STUDENT_COPY = ROOT / "labs" / "01-sqs-basics.ipynb"
LAB_02_NOTEBOOK = nbformat.writes(
    nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("1")], metadata={"course": {"lab": "02"}}
    )
)
WHEEL = f"aws_messaging_course-{kit_version()}-py3-none-any.whl"


def valid(results: dict[str, Any]) -> dict[str, Any]:
    """``results`` after checking it against Gradescope's documented fields."""
    jsonschema.validate(results, SCHEMA)
    return results


# ----------------------------------------------------------------------------- the schema


@pytest.mark.parametrize(
    "bad",
    [
        {"score": 1, "visibility": "soon"},
        {"score": 1, "tests": [{"score": 1, "status": "ok"}]},
        {"score": 1, "tests": [{"score": 1, "points": 1}]},
        {"output": "no score anywhere"},
        {"score": "10"},
    ],
)
def test_the_schema_rejects_what_gradescope_does_not_document(bad: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


# ----------------------------------------------------------------------------- which notebook


def files_in(folder: Path, *names: str) -> Path:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    return folder


@pytest.mark.parametrize(
    ("names", "expected", "chosen"),
    [
        (["mine.ipynb", "notes.txt"], None, "mine.ipynb"),
        (
            ["work/lab/mine.ipynb", "work/.ipynb_checkpoints/mine-checkpoint.ipynb"],
            None,
            "mine.ipynb",
        ),
        (["01-sqs-basics.ipynb", "scratch.ipynb"], "01-sqs-basics.ipynb", "01-sqs-basics.ipynb"),
    ],
)
def test_the_notebook_graded_is_the_one_there_or_the_one_named(
    tmp_path: Path, names: list[str], expected: str | None, chosen: str
) -> None:
    assert choose_notebook(files_in(tmp_path, *names), expected).name == chosen


@pytest.mark.parametrize(
    ("names", "expected", "says"),
    [
        ([], None, "no notebook (.ipynb) in the submission (found: nothing)"),
        (
            ["lab.py", "README.md"],
            None,
            "no notebook (.ipynb) in the submission (found: README.md, lab.py)",
        ),
        (["a.ipynb", "b/c.ipynb"], None, "holds 2 notebooks (found: a.ipynb, b/c.ipynb)"),
        (["scratch.ipynb"], "01-sqs-basics.ipynb", "no 01-sqs-basics.ipynb in the submission"),
        (["x/lab.ipynb", "y/lab.ipynb"], "lab.ipynb", "holds 2 copies of lab.ipynb"),
    ],
)
def test_no_notebook_two_or_the_wrong_name_are_refused_with_what_was_found(
    tmp_path: Path, names: list[str], expected: str | None, says: str
) -> None:
    with pytest.raises(Refused) as refused:
        choose_notebook(files_in(tmp_path / "submission", *names), expected)
    assert says in refused.value.reason


# ----------------------------------------------------------------------------- results.json


def refused_grade(reason: str = "no notebook") -> Grade:
    lab = resolve_lab("01")
    return Grade.refused(
        Refused("unreadable", reason, reason),
        student="submission",
        path=Path("submission"),
        lab=lab,
        duration=1.5,
        isolated=True,
    )


def test_results_have_one_test_per_check_and_the_feedback() -> None:
    grade = refused_grade()
    results = valid(gradescope_results(grade))
    assert [t["name"] for t in results["tests"]] == [c.qualified_id for c in grade.lab.checks]
    assert {t["visibility"] for t in results["tests"]} == {"visible"}
    assert all(t["score"] == 0 and t["status"] == "failed" for t in results["tests"])
    assert results["extra_data"]["summary"] == "no notebook"
    assert "Hint:" in results["tests"][0]["output"] and "**Hint:**" in results["output"]


def test_hints_can_wait_for_the_due_date() -> None:
    grade = refused_grade()
    results = valid(gradescope_results(grade, hints="after_due_date", visibility="after_published"))
    checks = [t for t in results["tests"] if "score" in t]
    hints = [t for t in results["tests"] if "score" not in t]
    assert len(checks) == len(hints) == len(grade.lab.checks)
    assert all("Hint" not in t["output"] for t in checks) and "Hint" not in results["output"]
    assert {t["visibility"] for t in checks} == {"after_published"}
    assert {t["visibility"] for t in hints} == {"after_due_date"}
    assert [t["output"] for t in hints] == [c.hint for c in grade.lab.checks]


# ----------------------------------------------------------------------------- the bundle


def bundle(tmp_path: Path, *options: str) -> tuple[zipfile.ZipFile, AutograderConfig]:
    out = tmp_path / "autograder.zip"
    result = CliRunner().invoke(main, ["gradescope", "01", "--out", str(out), *options])
    assert result.exit_code == 0, result.output
    archive = zipfile.ZipFile(out)
    return archive, AutograderConfig(**json.loads(archive.read(CONFIG_NAME)))


def test_the_bundle_has_gradescopes_layout_and_the_kit_inside(tmp_path: Path) -> None:
    archive, config = bundle(tmp_path, "--notebook", "01-sqs-basics.ipynb", "--hints", "hidden")
    assert sorted(archive.namelist()) == sorted(["setup.sh", "run_autograder", CONFIG_NAME, WHEEL])
    for script in ("setup.sh", "run_autograder"):
        mode = archive.getinfo(script).external_attr >> 16
        assert mode & stat.S_IXUSR and archive.read(script).startswith(b"#!/usr/bin/env bash")
    assert config == AutograderConfig(
        lab="01",
        version=kit_version(),
        notebook="01-sqs-basics.ipynb",
        hints="hidden",
        wheel=WHEEL,
    )
    assert f"$SOURCE/{WHEEL}" in archive.read("setup.sh").decode()


def test_a_bundle_from_pypi_pins_the_kits_version(tmp_path: Path) -> None:
    archive, config = bundle(tmp_path, "--from-pypi")
    assert config.wheel is None and WHEEL not in archive.namelist()
    assert f"aws-messaging-course=={kit_version()}" in archive.read("setup.sh").decode()


@pytest.mark.parametrize(
    ("options", "code", "says"),
    [
        (["--from-pypi", "--wheel", __file__], 2, "contradict"),
        (["--wheel", __file__], 1, "is not a wheel of aws-messaging-course"),
        (["--hints", "later"], 2, "'later' is not one of"),
    ],
)
def test_bad_bundle_options_say_why(
    tmp_path: Path, options: list[str], code: int, says: str
) -> None:
    result = CliRunner().invoke(
        main, ["gradescope", "01", "--out", str(tmp_path / "a.zip"), *options]
    )
    assert result.exit_code == code and says in " ".join(result.output.split())
    assert not (tmp_path / "a.zip").exists()


def test_a_wheel_of_another_version_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "aws_messaging_course-9.9.9-py3-none-any.whl"
    other.write_bytes(b"")
    result = CliRunner().invoke(
        main, ["gradescope", "01", "--out", str(tmp_path / "a.zip"), "--wheel", str(other)]
    )
    assert result.exit_code == 1 and "is version 9.9.9" in " ".join(result.output.split())


# ------------------------------------------------------------------ on a fake /autograder


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root laid out like Gradescope's ``/autograder``: the bundle (built by ``course
    gradescope`` with hints hidden until the due date) unpacked in ``source/``, and its
    ``setup.sh`` run as Gradescope runs it, but with ``COURSE_SKIP_APT=1`` (bubblewrap is
    installed here; apt needs root and the network) and this interpreter's base Python.

    setup.sh makes a fresh venv under the root and installs the bundled wheel with its
    dependencies from the configured index, as on Gradescope: nothing of the project's own
    venv is shared, so a dependency missing from the wheel's metadata or a template left out
    of the package fails here. It takes about a minute; PIP_NO_COMPILE skips byte-compiling,
    which Python does on first import anyway.
    """
    root = tmp_path_factory.mktemp("autograder")
    archive, _ = bundle(root, "--hints", "after_due_date")
    archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    env = {
        **os.environ,
        "COURSE_AUTOGRADER_ROOT": str(root),
        "COURSE_SKIP_APT": "1",
        "COURSE_PYTHON": getattr(sys, "_base_executable", sys.executable),
        "PIP_NO_COMPILE": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    started = time.monotonic()
    done = subprocess.run(
        [str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"setup.sh took {time.monotonic() - started:.0f} s")
    assert (root / "course-venv" / "bin" / "python").exists()
    return root


def run_autograder(
    root: Path, put: dict[str, Path | str], path: str | None = None
) -> dict[str, Any]:
    """Gradescope's turn: ``put`` (name → a file to copy, or text) in ``submission/``, then
    ``run_autograder`` in the root; its results.json, validated."""
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    submission.mkdir()
    for name, what in put.items():
        target = submission / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(what, Path):
            shutil.copy(what, target)
        else:
            target.write_text(what)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "VIRTUAL_ENV"))}
    env["COURSE_AUTOGRADER_ROOT"] = str(root)
    if path is not None:
        env["PATH"] = path
    done = subprocess.run(
        ["/bin/bash", str(root / "source" / "run_autograder")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return valid(json.loads((root / "results" / "results.json").read_text()))


def scored(results: dict[str, Any]) -> list[tuple[str, float]]:
    return [(t["name"], t["score"]) for t in results["tests"] if "score" in t]


@pytest.mark.slow
def test_a_right_notebook_gets_full_marks(autograder: Path, tmp_path: Path) -> None:
    results = run_autograder(autograder, {"my answers.ipynb": SOLUTION})
    assert results["score"] == 10 == sum(t["max_score"] for t in results["tests"] if "score" in t)
    assert all(t["status"] == "passed" for t in results["tests"])
    assert results["extra_data"] == {
        "lab": "01",
        "status": "completed",
        "summary": results["extra_data"]["summary"],
        "isolated": True,
    }
    assert "Score: 10 / 10" in results["output"]
    # Another right one: no waiting out the visibility timeout, in a folder of its own.
    other = sleep_free_solution(tmp_path / "lab01.ipynb")
    assert run_autograder(autograder, {"work/lab01.ipynb": other})["score"] == 10


@pytest.mark.slow
def test_a_wrong_notebook_gets_its_checks_and_hints_after_the_due_date(autograder: Path) -> None:
    results = run_autograder(autograder, {"01-sqs-basics.ipynb": STUDENT_COPY})
    assert results["score"] == 0
    hints = [t for t in results["tests"] if "score" not in t]
    assert hints and {t["visibility"] for t in hints} == {"after_due_date"}
    assert "Hint" not in results["output"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("put", "says"),
    [
        ({"lab.ipynb": "{ not json"}, "not a readable notebook"),
        ({"notes.txt": "I ran out of time"}, "no notebook (.ipynb) in the submission"),
        ({"a.ipynb": SOLUTION, "b.ipynb": STUDENT_COPY}, "holds 2 notebooks"),
        ({"lab.ipynb": LAB_02_NOTEBOOK}, "lab 02's, not lab 01's"),
    ],
)
def test_broken_missing_doubled_or_wrong_lab_submissions_get_a_clear_zero(
    autograder: Path, put: dict[str, Path | str], says: str
) -> None:
    results = run_autograder(autograder, put)
    assert results["score"] == 0
    assert says in results["extra_data"]["summary"] and says in results["output"]
    assert scored(results) == [(c.qualified_id, 0) for c in resolve_lab("01").checks]


@pytest.mark.slow
def test_without_a_sandbox_it_grades_and_says_so(autograder: Path, tmp_path: Path) -> None:
    # No bwrap on PATH: as in a container that allows no user namespaces.
    results = run_autograder(autograder, {"lab.ipynb": SOLUTION}, path=str(tmp_path))
    assert results["score"] == 10
    assert results["extra_data"]["isolated"] is False
    assert results["output"].startswith("Graded without the kit's sandbox")
    assert "Not isolated" in results["output"]
