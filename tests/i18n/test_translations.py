"""Translated notebooks: cells keyed by id and sha, the same code in every language, stale
translations that fall back to English, ``labs/vi/`` built and checked for drift."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from course.build.translations import (
    Entry,
    TranslationError,
    build_translated,
    code_differences,
    dump,
    languages,
    load,
    markdown_differences,
    message_parameters,
    readable_text,
    source_sha,
    translation_file,
)
from course.cli import main

from tests.i18n.conftest import ROOT

ENGLISH = """import json

people = [{"name": "An", "age": 21}]  # three people
### BEGIN SOLUTION
for person in people:
    print("sent", json.dumps(person), f"to {queue_url} at {when}")
### END SOLUTION
raise TimeoutError(f"no message came within {within} s")
"""


@pytest.mark.parametrize(
    "translated",
    [
        ENGLISH.replace("# three people", "# ba người").replace('"sent"', '"đã gửi"'),
        # an f-string's placeholders may move with the sentence
        ENGLISH.replace('f"to {queue_url} at {when}"', 'f"lúc {when} tới {queue_url}"'),
        ENGLISH.replace("no message came within {within} s", "{within} giây không có message"),
        # comments may be added and lines broken differently
        "# Vietnamese\n"
        + ENGLISH.replace(
            'print("sent", json.dumps(person), f"to {queue_url} at {when}")',
            'print(\n        "đã gửi",\n        json.dumps(person),\n'
            '        f"tới {queue_url} lúc {when}",\n    )',
        ),
    ],
)
def test_a_translation_may_change_comments_and_messages(translated: str) -> None:
    assert code_differences(ENGLISH, translated) == []


@pytest.mark.parametrize(
    ("translated", "problem"),
    [
        (ENGLISH.replace('"name"', '"tên"'), "code differs"),  # a dict key is data, not a message
        (ENGLISH.replace("people", "nguoi"), "code differs"),
        (ENGLISH.replace("{queue_url}", "{queue_url!r}"), "code differs"),
        (ENGLISH.replace("### END SOLUTION\n", ""), "markers"),
        (ENGLISH.replace('"sent",', '"sent"'), "not valid Python"),
    ],
)
def test_a_translation_that_changes_the_code_is_refused(translated: str, problem: str) -> None:
    problems = code_differences(ENGLISH, translated)
    assert problems and problem in " ".join(problems)


def test_a_markdown_translation_keeps_its_answer_markers() -> None:
    english = "Why?\n<!-- BEGIN SOLUTION -->Because.<!-- END SOLUTION -->"
    translated = "Vì sao?\n<!-- BEGIN SOLUTION -->Vì.<!-- END SOLUTION -->"
    assert markdown_differences(english, translated) == []
    assert markdown_differences(english, "Vì sao?\nVì.") == ["the answer markers differ"]


@pytest.mark.parametrize(
    ("source", "readable"),
    [
        ("# three people\nx = 1\n", ["# three people"]),
        (
            "# By hand instead (uncomment and run):\n# sqs.purge_queue(QueueUrl=url)\n",
            ["# By hand instead (uncomment and run):"],
        ),
        # code commented out, a block's first line included, is not text to translate
        ('# for queue in ("a", "b"):\n#     sqs.delete_queue(QueueUrl=url(queue))\n', []),
        ("# if reply:\n#     print(reply)\n", []),
    ],
)
def test_commented_out_code_is_not_text_to_translate(source: str, readable: list[str]) -> None:
    assert readable_text(source) == readable


def committed_entries() -> list[tuple[str, str, Entry, str, str]]:
    """(language, notebook, entry, its cell's type, its cell's English) of every committed
    translation that is fresh."""
    found = []
    for lang in languages(ROOT):
        for path in sorted((ROOT / "solutions").glob("*.ipynb")):
            cells = {c.id: c for c in nbformat.read(path, as_version=4).cells}
            for cell_id, entry in load(translation_file(ROOT, lang, path.name)).items():
                cell = cells.get(cell_id)
                if cell is not None and entry.source_sha == source_sha(cell.source):
                    found.append((lang, path.name, entry, cell.cell_type, cell.source))
    return found


def test_every_committed_code_translation_is_the_same_code() -> None:
    entries = committed_entries()
    assert any(kind == "code" for *_, kind, _english in entries)
    messages = {
        path.name: message_parameters(nbformat.read(path, as_version=4))
        for path in (ROOT / "solutions").glob("*.ipynb")
    }

    def differences(name: str, english: str, entry: Entry) -> list[str]:
        return code_differences(english, entry.source, messages[name])

    wrong = {
        (lang, name): differences(name, english, entry)
        for lang, name, entry, kind, english in entries
        if kind == "code" and differences(name, english, entry)
    }
    assert wrong == {}


def test_every_committed_markdown_translation_keeps_its_markers() -> None:
    assert not [
        name
        for _lang, name, entry, kind, english in committed_entries()
        if kind == "markdown" and markdown_differences(english, entry.source)
    ]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A course folder with lab 01's solution and its Vietnamese translation."""
    (tmp_path / "solutions").mkdir()
    shutil.copy(ROOT / "solutions" / "01-sqs-basics.ipynb", tmp_path / "solutions")
    target = translation_file(tmp_path, "vi", "01-sqs-basics.ipynb")
    target.parent.mkdir(parents=True)
    shutil.copy(translation_file(ROOT, "vi", "01-sqs-basics.ipynb"), target)
    return tmp_path


def cell_source(path: Path, index: int) -> str:
    return str(nbformat.read(path, as_version=4).cells[index].source)


def test_the_vietnamese_copy_is_translated_and_stubbed(project: Path) -> None:
    result = build_translated(project, "vi")
    built = project / "labs" / "vi" / "01-sqs-basics.ipynb"
    assert result.written == [built]
    nb = nbformat.read(built, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "# Lab 01 · SQS cơ bản" in text
    assert "VIẾT CODE CỦA BẠN Ở ĐÂY" in text and "YOUR CODE HERE" not in text
    assert "sqs.purge_queue(QueueUrl=queue_url)" not in text  # the solution is stubbed
    assert build_translated(project, "vi").written == []  # a second build changes nothing


def test_a_stale_translation_falls_back_to_english(project: Path) -> None:
    solution_path = project / "solutions" / "01-sqs-basics.ipynb"
    solution = nbformat.read(solution_path, as_version=4)
    solution.cells[0].source += "\n\nA sentence added in English."
    nbformat.write(solution, solution_path)
    build_translated(project, "vi")
    built = project / "labs" / "vi" / "01-sqs-basics.ipynb"
    assert cell_source(built, 0) == solution.cells[0].source  # English, whole
    assert "Tạo hàng đợi" in cell_source(built, 3)  # the others stay translated


def test_a_translation_that_changes_the_code_stops_the_build(project: Path) -> None:
    path = translation_file(project, "vi", "01-sqs-basics.ipynb")
    entries = load(path)
    entry = entries["cell-14"]
    entries["cell-14"] = Entry(entry.source_sha, entry.source.replace("left == 0", "left <= 0"))
    path.write_text(dump(entries))
    with pytest.raises(TranslationError, match="cell-14"):
        build_translated(project, "vi")


def test_build_check_reports_drift_of_the_vietnamese_copy(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "pyproject.toml").write_text("")
    (project / "grader" / "docs").mkdir(parents=True)  # where the syllabus goes
    monkeypatch.chdir(project)
    runner = CliRunner()
    assert runner.invoke(main, ["build"]).exit_code == 0
    built = project / "labs" / "vi" / "01-sqs-basics.ipynb"
    assert built.exists() and (project / "labs" / "01-sqs-basics.ipynb").exists()
    built.write_text(built.read_text().replace("Tạo hàng đợi", "Tạo queue"))
    result = runner.invoke(main, ["build", "--check"])
    assert result.exit_code == 1
    assert "out of date: labs/vi/01-sqs-basics.ipynb" in result.output.replace("\n", " ")


def test_the_repository_vietnamese_labs_match_the_solutions() -> None:
    for lang in languages(ROOT):
        result = build_translated(ROOT, lang, check_only=True)
        assert not result.written and not result.stale, (result.written, result.stale)


def test_translation_files_are_readable_json_with_lines() -> None:
    path = translation_file(ROOT, "vi", "01-sqs-basics.ipynb")
    data = json.loads(path.read_text())
    assert all(isinstance(v["source"], list) and len(v["source_sha"]) == 64 for v in data.values())
