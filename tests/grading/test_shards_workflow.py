"""The GitHub Actions workflow shipped in grader/docs/: valid YAML, a matrix of shards 1..N,
and ``course`` commands whose options and values the real command line accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner
from course.cli import main

from tests.conftest import ROOT

WORKFLOW = ROOT / "grader" / "docs" / "github-actions-grade.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return list(workflow["jobs"][job]["steps"])


def course_commands(workflow: dict[str, Any], job: str, values: dict[str, str]) -> list[list[str]]:
    """The ``course`` command lines a job runs, with its ``${{ … }}`` expressions replaced by
    ``values`` (an expression without one fails the test)."""

    def value(match: re.Match[str]) -> str:
        return values[match[1]]

    commands = []
    for step in steps(workflow, job):
        for line in str(step.get("run", "")).replace("\\\n", " ").splitlines():
            words = shlex.split(re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", value, line))
            if words[:1] == ["course"]:
                commands.append(words[1:])
    return commands


def test_the_workflow_grades_a_matrix_of_shards_and_merges_them(workflow: dict[str, Any]) -> None:
    # PyYAML reads the bare key `on` as True (YAML 1.1); GitHub reads it as "on".
    trigger = workflow.get("on", workflow.get(True))
    assert set(trigger["workflow_dispatch"]["inputs"]) == {"lab", "submissions"}
    shards = workflow["jobs"]["grade"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)) and len(shards) > 1
    assert workflow["jobs"]["merge"]["needs"] == "grade"
    installs = " ".join(str(s.get("run", "")) for s in steps(workflow, "grade"))
    assert "apt-get install -y bubblewrap" in installs and "pip install ." in installs


@pytest.mark.parametrize("shard", [1, 4])
def test_each_shard_job_runs_a_course_grade_the_cli_accepts(
    workflow: dict[str, Any], shard: int, tmp_path: Path
) -> None:
    total = len(workflow["jobs"]["grade"]["strategy"]["matrix"]["shard"])
    values = {
        "inputs.lab": "01",
        "inputs.submissions": str(tmp_path),  # the folder must exist
        "matrix.shard": str(shard),
        "strategy.job-total": str(total),
    }
    (command,) = course_commands(workflow, "grade", values)
    assert command[0] == "grade"
    grade = main.commands["grade"]
    # click parses and validates the options and values as `course` would, without grading.
    params = grade.make_context("grade", command[1:]).params
    assert params["shard"].index == shard and params["shard"].count == total
    uploaded = [s for s in steps(workflow, "grade") if "upload-artifact" in s.get("uses", "")]
    assert uploaded[0]["with"]["path"].rstrip("/") == str(params["out"]).replace(
        str(shard), "${{ matrix.shard }}"
    )


def test_the_merge_job_runs_a_course_merge_the_cli_accepts(workflow: dict[str, Any]) -> None:
    (command,) = course_commands(workflow, "merge", {})
    assert command[0] == "merge"
    params = main.commands["merge"].make_context("merge", command[1:]).params
    downloaded = [s for s in steps(workflow, "merge") if "download-artifact" in s.get("uses", "")]
    folder = downloaded[0]["with"]["path"]
    assert all(str(p).startswith(f"{folder}/") for p in params["shards"])
    assert params["out"] == Path("grades")


@pytest.mark.parametrize(
    ("name", "options"), [("grade", ["--shard", "--out"]), ("merge", ["--out"])]
)
def test_the_options_it_uses_are_in_the_commands_help(name: str, options: list[str]) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    for option in options:
        assert option in result.output


def test_a_wrong_option_would_be_caught() -> None:
    with pytest.raises(click.UsageError):
        main.commands["grade"].make_context("grade", ["01", ".", "--shards", "1/4"])
