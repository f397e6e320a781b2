"""Sharded grading: ``course grade --shard K/N`` grades a deterministic share, and
``course merge`` puts the shards back together as one run of the whole folder would have
written it, or says clearly why it cannot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from course.cli import EXIT_FAILED, EXIT_INCOMPLETE, main
from course.grading.shards import MANIFEST, Shard

from tests.conftest import ROOT, notebook_file
from tests.grading.test_parallel import sleep_free_solution

#: Lab 01's first point: the standard queue, made with no more.
PARTIAL = 'import boto3\nboto3.client("sqs").create_queue(QueueName="lab-standard-queue")'
#: Fields that measure one run's wall time: the submission's own grading time.
RUN_SPECIFIC = {"duration", "execution_time"}


# ----------------------------------------------------------------------------- the split


@pytest.mark.parametrize(
    ("text", "index", "count"), [("1/1", 1, 1), ("2/3", 2, 3), (" 3 / 3", 3, 3)]
)
def test_a_shard_is_written_k_of_n(text: str, index: int, count: int) -> None:
    assert Shard.parse(text) == Shard(index, count)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0/3", "between 1 and N"),
        ("4/3", "between 1 and N"),
        ("1/0", "1 or more"),
        ("2", "K/N"),
        ("a/b", "K/N"),
        ("-1/3", "K/N"),
    ],
)
def test_a_shard_that_is_not_k_of_n_says_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Shard.parse(text)


@pytest.mark.parametrize("count", [1, 2, 3, 7])
@pytest.mark.parametrize("size", [0, 1, 5, 22])
def test_every_submission_lands_in_exactly_one_shard_and_shards_are_even(
    size: int, count: int
) -> None:
    paths = [Path(f"s{n:02}.ipynb") for n in range(size)]
    shares = [Shard(k, count).select(paths) for k in range(1, count + 1)]
    assert sorted(p for share in shares for p in share) == paths
    assert max(map(len, shares)) - min(map(len, shares)) <= 1
    assert shares == [Shard(k, count).select(paths) for k in range(1, count + 1)]  # stable


@pytest.mark.parametrize(
    ("value", "message"), [("0/3", "between 1 and N"), ("4/3", "between 1 and N"), ("3", "K/N")]
)
def test_a_bad_shard_option_is_a_usage_error(tmp_path: Path, value: str, message: str) -> None:
    notebook_file(tmp_path / "a.ipynb", ["1"], lab="01")
    result = CliRunner().invoke(
        main, ["grade", "01", str(tmp_path), "--out", str(tmp_path / "o"), "--shard", value]
    )
    assert result.exit_code == 2, result.output
    assert "--shard" in said(result) and message in said(result)
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------- grade and merge


def broken(path: Path) -> Path:
    path.write_text("{ not a notebook")
    return path


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Lab 01 submissions as CLI sources: right, untouched, partial and broken work in a
    folder, and two ``hw.ipynb`` in subfolders (another lab's, and a broken one) whose report
    names depend on the whole class."""
    folder = tmp_path_factory.mktemp("class")
    sleep_free_solution(folder / "a-right.ipynb")
    shutil.copy(ROOT / "labs" / "01-sqs-basics.ipynb", folder / "b-untouched.ipynb")
    notebook_file(folder / "c-partial.ipynb", [PARTIAL], lab="01")
    broken(folder / "d-broken.ipynb")
    for sub in ("e", "f"):
        (folder / sub).mkdir()
    notebook_file(folder / "e" / "hw.ipynb", ["1"], lab="02")
    broken(folder / "f" / "hw.ipynb")
    return [str(folder), str(folder / "e"), str(folder / "f")]


def grade(sources: list[str], out: Path, *extra: str, lab: str = "01") -> None:
    result = CliRunner().invoke(main, ["grade", lab, *sources, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def runs(classroom: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The class graded once whole, and once in three shards."""
    base = tmp_path_factory.mktemp("runs")
    grade(classroom, base / "whole", "-j", "2")
    for k in (1, 2, 3):
        grade(classroom, base / f"shard{k}", "--shard", f"{k}/3")
    return {name: base / name for name in ("whole", "shard1", "shard2", "shard3")}


def merge(*sources: Path, out: Path) -> Result:
    return CliRunner().invoke(main, ["merge", *map(str, sources), "--out", str(out)])


def said(result: Result) -> str:
    """What a command printed, with the console's line wrapping undone."""
    return " ".join(result.output.split())


def without_run_times(data: object) -> object:
    if isinstance(data, dict):
        return {k: without_run_times(v) for k, v in data.items() if k not in RUN_SPECIFIC}
    if isinstance(data, list):
        return [without_run_times(v) for v in data]
    return data


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_each_shard_grades_its_share_named_over_the_whole_class(runs: dict[str, Path]) -> None:
    shares = {}
    for k in (1, 2, 3):
        summary = json.loads((runs[f"shard{k}"] / "summary.json").read_text())
        shares[k] = [s["student"] for s in summary["submissions"]]
    assert shares == {
        1: ["a-right", "d-broken"],
        2: ["b-untouched", "e-hw"],
        3: ["c-partial", "f-hw"],
    }
    manifest = json.loads((runs["shard2"] / MANIFEST).read_text())
    assert (manifest["lab"], manifest["shard"], manifest["shards"]) == ("01", 2, 3)
    assert [s["shard"] for s in manifest["submissions"]] == [1, 2, 3, 1, 2, 3]


def test_merged_shards_are_one_run_byte_for_byte(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "all"
    result = merge(runs["shard3"], runs["shard1"], runs["shard2"], out=out)  # any order
    assert result.exit_code == 0, result.output
    whole = runs["whole"]
    assert files(out) == files(whole)
    assert (out / "grades.csv").read_bytes() == (whole / "grades.csv").read_bytes()
    assert (out / "summary.json").read_bytes() == (whole / "summary.json").read_bytes()
    scores = [s["score"] for s in json.loads((out / "summary.json").read_text())["submissions"]]
    assert scores == [10, 0, 1, 0, 0, 0]
    for name in files(whole):
        if name.endswith("executed.ipynb"):
            continue  # outputs carry the run's own message ids and times
        merged, single = (out / name).read_bytes(), (whole / name).read_bytes()
        if name.endswith(".json"):
            assert without_run_times(json.loads(merged)) == without_run_times(json.loads(single))
        else:
            assert merged == single, name


def test_a_missing_shard_is_merged_without_and_its_submissions_are_named(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "all"
    result = merge(runs["shard1"], runs["shard3"], out=out)
    assert result.exit_code == EXIT_INCOMPLETE, result.output
    assert "2/3 missing" in said(result)
    assert "b-untouched (b-untouched.ipynb, shard 2/3)" in said(result)
    assert "e-hw (hw.ipynb, shard 2/3)" in said(result)
    summary = json.loads((out / "summary.json").read_text())
    assert [s["student"] for s in summary["submissions"]] == [
        "a-right",
        "c-partial",
        "d-broken",
        "f-hw",
    ]


def test_the_same_shard_twice_is_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    again = tmp_path / "shard1-again"
    shutil.copytree(runs["shard1"], again)
    result = merge(runs["shard1"], again, runs["shard2"], runs["shard3"], out=tmp_path / "all")
    assert result.exit_code == EXIT_FAILED
    assert "shard 1/3 given twice" in said(result)
    assert not (tmp_path / "all").exists()


def test_a_merge_goes_into_a_new_folder(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "all"
    out.mkdir()
    (out / "old-student.json").write_text("{}")
    result = merge(runs["shard1"], runs["shard2"], runs["shard3"], out=out)
    assert result.exit_code == EXIT_FAILED and "is not empty" in said(result)
    result = merge(runs["shard1"], runs["shard2"], runs["shard3"], out=runs["shard2"])
    assert result.exit_code == EXIT_FAILED and "must not be one of the shard" in said(result)
    assert sorted(p.name for p in out.iterdir()) == ["old-student.json"]


def test_a_whole_run_is_not_a_shard(runs: dict[str, Path], tmp_path: Path) -> None:
    result = merge(runs["whole"], runs["shard1"], out=tmp_path / "all")
    assert result.exit_code == EXIT_FAILED
    assert "not a shard's output" in said(result) and "--shard K/N" in said(result)


@pytest.mark.parametrize(
    ("lab", "message"),
    [("02", "outputs of different labs"), ("01", "graded different lists of submissions")],
)
def test_shards_of_another_lab_or_folder_are_refused(
    runs: dict[str, Path], classroom: list[str], tmp_path: Path, lab: str, message: str
) -> None:
    other = tmp_path / "other"
    grade([str(Path(classroom[0]) / "d-broken.ipynb")], other, "--shard", "1/3", lab=lab)
    result = merge(other, runs["shard2"], runs["shard3"], out=tmp_path / "all")
    assert result.exit_code == EXIT_FAILED
    assert message in said(result)
    assert not (tmp_path / "all").exists()


def test_an_empty_shard_is_an_output_too(tmp_path: Path) -> None:
    folder = tmp_path / "two"
    folder.mkdir()
    broken(folder / "x.ipynb")
    broken(folder / "y.ipynb")
    for k in (1, 2, 3):
        grade([str(folder)], tmp_path / f"s{k}", "--shard", f"{k}/3")
    assert json.loads((tmp_path / "s3" / "summary.json").read_text())["submissions"] == []
    result = merge(tmp_path / "s1", tmp_path / "s2", tmp_path / "s3", out=tmp_path / "all")
    assert result.exit_code == 0, result.output
    grade([str(folder)], tmp_path / "whole")
    for name in ("grades.csv", "summary.json"):
        assert (tmp_path / "all" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
