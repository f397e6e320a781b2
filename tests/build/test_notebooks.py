"""The student copy is generated from the solution: markers, stubs, repeatability, drift checks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from course.build.notebooks import (
    MarkerError,
    build_labs,
    notebooks_with_outputs,
    serialize,
    stub_code,
    student_copy,
)

from tests.conftest import ROOT


def test_a_solution_block_becomes_a_loud_stub_with_its_indentation() -> None:
    source = "x = 1\nif x:\n    ### BEGIN SOLUTION\n    y = 2\n    ### END SOLUTION\nprint(x)"
    stubbed = stub_code(source)
    assert "y = 2" not in stubbed
    assert "    raise NotImplementedError(" in stubbed
    assert stubbed.startswith("x = 1\nif x:\n") and stubbed.endswith("print(x)")
    namespace: dict[str, object] = {}
    with pytest.raises(NotImplementedError):
        exec(compile(stubbed, "cell", "exec"), namespace)


@pytest.mark.parametrize(
    "source",
    [
        "### BEGIN SOLUTION\nx = 1",
        "x = 1\n### END SOLUTION",
        "### BEGIN SOLUTION\n### BEGIN SOLUTION\n",
    ],
)
def test_unbalanced_markers_are_refused(source: str) -> None:
    with pytest.raises(MarkerError):
        stub_code(source)


def _solution() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(metadata={"course": {"lab": "99"}, "widgets": {"x": 1}})
    nb.cells = [
        nbformat.v4.new_markdown_cell("Why? <!-- BEGIN SOLUTION -->Because.<!-- END SOLUTION -->"),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"),
        nbformat.v4.new_code_cell("print('instructor only')", metadata={"tags": ["solution-only"]}),
    ]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="leak")]
    nb.cells[1].execution_count = 3
    return nb


def test_student_copy_strips_answers_outputs_and_hidden_cells() -> None:
    copy = student_copy(_solution())
    text = serialize(copy)
    assert "Because" not in text and "answer = 42" not in text and "instructor only" not in text
    assert "leak" not in text and copy.cells[1].execution_count is None
    assert copy.metadata == {"course": {"lab": "99"}}
    assert len(copy.cells) == 2


def test_building_twice_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "solutions").mkdir()
    nbformat.write(_solution(), tmp_path / "solutions" / "99-test.ipynb")
    first = build_labs(tmp_path)
    assert [p.name for p in first.written] == ["99-test.ipynb"]
    content = (tmp_path / "labs" / "99-test.ipynb").read_text()
    second = build_labs(tmp_path)
    assert second.written == [] and len(second.unchanged) == 1
    assert (tmp_path / "labs" / "99-test.ipynb").read_text() == content


def test_check_mode_reports_drift_without_writing(tmp_path: Path) -> None:
    (tmp_path / "solutions").mkdir()
    nbformat.write(_solution(), tmp_path / "solutions" / "99-test.ipynb")
    build_labs(tmp_path)
    lab = tmp_path / "labs" / "99-test.ipynb"
    lab.write_text(lab.read_text().replace("YOUR CODE HERE", "edited by hand"))
    result = build_labs(tmp_path, check_only=True)
    assert result.written == [lab]
    assert "edited by hand" in lab.read_text()


def test_notebooks_with_outputs_are_found(tmp_path: Path) -> None:
    nbformat.write(_solution(), tmp_path / "dirty.ipynb")
    nbformat.write(student_copy(_solution()), tmp_path / "clean.ipynb")
    assert notebooks_with_outputs([tmp_path / "dirty.ipynb", tmp_path / "clean.ipynb"]) == [
        tmp_path / "dirty.ipynb"
    ]


def test_the_repository_labs_match_the_solutions_and_have_no_outputs() -> None:
    """What CI enforces: `course build --check` passes on the committed tree."""
    result = subprocess.run(
        [sys.executable, "-m", "course.cli", "build", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_every_solution_has_lab_metadata_and_a_check_cell() -> None:
    from course.checks.catalog import all_labs

    graded = [lab.id for lab in all_labs() if lab.graded]
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        lab = nb.metadata["course"]["lab"]
        assert path.name.startswith(f"{lab}-")
        if lab in graded:
            assert any(f'check("{lab}")' in c.source for c in nb.cells), path.name


def unescaped_dollars(markdown: str) -> list[str]:
    """Each ``$`` JupyterLab's Markdown would take as the start or end of LaTeX maths (outside
    code, not written ``\\$``), with a little context."""
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r".{0,20}(?<!\\)\$.{0,20}", text)


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "solutions").glob("*.ipynb")) + sorted((ROOT / "labs").glob("*.ipynb")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_markdown_dollar_renders_as_maths(path: Path) -> None:
    """ "$0.10 per 1,000 emails, $0.12 per GB" is LaTeX to JupyterLab: prices are written \\$."""
    nb = nbformat.read(path, as_version=4)
    found = [
        (i, hit)
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown"
        for hit in unescaped_dollars(cell.source)
    ]
    assert not found, f"escape these as \\$: {found}"


def test_the_dollar_check_catches_a_price_pair_and_spares_code_and_escapes() -> None:
    assert unescaped_dollars("costs $0.10 per 1,000 and $0.12 per GB")
    assert not unescaped_dollars("costs \\$0.10 per 1,000 and \\$0.12 per GB")
    assert not unescaped_dollars("the `$or` operator and ```\nprint('$1')\n```")
