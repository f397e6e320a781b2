"""The syllabus is the labs' own definitions, written down: it cannot say what they do not."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from course.build.syllabus import (
    CHECKS_SUMMARY,
    SYLLABUS,
    build_syllabus,
    introduction,
    render_syllabus,
)
from course.checks.catalog import all_labs

from tests.conftest import ROOT


def test_the_committed_syllabus_is_what_the_labs_define() -> None:
    assert (ROOT / SYLLABUS).read_text() == render_syllabus(all_labs())


def test_every_check_is_in_the_syllabus_with_its_points_and_statement() -> None:
    text = render_syllabus(all_labs())
    for lab in all_labs():
        section = text.split(f"## {lab.id} · {lab.title}\n", 1)[1].split("\n## ", 1)[0]
        for check in lab.checks:
            row = f"| `{check.id}` | {check.points:g} | {check.kind} | "
            assert row in section, (lab.id, check.id)
            assert check.statement.replace("|", "\\|") in section
        if lab.graded:
            assert f"Checks ({lab.max_points:g} points):" in section
        else:
            assert "No checks" in section


def test_a_changed_check_changes_the_syllabus() -> None:
    labs = list(all_labs())
    graded = next(i for i, lab in enumerate(labs) if lab.graded)
    first = labs[graded].checks[0]
    changed = replace(first, points=first.points + 1, statement="Something else entirely.")
    labs[graded] = replace(labs[graded], checks=(changed, *labs[graded].checks[1:]))
    assert render_syllabus(labs) != render_syllabus(all_labs())
    assert "Something else entirely." in render_syllabus(labs)


def test_each_notebooks_own_summary_of_its_checks_matches_them() -> None:
    """A lab's introduction lists its checks and points; they must be the checks it has."""
    for lab in all_labs():
        summaries = [p for p in introduction(lab) if p.startswith(CHECKS_SUMMARY)]
        if not lab.graded:
            assert not summaries, lab.id
            continue
        assert len(summaries) == 1, (lab.id, summaries)
        summary = " ".join(summaries[0].split())
        assert summary.startswith(f"Checks ({lab.max_points:g} points): "), (lab.id, summary)
        listed = re.findall(r"`([\w-]+)` (\d+(?:\.\d+)?)", summary)
        assert listed == [(c.id, f"{c.points:g}") for c in lab.checks], (lab.id, listed)


def test_build_check_says_the_syllabus_is_current() -> None:
    course = Path(sys.executable).with_name("course")
    run = subprocess.run(
        [str(course), "build", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{SYLLABUS} is current" in run.stdout


def test_a_syllabus_edited_by_hand_is_drift_and_the_build_rewrites_it(tmp_path: Path) -> None:
    (tmp_path / SYLLABUS).parent.mkdir(parents=True)
    assert build_syllabus(tmp_path, all_labs())  # written
    assert not build_syllabus(tmp_path, all_labs(), check_only=True)  # current
    target = tmp_path / SYLLABUS
    target.write_text(target.read_text().replace("## 01 ·", "## 01 (edited by hand) ·"))
    edited = target.read_text()
    assert build_syllabus(tmp_path, all_labs(), check_only=True)  # drift found...
    assert target.read_text() == edited  # ...and nothing written
    assert build_syllabus(tmp_path, all_labs())
    assert target.read_text() == render_syllabus(all_labs())
