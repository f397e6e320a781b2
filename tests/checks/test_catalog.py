"""The catalog of labs: one ``Lab`` per notebook in solutions/, with its checks where it has
some, resolved from any spelling of its id, and the README's table of labs agreeing with it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from course.checks import catalog
from course.checks.catalog import Lab, UnknownLab, all_labs, normalize_lab, resolve_lab

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ROOT / "grader" / "course" / "checks" / "labs"
TABLE_ROW = re.compile(r"^\| (\d\d) \| ([^|]+?) \| [^|]+ \| ([^|]+?) \|$")

GRADED_IDS = "01, 02, 03, 04, 05, 06, 07, 08, 09, 10, 11"


def readme_labs() -> list[tuple[str, str, str]]:
    """(id, title, points) of each row of the README's table of labs."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## The labs\n", 1)[1].split("\n## ", 1)[0]
    rows = [m.groups() for line in section.splitlines() if (m := TABLE_ROW.match(line))]
    assert rows, "no table of labs under '## The labs' in README.md"
    return rows


def test_the_readme_table_of_labs_is_the_catalog() -> None:
    expected = [
        (lab.id, lab.title, f"{lab.max_points:g}" if lab.graded else "—") for lab in all_labs()
    ]
    assert readme_labs() == expected


def test_the_catalog_has_exactly_the_labs_in_solutions_each_with_its_checks() -> None:
    notebooks = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
    assert [lab.slug for lab in all_labs()] == notebooks
    modules = {p.stem[3:] for p in CHECKS.glob("lab[0-9][0-9].py")}
    assert modules and modules <= {lab.id for lab in all_labs()}
    for lab in all_labs():
        assert lab.solution == ROOT / "solutions" / f"{lab.slug}.ipynb"
        assert lab.notebook == ROOT / "labs" / f"{lab.slug}.ipynb" and lab.notebook.exists()
        assert lab.graded == (lab.id in modules), lab.id
        if lab.graded:
            assert lab.module == f"course.checks.labs.lab{lab.id}"
            assert lab.checks and all(c.lab == lab.id for c in lab.checks), lab.id
            assert lab.max_points == sum(c.points for c in lab.checks)
        else:
            assert lab.checks == () and lab.max_points == 0


def test_a_labs_title_is_its_notebooks() -> None:
    for lab in all_labs():
        assert lab.solution is not None
        metadata = json.loads(lab.solution.read_text(encoding="utf-8"))["metadata"]["course"]
        assert (metadata["lab"], metadata["title"]) == (lab.id, lab.title)


def test_the_lab_03_answers_are_read_from_its_checks_module() -> None:
    assert resolve_lab("03").answer_names == (
        "short_poll_requests_per_day",
        "long_poll_requests_per_day",
    )
    assert resolve_lab("01").answer_names == ()


@pytest.mark.parametrize("spelling", ["1", 1, "01", "lab01", "LAB1", " 01-sqs-basics ", "01_x"])
def test_every_spelling_resolves_to_the_one_lab(spelling: str | int) -> None:
    lab = resolve_lab(spelling)
    assert lab is resolve_lab("01") is resolve_lab(lab)
    assert (lab.id, lab.slug, lab.title) == ("01", "01-sqs-basics", "SQS basics")
    assert normalize_lab(spelling) == "01" == normalize_lab(lab)


@pytest.mark.parametrize(
    ("spelling", "message"),
    [
        ("x", "'x' is not a lab id; use a number such as 01"),
        ("42", f"there is no lab 42; the labs with checks are {GRADED_IDS}"),
        ("00", f"there is no lab 00; the labs with checks are {GRADED_IDS}"),
    ],
)
def test_an_unknown_or_ungraded_lab_is_named_with_the_labs_there_are(
    spelling: str, message: str
) -> None:
    with pytest.raises(UnknownLab) as caught:
        resolve_lab(spelling)
    assert str(caught.value) == message


def test_the_setup_lab_is_in_the_catalog_without_checks() -> None:
    setup = resolve_lab("0", graded=False)
    assert (setup.slug, setup.title, setup.graded, setup.module) == (
        "00-setup",
        "Setup",
        False,
        None,
    )
    with pytest.raises(UnknownLab, match="there is no lab 42; the labs are 00, 01"):
        resolve_lab("42", graded=False)
    with pytest.raises(UnknownLab, match="labs with checks"):
        resolve_lab(setup)


@pytest.fixture
def no_project_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The catalog as an installed kit sees it: no solutions/ beside the package."""
    loaders = (catalog._solutions, catalog._lab_ids, catalog._load)
    monkeypatch.setattr(catalog, "PROJECT_ROOT", tmp_path)
    for loader in loaders:
        loader.cache_clear()
    yield
    monkeypatch.undo()
    for loader in loaders:
        loader.cache_clear()


def test_without_the_project_tree_the_catalog_is_the_graded_labs(no_project_tree: None) -> None:
    labs = all_labs()
    assert [lab.id for lab in labs] == GRADED_IDS.split(", ")
    first: Lab = labs[0]
    assert (first.slug, first.title, first.solution, first.notebook) == (
        "01",
        "SQS basics",
        None,
        None,
    )
    assert resolve_lab("lab03").answer_names and resolve_lab("3").max_points == 10
